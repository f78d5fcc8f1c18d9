"""Exactly-once delivery: the `(person, period)` claim and its take-over, a digest send that
fails and is retried, whose digest is due on which schedule, and how SMTP answers are sorted
into temporary and permanent failures."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from network.db import utcnow
from network.digests import claims, runs
from network.digests.models import (
    DEFAULT_PREFERENCE,
    Digest,
    DigestContent,
    DigestPreference,
    DigestStatus,
    Frequency,
    Notification,
)
from network.uow import UnitOfWork
from tests import factories
from tests.live.delivery import free_port
from tests.workers.conftest import read_outbox
from workers import digests, mail

# A Monday, five minutes after 07:00 in London (UTC+0 in December); 20:05 in Auckland (UTC+13).
NOW = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
STALE_BEFORE = NOW - timedelta(minutes=5)


def _digest(session, person, *, period="2026-W50", status=DigestStatus.claimed, claimed_at=NOW):
    row = Digest(
        person_id=person.id,
        period=period,
        status=status,
        window_start=claimed_at - timedelta(days=7),
        window_end=claimed_at,
        items=0,
        claimed_at=claimed_at,
        attempts=1,
    )
    session.add(row)
    session.flush()
    return row


def _prefer(session, person, frequency, *, hour=7, timezone="Europe/London", weekday=0):
    session.add(
        DigestPreference(
            person_id=person.id,
            frequency=frequency,
            weekday=weekday,
            hour=hour,
            timezone=timezone,
            content=DigestContent.full,
        )
    )
    session.flush()


def _uow(session) -> UnitOfWork:
    # Never closed: closing would roll back the test's own session.
    return UnitOfWork(lambda: session)


def _fresh(session_factory, person_id) -> list[Digest]:
    with session_factory() as s:
        return list(s.scalars(select(Digest).where(Digest.person_id == person_id)))


# --- claims.take_over and runs.claim ------------------------------------------------------


def test_a_fresh_claim_is_not_taken_over(session):
    now = utcnow()
    row = _digest(session, factories.person(session), claimed_at=now - timedelta(minutes=1))
    assert claims.take_over(session, Digest, row, stale_before=now - timedelta(minutes=5)) is False
    session.refresh(row)
    assert (row.status, row.attempts) == (DigestStatus.claimed, 1)


def test_a_stale_claim_is_taken_over_once(session):
    now = utcnow()
    stale_before = now - timedelta(minutes=5)
    row = _digest(session, factories.person(session), claimed_at=now - timedelta(minutes=10))
    # What a second run read before the first took the row over.
    seen_by_other = SimpleNamespace(
        id=row.id, status=row.status, claimed_at=row.claimed_at, attempts=row.attempts
    )

    assert claims.take_over(session, Digest, row, stale_before=stale_before) is True
    assert (row.status, row.attempts) == (DigestStatus.claimed, 2)
    assert row.claimed_at >= now  # claimed again now

    assert claims.take_over(session, Digest, row, stale_before=stale_before) is False
    # The other run's UPDATE names the attempts it read: it changes nothing, even when its
    # own clock would call the new claim stale too.
    assert claims.take_over(session, Digest, seen_by_other, stale_before=stale_before) is False
    later = utcnow() + timedelta(seconds=1)
    assert claims.take_over(session, Digest, seen_by_other, stale_before=later) is False
    session.refresh(row)
    assert row.attempts == 2


def test_a_failed_row_is_taken_over_and_its_error_cleared(session):
    now = utcnow()
    row = _digest(session, factories.person(session), status=DigestStatus.failed, claimed_at=now)
    row.error = "temporary: 421 busy"
    session.flush()
    # Failed moments ago, well within the job timeout: taken over all the same.
    assert claims.take_over(session, Digest, row, stale_before=now - timedelta(minutes=5)) is True
    assert (row.status, row.attempts, row.error) == (DigestStatus.claimed, 2, None)


@pytest.mark.parametrize("status", [DigestStatus.sent, DigestStatus.empty])
def test_sent_and_empty_rows_are_never_taken_over(session, status):
    ancient = utcnow() - timedelta(days=1)
    row = _digest(session, factories.person(session), status=status, claimed_at=ancient)
    assert claims.take_over(session, Digest, row, stale_before=utcnow() + timedelta(1)) is False
    session.refresh(row)
    assert (row.status, row.attempts) == (status, 1)


def test_a_failed_notification_is_taken_over_a_sent_one_never(session):
    person = factories.person(session)
    failed = Notification(person_id=person.id, key="action:1:1", status=DigestStatus.failed)
    sent = Notification(person_id=person.id, key="action:2:1", status=DigestStatus.sent)
    session.add_all([failed, sent])
    session.flush()
    far = utcnow() + timedelta(days=1)
    assert claims.take_over(session, Notification, failed, stale_before=far) is True
    assert (failed.status, failed.attempts) == (DigestStatus.claimed, 2)
    assert claims.take_over(session, Notification, sent, stale_before=far) is False


def test_runs_claim_creates_the_row_once_and_takes_over_only_a_stale_claim(session, settings):
    uow = _uow(session)
    person = factories.person(session)
    now = utcnow()
    built = runs.prepare(
        uow,
        person,
        now=now,
        public_url=settings.public_url,
        api_url=settings.api_url,
        secret=settings.secret(),
    )
    stale_before = now - timedelta(minutes=5)

    row = runs.claim(uow, built, stale_before=stale_before)
    assert row is not None
    assert (row.status, row.attempts, row.period) == (DigestStatus.claimed, 1, built.period)
    assert runs.claim(uow, built, stale_before=stale_before) is None  # fresh: someone else's

    row.claimed_at = now - timedelta(minutes=10)  # its worker died
    session.flush()
    taken = runs.claim(uow, built, stale_before=stale_before)
    assert taken is not None and taken.id == row.id and taken.attempts == 2
    assert runs.claim(uow, built, stale_before=stale_before) is None  # taken over once

    runs.finish(taken, DigestStatus.sent, message_id="<m@x>")
    session.flush()
    assert runs.claim(uow, built, stale_before=utcnow() + timedelta(days=1)) is None
    assert session.scalars(select(Digest).where(Digest.person_id == person.id)).all() == [row]


# --- workers.digests.send_digest ------------------------------------------------------------


@pytest.fixture
def news(mailing, net):
    """A reader of PCN One with news: a problem a colleague of another practice shared."""
    made = mailing.client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "Phones at 8am", "body": "Every day."},
        headers=mailing.as_(net.members["practice2"]),
    )
    assert made.status_code == 201
    assert read_outbox(mailing.settings) == []
    return mailing.settings, net.members["practice1"]


def _refusing(failure: Exception):
    def send(settings, message):
        raise failure

    return send


def test_a_temporary_failure_raises_and_the_retry_sends_exactly_once(
    news, session_factory, monkeypatch
):
    settings, reader = news
    real = mail.send
    monkeypatch.setattr(mail, "send", _refusing(mail.TemporaryFailure("421 try again later")))
    with pytest.raises(mail.TemporaryFailure):
        digests.send_digest(reader.id, now=utcnow())
    [row] = _fresh(session_factory, reader.id)
    assert row.status is DigestStatus.failed
    assert row.error is not None and row.error.startswith("temporary:")
    assert "421 try again later" in row.error
    assert read_outbox(settings) == []

    monkeypatch.setattr(mail, "send", real)
    assert digests.send_digest(reader.id, now=utcnow(), period=row.period) == "sent"
    [eml] = read_outbox(settings)
    assert eml["To"] == reader.email
    [again] = _fresh(session_factory, reader.id)
    assert again.id == row.id and again.period == row.period
    assert (again.status, again.attempts, again.error) == (DigestStatus.sent, 2, None)
    assert again.message_id == eml["Message-ID"] == mail.digest_id(settings, reader.id, row.period)

    # A duplicate job for the same period finds it sent.
    assert digests.send_digest(reader.id, now=utcnow(), period=row.period) == "skipped"
    assert len(read_outbox(settings)) == 1


def test_a_permanent_failure_is_recorded_without_raising(news, session_factory, monkeypatch):
    settings, reader = news
    monkeypatch.setattr(mail, "send", _refusing(mail.PermanentFailure("550 no such user")))
    assert digests.send_digest(reader.id, now=utcnow()) == "failed"
    [row] = _fresh(session_factory, reader.id)
    assert (row.status, row.error, row.attempts) == (DigestStatus.failed, "550 no such user", 1)
    assert row.sent_at is None
    assert read_outbox(settings) == []


def test_a_job_for_a_period_no_longer_current_is_skipped_and_claims_nothing(
    news, session_factory, session
):
    settings, reader = news
    now = utcnow()
    current = runs.current_period(_uow(session), reader.id, now)
    assert current is not None and current != "2026-W01"
    assert digests.send_digest(reader.id, now=now, period="2026-W01") == "skipped"
    assert _fresh(session_factory, reader.id) == []
    assert read_outbox(settings) == []

    assert digests.send_digest(reader.id, now=now, period=current) == "sent"  # the right one
    assert [r.period for r in _fresh(session_factory, reader.id)] == [current]


# --- runs.schedules and runs.due_people ----------------------------------------------------


@pytest.fixture
def people(session):
    made = {
        "london_daily": (Frequency.daily, 7, "Europe/London"),
        "auckland_daily": (Frequency.daily, 7, "Pacific/Auckland"),
        "london_weekly": (Frequency.weekly, 7, "Europe/London"),
        "off": (Frequency.off, 7, "Europe/London"),
    }
    found = {}
    for key, (frequency, hour, timezone) in made.items():
        found[key] = factories.person(session, email=f"{key}@example.org")
        _prefer(session, found[key], frequency, hour=hour, timezone=timezone)
    found["default"] = factories.person(session, email="default@example.org")
    for person in found.values():  # they joined long before the runs these tests make
        person.created_at = NOW - timedelta(days=30)
    session.flush()
    return found


def _by_key(schedules):
    return {
        (s.frequency, s.weekday, s.hour, s.timezone, s.stored): s
        for s in schedules
        if s.timezone in ("Europe/London", "Pacific/Auckland")
    }


def _due(uow, schedule, mine, *, stale_before=STALE_BEFORE):
    return [p for p in runs.due_people(uow, schedule, stale_before=stale_before) if p in mine]


def test_each_schedule_has_its_period_and_its_people(session, people):
    uow = _uow(session)
    mine = {p.id for p in people.values()}
    found = _by_key(runs.schedules(uow, NOW))
    default = (
        DEFAULT_PREFERENCE["frequency"],
        DEFAULT_PREFERENCE["weekday"],
        DEFAULT_PREFERENCE["hour"],
        DEFAULT_PREFERENCE["timezone"],
        False,
    )
    london = (Frequency.daily, 0, 7, "Europe/London", True)
    auckland = (Frequency.daily, 0, 7, "Pacific/Auckland", True)
    weekly = (Frequency.weekly, 0, 7, "Europe/London", True)
    assert set(found) == {london, auckland, weekly, default}
    assert not any(s.frequency is Frequency.off for s in runs.schedules(uow, NOW))

    assert (found[london].period, found[london].due_at) == ("2026-12-07", NOW.replace(minute=0))
    assert (found[auckland].period, found[auckland].due_at) == (
        "2026-12-07",
        datetime(2026, 12, 6, 18, 0, tzinfo=UTC),  # 07:00 NZDT
    )
    assert found[weekly].period == found[default].period == "2026-W50"

    assert _due(uow, found[london], mine) == [people["london_daily"].id]
    assert _due(uow, found[auckland], mine) == [people["auckland_daily"].id]
    assert _due(uow, found[weekly], mine) == [people["london_weekly"].id]
    assert _due(uow, found[default], mine) == [people["default"].id]
    everyone = {p for s in found.values() for p in _due(uow, s, mine)}
    assert people["off"].id not in everyone
    assert everyone == mine - {people["off"].id}


def test_a_person_with_a_row_for_the_period_is_left_out_unless_its_claim_is_stale(session):
    uow = _uow(session)
    made = [factories.person(session) for _ in range(7)]
    for person in made:
        _prefer(session, person, Frequency.daily, hour=6, timezone="Europe/Lisbon")
        person.created_at = NOW - timedelta(days=30)  # not "joined after it was due"
    sent, empty, failed, fresh, stale, yesterday, none = made
    _digest(session, sent, period="2026-12-07", status=DigestStatus.sent)
    _digest(session, empty, period="2026-12-07", status=DigestStatus.empty)
    _digest(session, failed, period="2026-12-07", status=DigestStatus.failed)
    _digest(session, fresh, period="2026-12-07", claimed_at=NOW - timedelta(minutes=1))
    _digest(session, stale, period="2026-12-07", claimed_at=NOW - timedelta(minutes=10))
    _digest(session, yesterday, period="2026-12-06", status=DigestStatus.sent)
    [schedule] = [s for s in runs.schedules(uow, NOW) if s.timezone == "Europe/Lisbon"]
    assert schedule.period == "2026-12-07"

    due = runs.due_people(uow, schedule, stale_before=STALE_BEFORE)
    assert due == [stale.id, yesterday.id, none.id]
    # With an earlier limit the 10-minute-old claim is still its worker's.
    earlier = NOW - timedelta(minutes=20)
    assert runs.due_people(uow, schedule, stale_before=earlier) == [yesterday.id, none.id]


def test_a_missed_run_is_caught_up_with_the_same_period(session, people):
    uow = _uow(session)
    mine = {p.id for p in people.values()}
    london = (Frequency.daily, 0, 7, "Europe/London", True)
    auckland = (Frequency.daily, 0, 7, "Pacific/Auckland", True)
    on_time = _by_key(runs.schedules(uow, NOW))
    late = _by_key(runs.schedules(uow, NOW.replace(hour=9, minute=0)))
    early = _by_key(runs.schedules(uow, NOW.replace(hour=6, minute=55)))

    assert late[london].period == on_time[london].period == "2026-12-07"
    assert late[london].due_at == on_time[london].due_at
    assert late[auckland].period == "2026-12-07"
    assert early[london].period == "2026-12-06"  # before 07:00: still yesterday's
    late_stale = NOW.replace(hour=9, minute=0) - timedelta(minutes=5)
    assert _due(uow, late[london], mine, stale_before=late_stale) == [people["london_daily"].id]

    _digest(session, people["london_daily"], period="2026-12-07", status=DigestStatus.sent)
    assert _due(uow, late[london], mine, stale_before=late_stale) == []


def test_due_people_come_in_disjoint_batches_that_cover_everyone(session):
    uow = _uow(session)
    made = [factories.person(session) for _ in range(5)]
    for person in made:
        _prefer(session, person, Frequency.daily, hour=7, timezone="Europe/Paris")
        person.created_at = NOW - timedelta(days=30)  # not "joined after it was due"
    [schedule] = [s for s in runs.schedules(uow, NOW) if s.timezone == "Europe/Paris"]
    pages, after = [], 0
    for _ in range(len(made) + 1):  # bounded: a page that repeats its last id never ends
        page = runs.due_people(uow, schedule, stale_before=STALE_BEFORE, after=after, limit=2)
        if not page:
            break
        assert len(page) <= 2
        pages.append(page)
        after = page[-1]
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [p for page in pages for p in page]
    assert len(flat) == len(set(flat))  # disjoint
    assert flat == sorted(p.id for p in made)  # complete, in order


# --- workers.mail over SMTP ----------------------------------------------------------------


class Handler:
    """An aiosmtpd handler answering RCPT with `rcpt_reply` and keeping what DATA brings."""

    def __init__(self, rcpt_reply: str) -> None:
        self.rcpt_reply = rcpt_reply
        self.received: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """`smtp_server(rcpt_reply)` -> (port, handler): an SMTP server offering no STARTTLS."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    started = []

    def start(rcpt_reply: str = "250 OK"):
        handler = Handler(rcpt_reply)
        port = free_port()
        controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return port, handler

    yield start
    for controller in started:
        controller.stop()


def _message(settings):
    return mail.new_message(settings, to="someone@example.org", subject="Hello", text="Hi.")


def test_smtp_takes_a_message_the_server_accepts(settings, smtp_server):
    port, handler = smtp_server()
    smtp = replace(settings, mail_url=f"smtp://127.0.0.1:{port}")
    assert mail.send(smtp, _message(smtp)) == "127.0.0.1"
    [received] = handler.received
    assert b"Subject: Hello" in received


def test_starttls_required_but_not_offered_is_a_permanent_failure(settings, smtp_server):
    port, handler = smtp_server()
    smtp = replace(settings, mail_url=f"smtp://127.0.0.1:{port}?starttls=required")
    with pytest.raises(mail.PermanentFailure, match="STARTTLS"):
        mail.send(smtp, _message(smtp))
    assert handler.received == []  # nothing went in the clear


@pytest.mark.parametrize(
    ("reply", "failure"),
    [
        ("450 try later", mail.TemporaryFailure),
        ("550 no such user", mail.PermanentFailure),
    ],
)
def test_a_refused_recipient_is_sorted_by_its_code(settings, smtp_server, reply, failure):
    port, handler = smtp_server(reply)
    smtp = replace(settings, mail_url=f"smtp://127.0.0.1:{port}")
    with pytest.raises(failure, match=reply) as raised:
        mail.send(smtp, _message(smtp))
    assert type(raised.value) is failure  # not merely a subclass of the other
    assert handler.received == []


def test_a_refused_connection_is_a_temporary_failure(settings):
    smtp = replace(settings, mail_url=f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(mail.TemporaryFailure, match="ConnectionRefused"):
        mail.send(smtp, _message(smtp))


def test_someone_who_joined_after_the_send_time_waits_for_the_next_unless_everyone(session, people):
    uow = _uow(session)
    newcomer = people["london_daily"]
    newcomer.created_at = NOW.replace(hour=7, minute=1)  # a minute after 07:00's send time
    session.flush()
    [schedule] = [
        s
        for s in runs.schedules(uow, NOW)
        if (s.frequency, s.timezone, s.stored) == (Frequency.daily, "Europe/London", True)
    ]
    assert _due(uow, schedule, {newcomer.id}) == []
    everyone = runs.due_people(uow, schedule, stale_before=STALE_BEFORE, everyone=True)
    assert newcomer.id in everyone
    # The next day's send time has them.
    [tomorrow] = [
        s
        for s in runs.schedules(uow, NOW + timedelta(days=1))
        if (s.frequency, s.timezone, s.stored) == (Frequency.daily, "Europe/London", True)
    ]
    assert _due(uow, tomorrow, {newcomer.id}) == [newcomer.id]


def test_commons_jobs_failed_lists_a_failed_digest_and_retry_sends_it(
    news, session_factory, monkeypatch
):
    from click.testing import CliRunner

    from workers.cli import jobs

    settings, reader = news
    real = mail.send
    monkeypatch.setattr(mail, "send", _refusing(mail.PermanentFailure("550 no such user")))
    assert digests.send_digest(reader.id, now=utcnow()) == "failed"
    [row] = _fresh(session_factory, reader.id)
    job_id = digests.job_id(reader.id, row.period)

    listed = CliRunner().invoke(jobs, ["failed"])
    assert listed.exit_code == 0, listed.output
    assert f"digest {job_id} to {reader.email}, 1 attempts: 550 no such user" in listed.output

    unknown = CliRunner().invoke(jobs, ["retry", "digest-0-2026-W01"])
    assert unknown.exit_code != 0 and "no failed job digest-0-2026-W01" in unknown.output

    monkeypatch.setattr(mail, "send", real)  # the address is fixed
    retried = CliRunner().invoke(jobs, ["retry", job_id])  # no REDIS_URL: it runs here
    assert retried.exit_code == 0, retried.output
    assert "1 retried" in retried.output
    [eml] = read_outbox(settings)
    assert eml["To"] == reader.email
    [again] = _fresh(session_factory, reader.id)
    assert (again.status, again.attempts) == (DigestStatus.sent, 2)
    assert "0 failed" in CliRunner().invoke(jobs, ["failed"]).output


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE (as an operator
    would name a private CA), and a server-side TLS context holding it."""
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - timedelta(minutes=5))
        .not_valid_after(utcnow() + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    return context


def _tls_server(handler, **options):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    port = free_port()
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return port, controller


def test_starttls_required_sends_over_tls_when_the_server_offers_it(settings, tls):
    handler = Handler("250 OK")
    # The server refuses mail in the clear: only a client that upgraded gets through.
    port, controller = _tls_server(handler, tls_context=tls, require_starttls=True)
    try:
        smtp = replace(settings, mail_url=f"smtp://127.0.0.1:{port}?starttls=required")
        assert mail.send(smtp, _message(smtp)) == "127.0.0.1"
        [received] = handler.received
        assert b"Subject: Hello" in received
    finally:
        controller.stop()


def test_smtps_speaks_tls_from_the_start_and_checks_the_certificate(settings, tls, monkeypatch):
    handler = Handler("250 OK")
    port, controller = _tls_server(handler, server_hostname="127.0.0.1", ssl_context=tls)
    try:
        smtp = replace(settings, mail_url=f"smtps://127.0.0.1:{port}")
        assert mail.send(smtp, _message(smtp)) == "127.0.0.1"
        assert len(handler.received) == 1
        # A certificate nobody trusts: refused for good, nothing sent.
        monkeypatch.delenv("SSL_CERT_FILE")
        with pytest.raises(mail.PermanentFailure, match="certificate"):
            mail.send(smtp, _message(smtp))
        assert len(handler.received) == 1
    finally:
        controller.stop()
