"""Notifications that cannot wait a period (DESIGN.md, "Digests"): one email when an action is
given to you, and a huddle's agenda two hours before it to those who take part; each with its
own opt-out and one-click unsubscribe."""

from datetime import timedelta

import pytest

from network.db import utcnow
from network.digests.models import DigestPreference, Frequency
from network.workstreams import meetings
from network.workstreams.models import Workstream
from tests.workers.conftest import read_outbox
from workers import notifications


@pytest.fixture
def world(mailing, net):
    inline, client, as_ = mailing.settings, mailing.client, mailing.as_

    admin = net.admins["pcn1"]
    made = client.post(
        "/api/v1/workstreams",
        json={
            "organisation_id": net.pcn1.id,
            "title": "Workflow",
            "purpose": "Fewer letters for GPs.",
            "meeting_rule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=12;BYMINUTE=30",
        },
        headers=as_(admin),
    )
    assert made.status_code == 201, made.get_json()
    workstream = made.get_json()
    joined = client.put(
        f"/api/v1/workstreams/{workstream['id']}/practices/{net.practice1.id}",
        headers=as_(admin),
    )
    assert joined.status_code == 201
    return inline, client, as_, workstream


def test_an_action_given_to_someone_mails_them_once(world, net, session):
    settings, client, as_, workstream = world
    owner = net.members["practice1"]
    given = client.post(
        f"/api/v1/workstreams/{workstream['id']}/actions",
        json={
            "title": "Count the letters",
            "owner_id": owner.id,
            "due_on": "2027-01-15",
            "practice_id": net.practice1.id,
        },
        headers=as_(net.admins["pcn1"]),
    )
    assert given.status_code == 201, given.get_json()
    [mail] = read_outbox(settings)
    assert mail["To"] == owner.email
    assert mail["Subject"] == "Action for you: Count the letters"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].endswith("?notify=action_assigned>")
    assert "Fri 15 Jan 2027" in mail.get_body(preferencelist=("plain",)).get_content()
    # Their own action: no email. A muted workstream: none either.
    client.post(
        f"/api/v1/workstreams/{workstream['id']}/actions",
        json={"title": "Mine", "owner_id": owner.id, "due_on": "2027-01-15"},
        headers=as_(owner),
    )
    client.put(f"/api/v1/me/mutes/workstream/{workstream['id']}", headers=as_(owner))
    client.post(
        f"/api/v1/workstreams/{workstream['id']}/actions",
        json={
            "title": "Muted",
            "owner_id": owner.id,
            "due_on": "2027-01-15",
            "practice_id": net.practice1.id,
        },
        headers=as_(net.admins["pcn1"]),
    )
    assert len(read_outbox(settings)) == 1
    # The one-click link of that email stops these emails, not digests.
    url = mail["List-Unsubscribe"].strip("<>").split("/api/v1", 1)[1]
    done = client.post(f"/api/v1{url}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    session.expire_all()
    stored = session.get(DigestPreference, owner.id)
    assert stored.notify_action_assigned is False and stored.frequency is Frequency.weekly
    client.delete(f"/api/v1/me/mutes/workstream/{workstream['id']}", headers=as_(owner))
    client.post(
        f"/api/v1/workstreams/{workstream['id']}/actions",
        json={
            "title": "After opting out",
            "owner_id": owner.id,
            "due_on": "2027-01-15",
            "practice_id": net.practice1.id,
        },
        headers=as_(net.admins["pcn1"]),
    )
    assert len(read_outbox(settings)) == 1


def test_a_huddles_agenda_goes_to_those_taking_part_two_hours_before(world, net, session):
    settings, _client, _as, workstream = world
    row = session.get(Workstream, workstream["id"])
    [nxt, *_] = meetings.occurrences(
        row, utcnow() + timedelta(hours=3), utcnow() + timedelta(days=2)
    )
    too_early = notifications.send_agendas(nxt.starts_at - timedelta(hours=3))
    assert too_early == {} and read_outbox(settings) == []
    outcomes = notifications.send_agendas(nxt.starts_at - timedelta(hours=1))
    mails = read_outbox(settings)
    to = sorted(m["To"] for m in mails)
    assert outcomes == {"sent": len(mails)}
    # Practice One's people take part, and PCN One's administrators; not Practice Two's.
    assert net.members["practice1"].email in to and net.admins["pcn1"].email in to
    assert net.members["practice2"].email not in to and net.members["pcn1"].email not in to
    assert all(m["Subject"].startswith("Agenda: Workflow, ") for m in mails)
    assert all(m["List-Unsubscribe"].endswith("?notify=agenda>") for m in mails)
    # The link is in the body too, in both parts, as in a digest.
    for m in mails:
        link = m["List-Unsubscribe"].strip("<>")
        for kind in ("plain", "html"):
            assert link in m.get_body(preferencelist=(kind,)).get_content(), kind
    assert notifications.send_agendas(nxt.starts_at - timedelta(minutes=30)) == {}
    assert len(read_outbox(settings)) == len(mails)


def test_a_failed_action_email_is_listed_and_retry_sends_it_once(
    world, net, session_factory, monkeypatch
):
    from click.testing import CliRunner

    from network.digests.models import DigestStatus, Notification
    from workers import mail
    from workers.cli import jobs

    settings, client, as_, workstream = world
    owner = net.members["practice1"]
    real = mail.send

    def refusing(_settings, _message):
        raise mail.PermanentFailure("550 no such user")

    monkeypatch.setattr(mail, "send", refusing)
    given = client.post(
        f"/api/v1/workstreams/{workstream['id']}/actions",
        json={
            "title": "Count the letters",
            "owner_id": owner.id,
            "due_on": "2027-01-15",
            "practice_id": net.practice1.id,
        },
        headers=as_(net.admins["pcn1"]),
    )
    assert given.status_code == 201, given.get_json()
    key = f"action:{given.get_json()['id']}:{owner.id}"
    listed = CliRunner().invoke(jobs, ["failed"])
    assert f"notification {key} to {owner.email}, 1 attempts: 550 no such user" in listed.output

    monkeypatch.setattr(mail, "send", real)  # the address is fixed
    retried = CliRunner().invoke(jobs, ["retry", "--all"])  # no REDIS_URL: it runs here
    assert retried.exit_code == 0, retried.output
    assert "1 retried" in retried.output
    [sent] = read_outbox(settings)
    assert sent["To"] == owner.email and sent["Subject"] == "Action for you: Count the letters"
    with session_factory() as s:
        [row] = s.query(Notification).filter_by(person_id=owner.id, key=key).all()
        assert (row.status, row.attempts) == (DigestStatus.sent, 2)
    again = CliRunner().invoke(jobs, ["retry", "--all"])
    assert "0 retried" in again.output and len(read_outbox(settings)) == 1
