"""The hot list as production serves it, on PostgreSQL with the app's own engine: a GET reads
its principal and its page outside any transaction (no BEGIN, no COMMIT, two statements handed
to the driver as SQLAlchemy compiled them), and reads exactly what the same unit reads in a
transaction. Units that write, or that have opened their session, read in their transaction."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import select, update

from api.app import create_app
from network import access
from network.access import PRINCIPAL, Anonymity, principal_from
from network.config import Settings
from network.db import make_engine, make_session_factory
from network.people.models import Membership, Person, Role
from network.problems import queries, services
from network.problems.models import Problem
from network.uow import UnitOfWork
from tests import factories

LIST = "/api/v1/problems?sort=hot&limit=25"


@pytest.fixture
def world(committed_database_url):
    """A federation's PCN with two practices: a reader, and authors who post on the PCN's board
    (one under each anonymity), on each practice's board, and one problem a moderator hid; the
    reader's practice says "we have this too" for one of them. All committed."""
    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as setup:
        s = setup.session
        fed = factories.organisation(s, "federation")
        pcn = factories.organisation(s, "pcn", fed)
        mine = factories.organisation(s, "practice", pcn)
        theirs = factories.organisation(s, "practice", pcn)
        reader = factories.person(s, member_of=mine)
        author = factories.person(s, member_of=theirs)
        writer = access.load_principal(s, author)
        posted = [
            services.create(
                setup, writer, board_id=pcn.id, title=f"{a} post", body="Words.", anonymity=a
            )
            for a in Anonymity
        ]
        services.create(setup, writer, board_id=theirs.id, title="Their practice's", body="B.")
        own = access.load_principal(s, reader)
        services.create(setup, own, board_id=mine.id, title="Ours", body="Body.", tags=["x"])
        hidden = services.create(setup, writer, board_id=pcn.id, title="Hidden", body="B.")
        s.flush()
        s.execute(update(Problem).where(Problem.id == hidden.id).values(hidden=True))
        services.signal_affected(setup, own, posted[1].id)
        setup.commit()
        ids = {"reader": reader.id, "author": author.id, "mine": mine.id}
    yield engine, factory, ids
    engine.dispose()


class DriverLog:
    """Every statement psycopg runs (whoever runs it) with whether it ran in autocommit, and
    every COMMIT it sends."""

    def __init__(self, monkeypatch) -> None:
        self.statements: list[tuple[str, bool]] = []
        self.commits = 0
        execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit
        log = self

        def logged_execute(cursor, query, *args, **kwargs):
            log.statements.append((str(query), cursor.connection.autocommit))
            return execute(cursor, query, *args, **kwargs)

        def logged_commit(connection):
            if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                log.commits += 1
            return commit(connection)

        monkeypatch.setattr(psycopg.Cursor, "execute", logged_execute)
        monkeypatch.setattr(psycopg.Connection, "commit", logged_commit)

    def clear(self) -> None:
        self.statements.clear()
        self.commits = 0


def _app(url: str, tmp_path, cache: int):
    env = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url}
    return create_app(replace(Settings.from_env(env), read_cache_size=cache))


def _headers(app, factory, person_id: int) -> dict[str, str]:
    with UnitOfWork(factory) as unit:
        person = unit.session.get_one(Person, person_id)
        return {"Authorization": f"Bearer {factories.token(app, person)}"}


def test_an_uncached_hot_list_is_two_statements_and_no_transaction(
    world, committed_database_url, tmp_path, monkeypatch
):
    _engine, factory, ids = world
    app = _app(committed_database_url, tmp_path, cache=0)
    client = app.test_client()
    headers = _headers(app, factory, ids["reader"])
    first = client.get(LIST, headers=headers)  # the engine connects: its isolation level known
    assert first.status_code == 200
    log = DriverLog(monkeypatch)
    again = client.get(LIST, headers=headers)
    assert again.status_code == 200 and again.data == first.data
    assert [sql.split()[0:2] for sql, _ in log.statements] == [
        ["SELECT", "person.email,"],  # the principal
        ["SELECT", "problem.id,"],  # the page
    ]
    assert all(autocommit for _, autocommit in log.statements)  # no BEGIN sent
    assert log.commits == 0
    titles = [item["title"] for item in again.get_json()["items"]]
    assert "Hidden" not in titles and "Their practice's" not in titles
    assert sorted(titles) == ["Ours", "none post", "person post", "practice post"]


def test_a_remembered_hot_list_is_one_statement_on_the_same_footing(
    world, committed_database_url, tmp_path, monkeypatch
):
    _engine, factory, ids = world
    app = _app(committed_database_url, tmp_path, cache=64)
    client = app.test_client()
    headers = _headers(app, factory, ids["reader"])
    first = client.get(LIST, headers=headers)
    log = DriverLog(monkeypatch)
    again = client.get(LIST, headers=headers)
    assert again.data == first.data
    assert len(log.statements) == 1 and "content_scope" in log.statements[0][0]
    assert log.statements[0][1] and log.commits == 0


def _read(factory, person_id: int, *, writes: bool):
    """The principal and the hot list's rows as a unit reads them: outside a transaction when it
    does not write, in its transaction when it does."""
    with UnitOfWork(factory, writes=writes) as unit:
        found = principal_from(unit.read(PRINCIPAL, {"person_id": person_id}), person_id)
        assert found is not None
        page = queries.get_all(unit, found, limit=25)
        assert (unit._session is None) is not writes  # a GET opened no session
        return found, [tuple(row) for row in page.items], page.next_cursor


def test_outside_a_transaction_a_unit_reads_exactly_what_its_transaction_would(world):
    _engine, factory, ids = world
    for who in (ids["reader"], ids["author"]):
        outside = _read(factory, who, writes=False)
        inside = _read(factory, who, writes=True)
        assert outside == inside
    principal, rows, _ = _read(factory, ids["reader"], writes=False)
    assert principal.roles == {ids["mine"]: Role.member} and principal.practices == {ids["mine"]}
    by_title = {row[1]: row for row in rows}
    # Anonymity applied in SQL: the author's id and name (positions 14, 15) and their
    # practice (16, 17) only where the post shows them.
    assert by_title["none post"][14] == ids["author"]
    assert by_title["person post"][14] is None and by_title["person post"][16] is not None
    assert by_title["practice post"][14] is None and by_title["practice post"][16] is None
    assert by_title["Ours"][18] is True  # can_edit: the reader wrote it
    assert by_title["person post"][19] is True  # my_practice_affected


def test_a_unit_that_opens_its_session_reads_in_it_and_gives_the_connection_back(world):
    engine, factory, ids = world
    with UnitOfWork(factory, writes=False) as unit:
        unit.read(PRINCIPAL, {"person_id": ids["reader"]})
        assert engine.pool.checkedout() == 1  # the reader's connection, in autocommit
        unit.session.execute(select(1))
        assert engine.pool.checkedout() == 1  # handed back before the session took its own
    assert engine.pool.checkedout() == 0
    pooled = engine.raw_connection()
    try:
        assert pooled.driver_connection.autocommit is False  # as the pool hands it out
    finally:
        pooled.close()


def test_a_unit_that_writes_reads_its_own_changes(world):
    _engine, factory, ids = world
    with UnitOfWork(factory) as unit:
        unit.session.add(Membership(person_id=ids["reader"], organisation_id=ids["mine"] - 1))
        rows = unit.read(PRINCIPAL, {"person_id": ids["reader"]})
        assert {row[3] for row in rows} == {ids["mine"], ids["mine"] - 1}  # flushed, then read
        unit.rollback()
