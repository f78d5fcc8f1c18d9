"""The huddle's agenda (API.md, "Joint workstreams"): built from what changed since the last
huddle, in API.md's order, empty sections left out, each item linking to its subject, and read
as the reader reads: private problems and hidden check-ins are not there.

The huddle here meets three days from today, so the last one was four days ago: the test never
runs during one, whatever the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from network.activity.models import Activity
from network.problems.models import AffectedPractice
from network.text import LONDON
from network.workstreams.models import LinkedProblem, Participation, Workstream

BASE = "/api/v1/workstreams"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _today() -> date:
    return datetime.now(LONDON).date()


@pytest.fixture
def huddle(client, auth, net, session):
    manager = auth(net.admins["pcn1"])
    day = DAYS[(_today() + timedelta(days=3)).weekday()]
    body = {
        "organisation_id": net.pcn1.id,
        "title": "Workflow",
        "purpose": "Letters.",
        "lead_id": net.members["practice1"].id,  # who reads practice 1's private board
        "meeting_rule": f"FREQ=WEEKLY;BYDAY={day};BYHOUR=12;BYMINUTE=30",
    }
    workstream = client.post(BASE, json=body, headers=manager).get_json()
    for practice in (net.practice1, net.practice2):
        client.put(f"{BASE}/{workstream['id']}/practices/{practice.id}", headers=manager)
    began = datetime.now(UTC) - timedelta(days=60)
    session.execute(
        update(Workstream).where(Workstream.id == workstream["id"]).values(created_at=began)
    )
    session.execute(
        update(Participation)
        .where(Participation.workstream_id == workstream["id"])
        .values(joined_at=began)
    )
    return workstream


def _agenda(client, headers, huddle, fmt=None):
    url = f"{BASE}/{huddle['id']}/agenda" + (f"?format={fmt}" if fmt else "")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _action(client, headers, huddle, title, due_on, **more):
    body = {"title": title, "owner_id": more.pop("owner_id"), "due_on": due_on.isoformat()}
    response = client.post(f"{BASE}/{huddle['id']}/actions", json=body | more, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def week(client, auth, net, session, huddle, post):
    """A week of work since the last huddle, as the agenda should pick it up."""
    manager = auth(net.admins["pcn1"])
    member = net.members["practice1"]
    practice1 = {"practice_id": net.practice1.id, "owner_id": member.id}
    empty = _agenda(client, manager, huddle).get_json()
    last = datetime.fromisoformat(empty["last_meeting"]["starts_at"])
    last_day = last.astimezone(LONDON).date()
    today = _today()
    assert empty["sections"] == []  # nothing has happened yet
    assert last_day == today - timedelta(days=4)

    # The last huddle, written up: a decision became an action (due by the next huddle).
    held = client.post(
        f"{BASE}/{huddle['id']}/meetings",
        json={
            "starts_at": empty["last_meeting"]["starts_at"],
            "status": "held",
            "decisions": ["Scan letters at source", "Ask the LMC about coding"],
        },
        headers=manager,
    ).get_json()
    made = client.post(
        f"{BASE}/{huddle['id']}/meetings/{held['id']}/decisions/0/action", json={}, headers=manager
    ).get_json()

    carried = _action(
        client,
        manager,
        huddle,
        "Audit a week of letters",
        last_day - timedelta(days=1),
        **practice1,
    )
    overdue = _action(
        client, manager, huddle, "Train the admin team", today - timedelta(days=2), **practice1
    )
    due = _action(
        client, manager, huddle, "Share the protocol", today + timedelta(days=1), **practice1
    )
    _action(client, manager, huddle, "Review in spring", today + timedelta(days=60), **practice1)
    won = _action(
        client, manager, huddle, "Set up the shared inbox", today + timedelta(days=5), **practice1
    )
    client.patch(
        f"{BASE}/{huddle['id']}/actions/{won['id']}", json={"status": "done"}, headers=manager
    )
    dropped = _action(
        client, manager, huddle, "Buy a scanner", today - timedelta(days=1), **practice1
    )
    client.patch(
        f"{BASE}/{huddle['id']}/actions/{dropped['id']}",
        json={"status": "dropped"},
        headers=manager,
    )

    # A problem taken on before the last huddle, that a practice now has too; one taken on
    # this week; and practice 1's private problem, taken on this week.
    older = post(net.members["practice1"], net.pcn1, title="Letters arrive as five PDFs")
    newer = post(net.members["practice2"], net.pcn1, title="Coding backlog")
    private = post(net.members["practice1"], net.practice1, title="Our scanner is broken")
    for problem in (older, newer, private):
        linked = client.post(
            f"{BASE}/{huddle['id']}/problems/{problem['id']}",
            headers=auth(member if problem is private else net.admins["pcn1"]),
        )
        assert linked.status_code == 201, linked.get_json()
    # The older problem was posted (its author's practice affected) and taken on back then.
    session.execute(
        update(LinkedProblem)
        .where(LinkedProblem.problem_id == older["id"])
        .values(linked_at=last - timedelta(days=1))
    )
    session.execute(
        update(AffectedPractice)
        .where(AffectedPractice.problem_id == older["id"])
        .values(created_at=last - timedelta(days=2))
    )
    signalled = client.put(
        f"/api/v1/problems/{older['id']}/affected", json={}, headers=auth(net.members["practice2"])
    )
    assert signalled.status_code == 201

    said = client.post(
        f"{BASE}/{huddle['id']}/updates",
        json={"body": "Backlog **down** to 40."},
        headers=auth(member),
    )
    hidden = client.post(
        f"{BASE}/{huddle['id']}/updates",
        json={"body": "Rude words."},
        headers=auth(net.members["practice2"]),
    ).get_json()
    assert (
        client.post(
            f"{BASE}/{huddle['id']}/hide?check_in_id={hidden['id']}", headers=manager
        ).status_code
        == 200
    )
    return {
        "held": held,
        "made": made,
        "carried": carried,
        "overdue": overdue,
        "due": due,
        "won": won,
        "older": older,
        "newer": newer,
        "private": private,
        "check_in": said.get_json(),
    }


def _kinds(agenda):
    return [(s["kind"], [(i["kind"], i["text"]) for i in s["items"]]) for s in agenda["sections"]]


def test_the_agenda_is_what_changed_since_the_last_huddle_in_order(client, auth, net, huddle, week):
    agenda = _agenda(client, auth(net.members["practice2"]), huddle).get_json()
    assert agenda["workstream"] == {"id": huddle["id"], "title": "Workflow"}
    assert _kinds(agenda) == [
        (
            "carried_over",
            [
                ("decision", "Scan letters at source"),
                ("decision", "Ask the LMC about coding"),
                ("action", "Audit a week of letters"),
            ],
        ),
        (
            "problems",
            [
                ("problem_linked", "Coding backlog"),
                ("problem_signals", "Letters arrive as five PDFs"),
            ],
        ),
        ("overdue_actions", [("action", "Train the admin team")]),
        # The decision's action is followed up with its decision, not again here.
        ("due_actions", [("action", "Share the protocol")]),
        ("check_ins", [("check_in", "Backlog down to 40.")]),
        ("completed_actions", [("action", "Set up the shared inbox")]),
    ]
    sections = {s["kind"]: s for s in agenda["sections"]}
    decision = sections["carried_over"]["items"][0]
    assert decision["subject"] == {"type": "meeting", "id": week["held"]["id"]}
    assert decision["action"]["id"] == week["made"]["id"] and decision["decision"] == 0
    assert sections["carried_over"]["items"][1]["action"] is None
    signals = sections["problems"]["items"][1]
    assert signals["new_practices"] == 1 and signals["practices_affected"] == 2
    assert signals["link"] == f"http://127.0.0.1:5000/problems/{week['older']['id']}"
    assert signals["practice"] is None and signals["author"] is None  # counted, never named
    check_in = sections["check_ins"]["items"][0]
    assert check_in["practice"]["name"] == "Practice One"
    assert sum(s["minutes"] for s in agenda["sections"]) == 30
    assert all(s["minutes"] >= 1 for s in agenda["sections"])
    starts = datetime.fromisoformat(agenda["meeting"]["starts_at"])
    assert starts.astimezone(LONDON).date() == _today() + timedelta(days=3)
    assert starts.astimezone(LONDON).strftime("%H:%M") == "12:30"


def test_a_private_problem_is_on_its_practices_agenda_only(client, auth, net, huddle, week):
    def problems(person):
        agenda = _agenda(client, auth(person), huddle).get_json()
        found = [s for s in agenda["sections"] if s["kind"] == "problems"]
        return [item["text"] for item in found[0]["items"]] if found else []

    assert "Our scanner is broken" in problems(net.members["practice1"])
    for outsider in (net.members["practice2"], net.admins["pcn1"]):
        assert "Our scanner is broken" not in problems(outsider)


def test_the_agenda_as_text_and_html_to_paste_into_an_invite(client, auth, net, huddle, week):
    reader = auth(net.members["practice1"])
    text = _agenda(client, reader, huddle, "text")
    assert text.mimetype == "text/plain"
    body = text.get_data(as_text=True)
    assert body.startswith("Workflow — PCN One\n")
    assert "1. Carried over from last time (" in body
    assert "Decision: Scan letters at source → an action, open, due" in body
    assert "“Audit a week of letters” — " in body and "was due" in body
    assert "Coding backlog" in body and "1 more practice has it too (now 2)" in body
    assert "Practice One (" in body and "Backlog down to 40." in body
    assert "Rude words" not in body
    html = _agenda(client, reader, huddle, "html")
    assert html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert f'href="http://127.0.0.1:5000/problems/{week["newer"]["id"]}"' in page
    assert "Done since last time" in page


def test_an_agenda_is_a_constant_number_of_statements(
    client, auth, net, huddle, week, count_statements, forget
):
    reader = auth(net.members["practice1"])
    _agenda(client, reader, huddle)  # what a first request remembers (keys)
    forget()
    with count_statements() as before:
        _agenda(client, reader, huddle)
    manager = auth(net.admins["pcn1"])
    for n in range(3):
        _action(
            client,
            manager,
            huddle,
            f"More work {n}",
            _today() + timedelta(days=1),
            practice_id=net.practice2.id,
            owner_id=net.members["practice2"].id,
        )
        client.post(f"{BASE}/{huddle['id']}/updates", json={"body": f"Update {n}"}, headers=reader)
    forget()
    with count_statements() as after:
        _agenda(client, reader, huddle)
    assert after.count == before.count
    with count_statements() as again:  # remembered: the numbers of its scopes alone
        _agenda(client, reader, huddle)
    assert again.count == 1, again.statements


def test_without_a_huddle_the_agenda_still_reads(client, auth, net):
    manager = auth(net.admins["pcn1"])
    body = {"organisation_id": net.pcn1.id, "title": "Access", "purpose": "Phones."}
    plain = client.post(BASE, json=body, headers=manager).get_json()
    agenda = _agenda(client, manager, plain).get_json()
    assert agenda["meeting"] is None and agenda["last_meeting"] is None
    assert agenda["sections"] == []
    text = _agenda(client, manager, plain, "text").get_data(as_text=True)
    assert "No huddle is scheduled." in text and "Nothing changed" in text
    stranger = client.get(f"{BASE}/{plain['id']}/agenda", headers=auth(net.members["practice4"]))
    assert stranger.status_code == 404


def test_special_cause_signals_since_the_last_huddle_improvement_first(
    client, auth, net, huddle, session
):
    manager = auth(net.admins["pcn1"])
    measures = f"{BASE}/{huddle['id']}/measures"

    def define(name):
        body = {"name": name, "unit": "minutes", "better": "down"}
        return client.post(measures, json=body, headers=manager).get_json()

    def post(measure, series):
        first = _today() - timedelta(weeks=10)
        points = [
            {
                "practice_id": practice.id,
                "period": (first + timedelta(weeks=k)).isoformat(),
                "value": v,
            }
            for practice, values in series
            for k, v in enumerate(values)
        ]
        response = client.post(
            f"{measures}/{measure['id']}/points", json={"points": points}, headers=manager
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["signals"]

    # Practice 1's minutes fall week on week (improvement), practice 2's rise (concern); the
    # network's mean stays level (no signal of its own).
    letters = define("Minutes on letters")
    falling, rising = [30 - k for k in range(7)], [10 + k for k in range(7)]
    posted = post(letters, [(net.practice2, rising), (net.practice1, falling)])
    assert [(s["practice"]["name"], s["variation"]) for s in posted] == [
        ("Practice One", "improvement_low"),
        ("Practice Two", "concern_high"),
    ]
    # A signal before the last huddle was on that huddle's agenda, not this one.
    older = define("Minutes on calls")
    post(older, [(net.practice1, falling)])
    last = _agenda(client, manager, huddle).get_json()["last_meeting"]["starts_at"]
    session.execute(
        update(Activity)
        .where(Activity.verb == "measure_signal", Activity.subject_id == older["id"])
        .values(at=datetime.fromisoformat(last) - timedelta(hours=1))
    )

    agenda = _agenda(client, auth(net.members["practice2"]), huddle).get_json()
    sections = {s["kind"]: s for s in agenda["sections"]}
    assert agenda["sections"][0]["kind"] == "signals"
    items = sections["signals"]["items"]
    assert [(i["text"], i["practice"]["name"], i["variation"], i["rules"]) for i in items] == [
        ("Minutes on letters", "Practice One", "improvement_low", ["trend"]),
        ("Minutes on letters", "Practice Two", "concern_high", ["trend"]),
    ]
    assert items[0]["measure"] == {"id": letters["id"], "name": "Minutes on letters"}
    assert items[0]["subject"] == {"type": "measure", "id": letters["id"]}
    assert items[0]["period"] == (_today() - timedelta(weeks=4)).isoformat()
    text = _agenda(client, manager, huddle, "text").get_data(as_text=True)
    assert (
        "“Minutes on letters”, Practice One: special-cause improvement (low) — "
        "7 rising or falling (point of " in text
    )
