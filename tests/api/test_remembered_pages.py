"""Issue 22's pages remembered whole (api/remembered.py): a workstream, its actions, its agenda,
a measure's SPC response and a library search. Served again at the cost of one statement (the
numbers of their scopes) while nothing they show has changed; shown afresh at once after any
change to what they read, however it was made; never served to another reader; worked out
afresh when the clock alone changes an agenda."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from network.content import VERSIONED_TABLES
from network.text import LONDON
from network.workstreams import agenda as agenda_module
from network.workstreams import huddles

BASE = "/api/v1/workstreams"
MONDAY = date(2026, 6, 1)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _today() -> date:
    return datetime.now(LONDON).date()


@pytest.fixture
def work(client, auth, net):
    """PCN 1's workstream (a weekly huddle in three days), practices 1 and 2 taking part, an
    action, a measure with points, a problem taken on and a library entry it became."""
    manager = auth(net.admins["pcn1"])
    day = DAYS[(_today() + timedelta(days=3)).weekday()]
    body = {
        "organisation_id": net.pcn1.id,
        "title": "Workflow",
        "purpose": "Letters.",
        "meeting_rule": f"FREQ=WEEKLY;BYDAY={day};BYHOUR=12;BYMINUTE=30",
    }
    ws = client.post(BASE, json=body, headers=manager).get_json()
    for practice in (net.practice1, net.practice2):
        client.put(f"{BASE}/{ws['id']}/practices/{practice.id}", headers=manager)
    action = client.post(
        f"{BASE}/{ws['id']}/actions",
        json={
            "title": "Code letters",
            "owner_id": net.members["practice1"].id,
            "practice_id": net.practice1.id,
            "due_on": (_today() + timedelta(days=1)).isoformat(),
        },
        headers=manager,
    ).get_json()
    measure = client.post(
        f"{BASE}/{ws['id']}/measures",
        json={"name": "Letters per GP per day", "unit": "letters", "better": "down"},
        headers=manager,
    ).get_json()
    points = [
        {
            "practice_id": net.practice1.id,
            "period": (MONDAY + timedelta(weeks=k)).isoformat(),
            "value": 30 + k % 3,
        }
        for k in range(12)
    ]
    posted = client.post(
        f"{BASE}/{ws['id']}/measures/{measure['id']}/points",
        json={"points": points},
        headers=manager,
    )
    assert posted.status_code == 200, posted.get_json()
    problem = client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "Letters pile up", "body": "Every day."},
        headers=auth(net.members["practice1"]),
    ).get_json()
    client.post(f"{BASE}/{ws['id']}/problems/{problem['id']}", headers=manager)
    entry = client.post(
        "/api/v1/library",
        json={
            "organisation_id": net.pcn1.id,
            "title": "Huddle protocol",
            "summary": "How the weekly huddle runs.",
            "body": "Thirty minutes, an agenda built for you.",
            "source_workstream_id": ws["id"],
        },
        headers=manager,
    ).get_json()
    published = client.patch(
        f"/api/v1/library/{entry['id']}",
        json={"status": "published", "change_note": "Ready"},
        headers=manager | {"If-Match": "*"},
    )
    assert published.status_code == 200, published.get_json()
    return {"workstream": ws, "action": action, "measure": measure, "entry": entry}


def _pages(work) -> dict[str, str]:
    ws, measure = work["workstream"]["id"], work["measure"]["id"]
    return {
        "workstream": f"{BASE}/{ws}",
        "actions": f"{BASE}/{ws}/actions",
        "agenda": f"{BASE}/{ws}/agenda",
        "spc": f"{BASE}/{ws}/measures/{measure}/spc",
        "library": "/api/v1/library?q=huddle",
    }


def _get(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("page", ["workstream", "actions", "agenda", "spc", "library"])
def test_a_page_read_again_costs_one_statement_and_answers_the_same(
    client, auth, net, work, page, count_statements, forget
):
    url = _pages(work)[page]
    reader = auth(net.members["practice1"])
    first = _get(client, reader, url)
    with count_statements() as counter:
        again = _get(client, reader, url)
    assert again == first
    assert len(counter.statements) == 1 and "content_scope" in counter.statements[0]
    forget()  # worked out afresh, it is the same page
    with count_statements() as counter:
        assert _get(client, reader, url) == first
    assert len(counter.statements) > 1


def test_the_workstream_etag_is_remembered_with_its_page(client, auth, net, work):
    url = _pages(work)["workstream"]
    manager = auth(net.admins["pcn1"])
    tag = client.get(url, headers=manager).headers["ETag"]
    assert client.get(url, headers=manager | {"If-None-Match": tag}).status_code == 304
    renamed = client.patch(url, json={"title": "Letters"}, headers=manager | {"If-Match": tag})
    assert renamed.status_code == 200, renamed.get_json()
    fresh = client.get(url, headers=manager | {"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.get_json()["title"] == "Letters"
    assert fresh.headers["ETag"] == renamed.headers["ETag"] != tag


# Each: a change made in the database directly (past the application: the triggers of
# migration 0022 raise the scope), the page it shows on, and what shows there.
DIRECT = {
    "workstream": (
        "UPDATE workstream SET title = 'Renamed' WHERE id = :ws",
        "workstream",
        lambda body: body["title"] == "Renamed",
    ),
    "workstream_practice": (
        "DELETE FROM workstream_practice WHERE workstream_id = :ws AND practice_id = :p2",
        "workstream",
        lambda body: [p["practice"]["name"] for p in body["practices"]] == ["Practice One"],
    ),
    "workstream_problem": (
        "DELETE FROM workstream_problem WHERE workstream_id = :ws",
        "workstream",
        lambda body: body["problems"] == [],
    ),
    "workstream_action": (
        "UPDATE workstream_action SET title = 'Route letters' WHERE id = :action",
        "actions",
        lambda body: body["items"][0]["title"] == "Route letters",
    ),
    "workstream_action on the agenda": (
        "UPDATE workstream_action SET title = 'Route letters' WHERE id = :action",
        "agenda",
        lambda body: "Route letters" in str(body["sections"]),
    ),
    "measure": (
        "UPDATE measure SET name = 'Letters a day' WHERE id = :measure",
        "spc",
        lambda body: body["measure"]["name"] == "Letters a day",
    ),
    "measure_point": (
        "UPDATE measure_point SET value = 99 WHERE measure_id = :measure",
        "spc",
        lambda body: {p["value"] for p in body["points"]} == {99},
    ),
    "library_entry": (
        "UPDATE library_entry SET title = 'Huddle protocol v2' WHERE id = :entry",
        "library",
        lambda body: body["items"][0]["title"] == "Huddle protocol v2",
    ),
    "library_entry on its workstream": (
        "UPDATE library_entry SET title = 'Huddle protocol v2' WHERE id = :entry",
        "workstream",
        lambda body: body["library_entries"][0]["title"] == "Huddle protocol v2",
    ),
    "library_adoption": (
        "INSERT INTO library_adoption (entry_id, practice_id, status, version, set_by_id,"
        " created_at, updated_at) VALUES (:entry, :p2, 'adopted', 1, :admin, CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP)",
        "library",
        lambda body: body["items"][0]["adoption_counts"]["adopted"] == 1,
    ),
}


@pytest.mark.parametrize("change", list(DIRECT))
def test_changes_made_in_the_database_directly_show_at_once(
    client, auth, net, work, session, change
):
    statement, page, shows = DIRECT[change]
    url = _pages(work)[page]
    reader = auth(net.admins["pcn1"])
    assert not shows(_get(client, reader, url))  # remembered now
    params = {
        "ws": work["workstream"]["id"],
        "action": work["action"]["id"],
        "measure": work["measure"]["id"],
        "entry": work["entry"]["id"],
        "p2": net.practice2.id,
        "admin": net.admins["practice2"].id,
    }
    session.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
    session.flush()
    assert shows(_get(client, reader, url))


def test_a_change_to_another_workstream_leaves_a_page_remembered(
    client, auth, net, work, count_statements
):
    manager = auth(net.admins["pcn1"])
    url = _pages(work)["workstream"]
    first = _get(client, manager, url)
    other = client.post(
        BASE,
        json={"organisation_id": net.pcn1.id, "title": "Access", "purpose": "Phones."},
        headers=manager,
    ).get_json()
    client.put(f"{BASE}/{other['id']}/practices/{net.practice1.id}", headers=manager)
    with count_statements() as counter:
        assert _get(client, manager, url) == first
    assert len(counter.statements) == 1, counter.statements
    made = client.post(
        f"{BASE}/{work['workstream']['id']}/actions",
        json={
            "title": "More",
            "owner_id": net.members["practice1"].id,
            "practice_id": net.practice1.id,
            "due_on": "2030-01-01",
        },
        headers=manager,
    )
    assert made.status_code == 201, made.get_json()
    with count_statements() as counter:
        _get(client, manager, url)
    assert len(counter.statements) > 1


def test_a_page_is_never_served_to_another_reader(client, auth, net, work):
    pages = _pages(work)
    manager, member = auth(net.admins["pcn1"]), auth(net.members["practice1"])
    assert _get(client, manager, pages["workstream"])["can_manage"] is True
    assert _get(client, member, pages["workstream"])["can_manage"] is False
    outsider = auth(net.members["practice4"])  # another federation
    for page in ("workstream", "actions", "agenda", "spc"):
        assert client.get(pages[page], headers=outsider).status_code == 404, page
    assert _get(client, outsider, pages["library"])["items"] == []


def test_losing_a_membership_loses_the_pages_at_once(client, auth, net, work, session):
    pages = _pages(work)
    member = auth(net.members["practice1"])
    for page in ("workstream", "spc"):
        _get(client, member, pages[page])
    session.execute(
        text("DELETE FROM membership WHERE person_id = :p"), {"p": net.members["practice1"].id}
    )
    session.flush()
    for page in ("workstream", "spc"):
        assert client.get(pages[page], headers=member).status_code in (401, 404), page


def test_every_table_a_remembered_page_reads_raises_a_scope(
    client, auth, net, work, count_statements, forget
):
    # A join added to a remembered page must come with a trigger on its table (a migration),
    # or changes to it would go unseen until something else changed.
    reader = auth(net.admins["pcn1"])
    read: set[str] = set()
    for url in _pages(work).values():
        forget()
        with count_statements() as counter:
            _get(client, reader, url)
        for statement in counter.statements:
            read |= set(re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?', statement))
    assert {"workstream", "measure_point", "library_entry", "workstream_action"} <= read
    assert read - {"content_scope"} <= set(VERSIONED_TABLES), read - set(VERSIONED_TABLES)


def test_more_practices_problems_and_points_take_no_more_statements(
    client, auth, net, work, count_statements, forget
):
    pages = _pages(work)
    manager = auth(net.admins["pcn1"])
    before = {}
    for page, url in pages.items():
        forget()
        with count_statements() as counter:
            _get(client, manager, url)
        before[page] = counter.count
    ws, measure = work["workstream"]["id"], work["measure"]["id"]
    for n in range(3):
        problem = client.post(
            "/api/v1/problems",
            json={"board_id": net.pcn1.id, "title": f"More {n}", "body": "Also."},
            headers=auth(net.members["practice2"]),
        ).get_json()
        client.post(f"{BASE}/{ws}/problems/{problem['id']}", headers=manager)
    more = [
        {
            "practice_id": practice.id,
            "period": (MONDAY + timedelta(weeks=12 + k)).isoformat(),
            "value": 40,
        }
        for k in range(20)
        for practice in (net.practice1, net.practice2)
    ]
    client.post(f"{BASE}/{ws}/measures/{measure}/points", json={"points": more}, headers=manager)
    after = {}
    for page, url in pages.items():
        forget()
        with count_statements() as counter:
            _get(client, manager, url)
        after[page] = counter.count
    assert after == before


def _around(now: datetime, starts: list[datetime]) -> huddles.Around:
    views = [huddles.MeetingView(1, at, 30, occurrence=True) for at in starts]
    started = [v for v in views if v.starts_at <= now]
    ahead = [v for v in views if v.starts_at > now]
    return huddles.Around(
        started[-1] if started else None,
        ahead[0] if ahead else None,
        ahead[1] if len(ahead) > 1 else None,
    )


def test_an_agenda_stands_until_a_huddle_starts_or_ends_or_the_day_turns():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    soon = now + timedelta(seconds=20)
    # A huddle about to start: which huddle the agenda is for changes then.
    assert agenda_module._stands_until(_around(now, [soon]), now) == soon
    # One under way ends at its end; the agenda is the same until then.
    during = _around(now, [now - timedelta(minutes=10)])
    assert during.last is not None
    ends = now - timedelta(minutes=10) + timedelta(minutes=30)
    assert agenda_module._stands_until(during, now) <= ends
    # Late in the day, midnight in London comes first (overdue and due move on).
    late = datetime(2026, 12, 7, 23, 59, 50, tzinfo=UTC)
    midnight = datetime(2026, 12, 8, 0, 0, tzinfo=LONDON)
    assert agenda_module._stands_until(_around(late, []), late) == midnight
    # Otherwise at most a minute: a row stamped by a clock a little ahead shows by then.
    assert agenda_module._stands_until(_around(now, []), now) == now + timedelta(minutes=1)


def test_a_remembered_agenda_is_worked_out_again_once_it_no_longer_stands(
    client, auth, net, work, count_statements, monkeypatch
):
    from api import remembered

    url = _pages(work)["agenda"]
    reader = auth(net.members["practice1"])
    first = _get(client, reader, url)
    with count_statements() as counter:
        _get(client, reader, url)
    assert len(counter.statements) == 1
    later = datetime.now(UTC) + timedelta(minutes=2)
    monkeypatch.setattr(remembered, "utcnow", lambda: later)
    with count_statements() as counter:
        assert _get(client, reader, url) == first
    assert len(counter.statements) > 1
