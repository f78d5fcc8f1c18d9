"""Digest state written by several transactions at once, on PostgreSQL (where they truly
overlap): a person's unsubscribe token is made once, however many builds ask for it at once."""

import threading

from network.db import make_engine, make_session_factory
from network.digests import tokens
from network.uow import UnitOfWork
from tests import factories

SECRET = "s" * 48


def test_builds_at_once_give_a_new_person_one_token_that_works(committed_database_url):
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        person = factories.person(setup.session)
        setup.commit()
        person_id = person.id
    n = 4
    barrier = threading.Barrier(n)
    made: list = [None] * n

    def build(i: int) -> None:
        with UnitOfWork(factory) as uow:
            tokens.preference_row(uow, person_id)  # the row, as a build reads it first
            uow.commit()
        with UnitOfWork(factory) as uow:
            uow.session.get(tokens.DigestPreference, person_id)
            barrier.wait(5)
            made[i] = tokens.token_for(uow, SECRET, person_id)
            uow.commit()

    threads = [threading.Thread(target=build, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert None not in made and len(set(made)) == 1
    with UnitOfWork(factory) as uow:
        assert tokens.preference_of_token(uow, SECRET, made[0]) is not None
    engine.dispose()


def _news_for_a_reader(factory) -> int:
    """A reader of a PCN board on which a colleague of another practice posted: news."""
    with UnitOfWork(factory) as setup:
        s = setup.session
        fed = factories.organisation(s, "federation")
        pcn = factories.organisation(s, "pcn", fed)
        one = factories.organisation(s, "practice", pcn)
        two = factories.organisation(s, "practice", pcn)
        reader = factories.person(s, member_of=one)
        poster = factories.person(s, member_of=two)
        factories.problem(s, poster, pcn, title="Phones at 8am", body="Every day.")
        setup.commit()
        return reader.id


def _claimed(factory, person_id: int, period: str, at) -> int:
    """A digest row claimed at `at` (its window ending then): its id."""
    from network.digests.models import Digest, DigestStatus

    with UnitOfWork(factory) as setup:
        row = Digest(
            person_id=person_id,
            period=period,
            status=DigestStatus.claimed,
            window_start=at,
            window_end=at,
            items=0,
            claimed_at=at,
            attempts=1,
        )
        setup.session.add(row)
        setup.commit()
        return row.id


def test_the_same_digest_job_run_at_once_sends_one_email(committed_database_url, tmp_path):
    """Duplicate jobs (two schedulers, a retry beside a re-run) for one person and period,
    started together on separate connections: one claims and sends, the others skip."""
    from dataclasses import replace

    from dispatch import runtime
    from network.config import Settings
    from network.db import utcnow
    from network.digests.models import Digest
    from workers import digests

    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    reader_id = _news_for_a_reader(factory)
    settings = replace(
        Settings.from_env({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": committed_database_url}),
        secret_key=SECRET,
    )
    saved = runtime._current
    runtime.configure(settings, factory)
    try:
        n = 4
        barrier = threading.Barrier(n)
        outcomes: list = [None] * n

        def send(i: int) -> None:
            barrier.wait(5)
            outcomes[i] = digests.send_digest(reader_id, now=utcnow())

        threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        runtime._current = saved
    assert sorted(outcomes) == ["sent"] + ["skipped"] * (n - 1), outcomes
    assert len(list(settings.outbox_path.glob("*.eml"))) == 1
    with UnitOfWork(factory) as uow:
        [row] = uow.session.query(Digest).filter_by(person_id=reader_id).all()
        assert (str(row.status), row.attempts) == ("sent", 1)
    engine.dispose()


def test_a_stale_claim_taken_over_at_once_is_taken_once(committed_database_url):
    """Several runs find the same dead worker's claim at the same moment: the conditional
    UPDATE lets exactly one of them hold it."""
    from datetime import timedelta

    from network.db import utcnow
    from network.digests import claims
    from network.digests.models import Digest

    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    reader_id = _news_for_a_reader(factory)
    long_ago = utcnow() - timedelta(hours=1)
    row_id = _claimed(factory, reader_id, "2026-W50", long_ago)
    n = 6
    barrier = threading.Barrier(n)
    taken: list = [None] * n

    def take(i: int) -> None:
        with UnitOfWork(factory) as uow:
            mine = uow.session.get(Digest, row_id)  # every run read it stale
            barrier.wait(5)
            taken[i] = claims.take_over(
                uow.session, Digest, mine, stale_before=utcnow() - timedelta(minutes=5)
            )
            uow.commit()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert taken.count(True) == 1 and taken.count(False) == n - 1, taken
    with UnitOfWork(factory) as uow:
        assert uow.session.get(Digest, row_id).attempts == 2
    engine.dispose()


def test_a_digest_marked_sent_is_committed_at_once_in_one_statement(committed_database_url):
    """A worker marks each digest the moment the mail server took it: on PostgreSQL one
    statement in autocommit (not BEGIN, SET LOCAL, UPDATE, COMMIT), visible to everyone before
    the next email goes, on a connection that goes back to the pool as it came."""

    from sqlalchemy import event, text

    from network.db import statements_committing_alone, utcnow
    from network.digests import runs
    from network.digests.models import DigestStatus

    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    reader_id = _news_for_a_reader(factory)
    row_id = _claimed(factory, reader_id, "2026-W51", utcnow())
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with UnitOfWork(factory) as uow, runs.marking(uow) as marks:
        del seen[:]
        marks([row_id], DigestStatus.sent, message_id="<digest.1.2026-W51@commons>")
        assert [s.split()[0] for s in seen] == ["UPDATE"]
        with engine.connect() as other:  # committed already, while the marker is still open
            status, message_id, sent_at = other.execute(
                text("SELECT status, message_id, sent_at FROM digest WHERE id = :id"),
                {"id": row_id},
            ).one()
        assert (status, message_id) == ("sent", "<digest.1.2026-W51@commons>")
        assert sent_at is not None
    with UnitOfWork(factory) as uow, statements_committing_alone(uow.session) as alone:
        assert alone is not None
        assert alone.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    engine.dispose()
    engine = make_engine(committed_database_url, pool_size=1)
    with (
        UnitOfWork(make_session_factory(engine)) as uow,
        statements_committing_alone(uow.session) as alone,
    ):
        assert alone is not None
    with engine.connect() as conn:  # the same pooled connection, back as it came
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    engine.dispose()
