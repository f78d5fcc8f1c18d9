"""A message handed to the SMTP server without waiting for its answer (`mail.hand_over`): the
same bytes `send` would send, each answer sorted as `send` sorts it, the connection kept after
a refusal; and a digest batch that writes the next digest while the server reads the last."""

import itertools
from dataclasses import replace

import pytest
from sqlalchemy import select

from dispatch import runtime
from network.db import utcnow
from network.digests import runs
from network.digests.models import Digest, DigestStatus
from tests.live.delivery import free_port
from tests.workers.conftest import Mailing
from workers import digests, mail

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")


class Server:
    """An aiosmtpd handler keeping what DATA brings, by connection, and answering the end of a
    message to a recipient in `refuse` with that reply."""

    def __init__(self) -> None:
        self.received: list[tuple[int, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope):
        self.received.append((id(session), list(envelope.rcpt_tos), envelope.content))
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.refuse:
                return self.refuse[rcpt]
        return "250 Message accepted for delivery"

    @property
    def connections(self) -> int:
        return len({conn for conn, _to, _data in self.received})


@pytest.fixture
def server(settings):
    """(settings sending to a local aiosmtpd, its handler)."""
    handler = Server()
    port = free_port()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield replace(settings, mail_url=f"smtp://127.0.0.1:{port}?starttls=off"), handler
    controller.stop()


def _message(settings, to="someone@example.org", text="Hi.\n.A line starting with a dot\n"):
    return mail.new_message(settings, to=to, subject="Hello", text=text)


def test_written_sends_the_bytes_send_message_sends(server):
    smtp, handler = server
    message = _message(smtp)
    assert mail.send(smtp, message) == "127.0.0.1"
    ready = mail.written(message)
    assert ready.data is not None
    assert (ready.sender, ready.recipients) == ("commons@localhost", ("someone@example.org",))
    with mail.reusing_connections():
        assert mail.hand_over(smtp, ready)() == "127.0.0.1"
    [(_c1, to1, sent), (_c2, to2, handed)] = handler.received
    assert to1 == to2 == ["someone@example.org"]
    assert handed == sent
    assert b"\r\n.A line starting with a dot\r\n" in handed  # dot-stuffed, then unstuffed


def test_an_address_that_is_not_ascii_is_left_to_send_message(settings):
    message = _message(settings, to="José <josé@example.org>")
    assert mail.written(message).data is None


def test_each_answer_is_sorted_as_send_sorts_it_and_the_connection_goes_on(server):
    smtp, handler = server
    handler.refuse = {"gone@example.org": "550 no such user", "full@example.org": "452 full"}
    outcomes = []
    with mail.reusing_connections():
        for to in ("a@example.org", "gone@example.org", "full@example.org", "b@example.org"):
            answer = mail.hand_over(smtp, mail.written(_message(smtp, to)))
            try:
                outcomes.append(answer())
            except (mail.PermanentFailure, mail.TemporaryFailure) as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
    assert outcomes == [
        "127.0.0.1",
        "PermanentFailure: 550 no such user",
        "TemporaryFailure: 452 full",
        "127.0.0.1",
    ]
    assert len(handler.received) == 4
    assert handler.connections == 1  # a refusal at the end of DATA keeps the connection


def test_the_next_message_waits_for_the_last_ones_answer(server):
    smtp, handler = server
    with mail.reusing_connections():
        answer = mail.hand_over(smtp, mail.written(_message(smtp)))
        with pytest.raises(RuntimeError, match="answer was not read"):
            mail.hand_over(smtp, mail.written(_message(smtp)))
        assert answer() == "127.0.0.1"
        assert mail.hand_over(smtp, mail.written(_message(smtp)))() == "127.0.0.1"
    assert len(handler.received) == 2


def test_without_a_kept_connection_hand_over_is_send(server):
    smtp, handler = server
    answer = mail.hand_over(smtp, _message(smtp))
    assert len(handler.received) == 1  # sent and answered already
    assert answer() == "127.0.0.1"


# --- a digest batch over SMTP ------------------------------------------------------------


@pytest.fixture
def smtp_news(server, tmp_path, session_factory, net):
    """News for most of federation A (a problem on its board), and digests going to `server`."""
    from api.app import create_app

    smtp, handler = server
    inline = replace(smtp, redis_url=None, instance_path=tmp_path / "instance")
    app = create_app(inline, session_factory=session_factory)
    mailing = Mailing(inline, app.test_client(), app)
    made = mailing.client.post(
        "/api/v1/problems",
        json={"board_id": net.fed_a.id, "title": "Winter pressures", "body": "All of us."},
        headers=mailing.as_(net.members["fed_a"]),
    )
    assert made.status_code == 201
    people = [p.id for p in [*net.members.values(), *net.admins.values()]]
    return handler, people


def _rows(session_factory) -> dict[int, Digest]:
    with session_factory() as s:
        return {row.person_id: row for row in s.scalars(select(Digest))}


def test_a_batch_writes_the_next_digest_while_the_server_reads_the_last(
    smtp_news, session_factory, monkeypatch
):
    handler, people = smtp_news
    events: list[tuple[str, str]] = []
    real_message, real_hand_over = digests._message, mail.hand_over

    def message(settings, out):
        events.append(("written", out.built.person.email))
        return real_message(settings, out)

    def hand_over(settings, ready):
        to = ready.message["To"]
        events.append(("handed", to))
        answer = real_hand_over(settings, ready)

        def answered():
            events.append(("answered", to))
            return answer()

        return answered

    monkeypatch.setattr(digests, "_message", message)
    monkeypatch.setattr(mail, "hand_over", hand_over)
    outcomes = digests.send_digests(people, now=utcnow())
    sent = [to for _c, [to], _data in handler.received]
    assert len(sent) >= 5 and list(outcomes.values()).count("sent") == len(sent)
    assert handler.connections == 1
    # Each digest after the first is written before the last one's answer is read.
    for last, following in itertools.pairwise(sent):
        assert events.index(("written", following)) < events.index(("answered", last))
        assert events.index(("answered", last)) < events.index(("handed", following))
    rows = _rows(session_factory)
    settings = runtime.current().settings
    for person_id, outcome in outcomes.items():
        if outcome == "sent":
            row = rows[person_id]
            assert row.status is DigestStatus.sent
            assert row.message_id == mail.digest_id(settings, person_id, row.period)


def test_a_digest_refused_for_good_at_the_end_of_data_fails_alone(smtp_news, session_factory):
    handler, people = smtp_news
    handler.refuse = {"member.practice1@example.org": "550 mailbox disabled"}
    outcomes = digests.send_digests(people, now=utcnow())
    rows = _rows(session_factory)
    failed = [p for p, o in outcomes.items() if o == "failed"]
    assert [rows[p].error for p in failed] == ["550 mailbox disabled"]
    sent = [p for p, o in outcomes.items() if o == "sent"]
    assert len(sent) >= 5
    assert all(rows[p].status is DigestStatus.sent for p in sent)
    assert len(handler.received) == len(sent) + 1 and handler.connections == 1


def test_a_temporary_refusal_stops_the_batch_and_fails_the_rest_for_a_retry(
    smtp_news, session_factory
):
    handler, people = smtp_news
    handler.refuse = {"member.practice1@example.org": "451 local error"}
    with pytest.raises(mail.TemporaryFailure, match="451 local error"):
        digests.send_digests(people, now=utcnow())
    rows = _rows(session_factory)
    delivered = [to for _c, [to], _data in handler.received]
    assert delivered[-1] == "member.practice1@example.org"  # nothing went after it
    by_email = {row.person_id: row for row in rows.values()}
    sent = {p for p, row in by_email.items() if row.status is DigestStatus.sent}
    failed = {p for p, row in by_email.items() if row.status is DigestStatus.failed}
    assert len(sent) == len(delivered) - 1
    assert failed and all(by_email[p].error.startswith("temporary:") for p in failed)
    assert {row.status for row in rows.values()} <= {
        DigestStatus.sent,
        DigestStatus.failed,
        DigestStatus.empty,
    }


def test_a_digest_that_cannot_be_written_fails_alone(smtp_news, session_factory, monkeypatch):
    handler, people = smtp_news
    real = runs.render_html

    def broken(built, images=None):
        if built.person.email == "member.practice1@example.org":
            raise ValueError("a template error")
        return real(built, images)

    monkeypatch.setattr(runs, "render_html", broken)
    outcomes = digests.send_digests(people, now=utcnow())
    rows = _rows(session_factory)
    failed = [p for p, o in outcomes.items() if o == "failed"]
    assert len(failed) == 1
    assert rows[failed[0]].error.startswith("not written: ValueError('a template error')")
    assert "member.practice1@example.org" not in [to for _c, [to], _d in handler.received]
    assert list(outcomes.values()).count("sent") == len(handler.received) >= 5
