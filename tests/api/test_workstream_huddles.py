"""Huddles as held (API.md, "Joint workstreams"): a meeting stored at an occurrence carries its
notes, decisions, attendance or cancellation; a decision becomes one action in one call; minutes
as text and printable HTML."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from network.workstreams.models import MeetingStatus, Participation, Workstream
from tests import factories

BASE = "/api/v1/workstreams"
HUDDLE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30"
# Tuesdays in winter (GMT): 12:30 in London is 12:30Z.
LAST_TUESDAY = "2026-11-24T12:30:00Z"
TUESDAY_BEFORE = "2026-11-17T12:30:00Z"


@pytest.fixture
def huddle(client, auth, net, session):
    """PCN 1's workstream with a Tuesday 12:30 huddle since October; practices 1 and 2 take
    part. Its managers: PCN 1's admin."""
    manager = auth(net.admins["pcn1"])
    body = {
        "organisation_id": net.pcn1.id,
        "title": "Workflow",
        "purpose": "Letters.",
        "meeting_rule": HUDDLE,
    }
    created = client.post(BASE, json=body, headers=manager)
    assert created.status_code == 201
    workstream = created.get_json()
    for practice in (net.practice1, net.practice2):
        joined = client.put(f"{BASE}/{workstream['id']}/practices/{practice.id}", headers=manager)
        assert joined.status_code == 201
    october = datetime(2026, 10, 1, tzinfo=UTC)
    session.execute(
        update(Workstream).where(Workstream.id == workstream["id"]).values(created_at=october)
    )
    session.execute(
        update(Participation)
        .where(Participation.workstream_id == workstream["id"])
        .values(joined_at=october)
    )
    return workstream


def _url(huddle, rest=""):
    return f"{BASE}/{huddle['id']}/meetings{rest}"


def _store(client, auth, net, huddle, **body):
    response = client.post(_url(huddle), json=body, headers=auth(net.admins["pcn1"]))
    assert response.status_code == 201, response.get_json()
    return response


def test_a_held_huddle_carries_its_notes_decisions_and_attendance(client, auth, net, huddle):
    response = _store(
        client,
        auth,
        net,
        huddle,
        starts_at="2026-11-24T12:30:45+00:00",
        status="held",
        notes="Backlog **down** to 40 letters.",
        decisions=["  Scan letters   at source ", "Share the coding protocol"],
        attended_practice_ids=[net.practice1.id, net.practice1.id],
    )
    stored = response.get_json()
    assert response.headers["Location"].endswith(f"/meetings/{stored['id']}")
    assert stored["starts_at"] == LAST_TUESDAY  # seconds dropped: the occurrence itself
    assert stored["occurrence"] is True and stored["status"] == "held"
    assert stored["decisions"] == ["Scan letters at source", "Share the coding protocol"]
    assert stored["attended_practices"] == [{"id": net.practice1.id, "name": "Practice One"}]
    assert "<strong>down</strong>" in stored["notes_html"]
    assert stored["minutes"] == 30 and stored["ends_at"] == "2026-11-24T13:00:00Z"

    reader = auth(net.members["practice2"])
    listed = client.get(
        _url(huddle, "?from=2026-11-20T00:00:00Z&to=2026-12-05T00:00:00Z"), headers=reader
    ).get_json()
    assert [(m["id"], m["starts_at"], m["status"]) for m in listed["items"]] == [
        (stored["id"], LAST_TUESDAY, "held"),
        (None, "2026-12-01T12:30:00Z", "scheduled"),  # computed: nothing stored yet
    ]
    one = client.get(response.headers["Location"], headers=reader)
    assert one.status_code == 200 and one.get_json() == stored


def test_a_cancelled_occurrence_and_an_extra_huddle_are_listed_as_such(client, auth, net, huddle):
    _store(client, auth, net, huddle, starts_at="2026-12-01T12:30:00Z", status="cancelled")
    _store(client, auth, net, huddle, starts_at="2026-12-03T09:00:00Z", minutes=15)
    listed = client.get(
        _url(huddle, "?from=2026-11-30T00:00:00Z&to=2026-12-09T00:00:00Z"),
        headers=auth(net.members["practice1"]),
    ).get_json()["items"]
    assert [(m["starts_at"], m["status"], m["occurrence"], m["minutes"]) for m in listed] == [
        ("2026-12-01T12:30:00Z", "cancelled", True, 30),
        ("2026-12-03T09:00:00Z", "scheduled", False, 15),
        ("2026-12-08T12:30:00Z", "scheduled", True, 30),
    ]


def test_the_list_pages_by_time(client, auth, net, huddle):
    _store(client, auth, net, huddle, starts_at="2026-11-18T09:00:00Z")
    url = _url(huddle, "?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&limit=2")
    reader = auth(net.members["practice1"])
    seen = []
    while url:
        page = client.get(url, headers=reader).get_json()
        seen += [m["starts_at"] for m in page["items"]]
        cursor = page["next_cursor"]
        url = (
            _url(
                huddle,
                f"?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&limit=2&cursor={cursor}",
            )
            if cursor
            else None
        )
    assert seen == [
        "2026-11-03T12:30:00Z",
        "2026-11-10T12:30:00Z",
        "2026-11-17T12:30:00Z",
        "2026-11-18T09:00:00Z",
        "2026-11-24T12:30:00Z",
    ]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        (
            {"starts_at": LAST_TUESDAY, "attended_practice_ids": ["P3"]},
            "attended_practice_ids",
            422,
        ),
        ({"starts_at": "2099-12-01T12:30:00Z", "status": "held"}, "status", 422),
        ({"starts_at": "1999-12-01T12:30:00Z"}, "starts_at", 422),
        ({"starts_at": LAST_TUESDAY, "decisions": [""]}, "decisions", 422),
        ({"starts_at": LAST_TUESDAY, "decisions": ["x"] * 51}, "decisions", 422),
        ({"starts_at": LAST_TUESDAY, "notes": "Patient 943 476 5919 rang."}, "notes", 422),
        ({"starts_at": LAST_TUESDAY, "whoami": 1}, "whoami", 422),
    ],
)
def test_bad_meetings_are_refused_naming_the_field_and_nothing_is_stored(
    client, auth, net, huddle, body, field, status
):
    if body.get("attended_practice_ids") == ["P3"]:
        body = body | {"attended_practice_ids": [net.practice3.id]}  # never took part
    response = client.post(_url(huddle), json=body, headers=auth(net.admins["pcn1"]))
    assert response.status_code == status, response.get_json()
    assert field in str(response.get_json())
    listed = client.get(
        _url(huddle, "?from=2026-11-20T00:00:00Z&to=2026-11-30T00:00:00Z"),
        headers=auth(net.admins["pcn1"]),
    ).get_json()["items"]
    assert [m["id"] for m in listed] == [None]


def test_one_meeting_per_time_and_only_managers_store_them(client, auth, net, huddle):
    _store(client, auth, net, huddle, starts_at=LAST_TUESDAY)
    again = client.post(
        _url(huddle), json={"starts_at": LAST_TUESDAY}, headers=auth(net.admins["pcn1"])
    )
    assert again.status_code == 409 and "PATCH" in again.get_json()["message"]
    member = client.post(
        _url(huddle), json={"starts_at": TUESDAY_BEFORE}, headers=auth(net.members["practice1"])
    )
    assert member.status_code == 403
    stranger = client.post(
        _url(huddle), json={"starts_at": TUESDAY_BEFORE}, headers=auth(net.members["practice4"])
    )
    assert stranger.status_code == 404


def test_writing_up_a_huddle_and_moving_one(client, auth, net, huddle):
    manager = auth(net.admins["pcn1"])
    stored = _store(client, auth, net, huddle, starts_at=LAST_TUESDAY).get_json()
    url = _url(huddle, f"/{stored['id']}")
    written = client.patch(
        url,
        json={"status": "held", "notes": "Went well.", "attended_practice_ids": [net.practice2.id]},
        headers=manager,
    )
    assert written.status_code == 200
    assert written.get_json()["status"] == "held"
    assert written.get_json()["attended_practices"][0]["name"] == "Practice Two"
    other = _store(client, auth, net, huddle, starts_at="2026-11-25T09:00:00Z").get_json()
    clash = client.patch(
        _url(huddle, f"/{other['id']}"), json={"starts_at": LAST_TUESDAY}, headers=manager
    )
    assert clash.status_code == 409
    moved = client.patch(
        _url(huddle, f"/{other['id']}"), json={"starts_at": "2026-11-26T09:00:00Z"}, headers=manager
    )
    assert moved.status_code == 200 and moved.get_json()["occurrence"] is False
    feed = client.get("/api/v1/activity", headers=auth(net.members["practice1"])).get_json()
    lines = [item["summary"] for item in feed["items"]]
    assert "wrote up the huddle of “Workflow” on Tue 24 Nov 2026, 12:30" in lines
    assert "changed the huddle of “Workflow” on Thu 26 Nov 2026, 09:00" in lines


def test_a_decision_becomes_one_action_in_one_call(client, auth, net, huddle):
    manager = auth(net.admins["pcn1"])
    stored = _store(
        client,
        auth,
        net,
        huddle,
        starts_at=LAST_TUESDAY,
        status="held",
        decisions=["Scan letters at source", "Share the coding protocol"],
    ).get_json()
    url = _url(huddle, f"/{stored['id']}/decisions/1/action")
    first = client.post(url, headers=manager)  # no body: every field has a default
    assert first.status_code == 201, first.get_json()
    action = first.get_json()
    assert action["title"] == "Share the coding protocol"
    assert action["owner"]["id"] == net.admins["pcn1"].id and action["practice"] is None
    # Due by the next huddle after now (a Tuesday).
    assert date.fromisoformat(action["due_on"]).weekday() == 1
    assert date.fromisoformat(action["due_on"]) >= date.today()
    assert first.headers["Location"].endswith(f"/actions/{action['id']}")
    again = client.post(url, json={"title": "Something else"}, headers=manager)
    assert again.status_code == 200 and again.get_json()["id"] == action["id"]
    meeting = client.get(_url(huddle, f"/{stored['id']}"), headers=manager).get_json()
    assert meeting["decision_actions"] == [{"decision": 1, "action_id": action["id"]}]
    chosen = client.post(
        _url(huddle, f"/{stored['id']}/decisions/0/action"),
        json={
            "owner_id": net.members["practice1"].id,
            "practice_id": net.practice1.id,
            "due_on": "2026-12-31",
            "title": "Scan at Practice One",
        },
        headers=manager,
    )
    assert chosen.status_code == 201
    assert chosen.get_json()["practice"]["id"] == net.practice1.id
    assert chosen.get_json()["due_on"] == "2026-12-31"
    missing = client.post(
        _url(huddle, f"/{stored['id']}/decisions/2/action"), json={}, headers=manager
    )
    assert missing.status_code == 404
    member = client.post(url, json={}, headers=auth(net.members["practice1"]))
    assert member.status_code == 403
    # A decision that became an action keeps its place; adding more is fine.
    moved = client.patch(
        _url(huddle, f"/{stored['id']}"),
        json={"decisions": ["Share the coding protocol"]},
        headers=manager,
    )
    assert moved.status_code == 409 and "decision" in moved.get_json()["message"]
    added = client.patch(
        _url(huddle, f"/{stored['id']}"),
        json={"decisions": stored["decisions"] + ["Audit in January"]},
        headers=manager,
    )
    assert added.status_code == 200 and len(added.get_json()["decisions"]) == 3


def test_minutes_as_text_and_as_a_printable_page(client, auth, net, huddle):
    manager = auth(net.admins["pcn1"])
    stored = _store(
        client,
        auth,
        net,
        huddle,
        starts_at=LAST_TUESDAY,
        status="held",
        notes="Backlog down to 40. <script>alert(1)</script>",
        decisions=["Scan letters at source", "Ask <b>LMC</b> about coding"],
        attended_practice_ids=[net.practice1.id],
    ).get_json()
    client.post(_url(huddle, f"/{stored['id']}/decisions/0/action"), json={}, headers=manager)
    reader = auth(net.members["practice2"])
    text = client.get(_url(huddle, f"/{stored['id']}/minutes"), headers=reader)
    assert text.status_code == 200 and text.mimetype == "text/plain"
    body = text.get_data(as_text=True)
    assert "Minutes: Workflow — PCN One" in body
    assert "Huddle Tue 24 Nov 2026, 12:30–13:00 (London time) — held" in body  # noqa: RUF001
    assert "Practices there: Practice One" in body
    assert "Taking part, not there: Practice Two" in body
    assert "1. Scan letters at source" in body and "Action: “Scan letters at source”" in body
    assert "2. Ask <b>LMC</b> about coding" in body
    html = client.get(_url(huddle, f"/{stored['id']}/minutes?format=html"), headers=reader)
    assert html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert "<script>" not in page and "Ask &lt;b&gt;LMC&lt;/b&gt; about coding" in page
    assert "@media print" in page and "<h1>Minutes: Workflow</h1>" in page
    bad = client.get(_url(huddle, f"/{stored['id']}/minutes?format=pdf"), headers=reader)
    assert bad.status_code == 422 and "format" in str(bad.get_json())
    stranger = client.get(
        _url(huddle, f"/{stored['id']}/minutes"), headers=auth(net.members["practice4"])
    )
    assert stranger.status_code == 404


def test_a_meeting_of_another_workstream_is_not_found(client, auth, net, huddle):
    stored = _store(client, auth, net, huddle, starts_at=LAST_TUESDAY).get_json()
    body = {"organisation_id": net.pcn1.id, "title": "Access", "purpose": "Phones."}
    other = client.post(BASE, json=body, headers=auth(net.admins["pcn1"])).get_json()
    response = client.get(
        f"{BASE}/{other['id']}/meetings/{stored['id']}", headers=auth(net.admins["pcn1"])
    )
    assert response.status_code == 404


def test_redaction_reaches_a_huddles_notes_decisions_and_minutes(client, auth, net, huddle):
    moderator = auth(net.admins["pcn1"])
    stored = _store(
        client,
        auth,
        net,
        huddle,
        starts_at=LAST_TUESDAY,
        status="held",
        notes="Letters for Jane Doe were lost.",
        decisions=["Ring jane doe's GP"],
        location="Room by Jane Doe's desk",
    ).get_json()
    redacted = client.post(
        f"{BASE}/{huddle['id']}/redactions", json={"text": "Jane Doe"}, headers=moderator
    )
    assert redacted.status_code == 200
    reader = auth(net.members["practice1"])
    meeting = _url(huddle, f"/{stored['id']}")
    for path in (meeting, f"{meeting}/minutes", f"{meeting}/minutes?format=html"):
        page = client.get(path, headers=reader).get_data(as_text=True)
        assert "jane" not in page.lower() and "[redacted]" in page


def test_during_a_huddle_the_agenda_is_that_huddles(session, net, huddle):
    """ "Last meeting" is the latest that has started, and the agenda is for the next; while a
    huddle is under way its agenda is its own, dated from the one before it."""
    from network.access import load_principal
    from network.uow import UnitOfWork
    from network.workstreams import agenda

    reader = load_principal(session, net.members["practice1"])

    def built(at: datetime):
        return agenda.build(
            UnitOfWork(lambda: session), reader, huddle["id"], public_url="https://x", now=at
        )

    before = built(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    assert before.meeting.starts_at == datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    assert before.since == datetime(2026, 11, 17, 12, 30, tzinfo=UTC)
    during = built(datetime(2026, 11, 24, 12, 45, tzinfo=UTC))
    assert during.meeting.starts_at == before.meeting.starts_at
    assert during.since == before.since
    after = built(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert after.meeting.starts_at == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert after.since == datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    # A cancelled huddle is passed over: the agenda is for the one after it.
    factories.meeting(
        session,
        net.admins["pcn1"],
        session.get_one(Workstream, huddle["id"]),
        starts_at=datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
        status=MeetingStatus.cancelled,
        notes=None,
        decisions=(),
    )
    skipped = built(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert skipped.meeting.starts_at == datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
