"""Remembered reads across processes (network/content.py): each API process keeps its own read
cache, so a change committed through one process must show at once in every other, for the
readers it concerns; a change in another federation must not change what they read.

On PostgreSQL the server is gunicorn with 3 processes; every read below is a burst of parallel
requests, so each process answers some, after every process has remembered the page."""

from __future__ import annotations

import uuid

import pytest

from tests.live.conftest import LiveServer

pytestmark = pytest.mark.xdist_group("live")

LIST = "/problems?sort=hot&limit=25"
READS = 12  # parallel reads: more than the server's processes, so each answers some


def _reads(live: LiveServer, token: str) -> list[dict[int, int]]:
    """Each parallel read's page: problem id -> how many practices have it."""
    outcomes = live.burst([lambda: live.call("GET", LIST, token) for _ in range(READS)])
    live.expect_no_server_errors(outcomes)
    assert all(o.status == 200 for o in outcomes), outcomes
    return [{i["id"]: i["affected_count"] for i in o.body["items"]} for o in outcomes]


def _post(live: LiveServer, token: str, board: int) -> int:
    body = {"board_id": board, "title": f"Problem {uuid.uuid4().hex[:8]}", "body": "Again."}
    return live.ok("POST", "/problems", token, 201, json=body).body["id"]


def test_a_change_through_one_process_shows_at_once_in_every_other(live: LiveServer):
    here = live.network(practices=2, members=1)
    elsewhere = live.network(practices=1, members=1)
    reader, colleague = (live.token(m[0]) for m in here.members)
    outsider = live.token(elsewhere.members[0][0])
    first = _post(live, live.token(here.members[0][0]), here.pcn.id)
    for page in _reads(live, reader):  # every process remembers the page
        assert page == {first: 1}

    # Another federation writes: the reader's page is unchanged, and stays right.
    _post(live, outsider, elsewhere.pcn.id)
    assert all(page == {first: 1} for page in _reads(live, reader))

    # Their own PCN writes, through whichever process takes it: every read after it shows it.
    second = _post(live, colleague, here.pcn.id)
    assert all(page == {first: 1, second: 1} for page in _reads(live, reader))
    live.ok("PUT", f"/problems/{first}/affected", colleague, 201, json={})
    assert all(page == {first: 2, second: 1} for page in _reads(live, reader))
    live.ok("DELETE", f"/problems/{first}/affected", colleague, 204)
    assert all(page == {first: 1, second: 1} for page in _reads(live, reader))


def test_a_lost_membership_shows_at_once_in_every_process(live: LiveServer):
    here = live.network(practices=1, members=2)
    author, reader = here.members[0]
    token = live.token(reader)
    problem = _post(live, live.token(author), here.practices[0].id)
    assert all(page == {problem: 1} for page in _reads(live, token))
    live.ok(
        "DELETE",
        f"/organisations/{here.practices[0].id}/members/{reader.id}",
        live.token(here.admin),
        204,
    )
    outcomes = live.burst([lambda: live.call("GET", LIST, token) for _ in range(READS)])
    live.expect_no_server_errors(outcomes)
    # Whatever each process remembered, none shows the practice's board any more.
    assert all(o.status != 200 or o.body["items"] == [] for o in outcomes), outcomes


def _seen(live: LiveServer, path: str, token: str, field: str = "title") -> list[list[str]]:
    """Each parallel read of a page's items: their titles."""
    outcomes = live.burst([lambda: live.call("GET", path, token) for _ in range(READS)])
    live.expect_no_server_errors(outcomes)
    assert all(o.status == 200 for o in outcomes), outcomes
    return [[i[field] for i in o.body["items"]] for o in outcomes]


def test_a_remembered_workstream_page_and_library_follow_writes_in_any_process(
    live: LiveServer,
):
    """Issue 22's pages are remembered whole (api/remembered.py): an action added, or an entry
    published, through whichever process shows at once in every process's copy."""
    here = live.network(practices=1, members=1)
    admin, reader = live.token(here.admin), live.token(here.members[0][0])
    body = {"organisation_id": here.federation.id, "title": "Workflow", "purpose": "Letters."}
    ws = live.ok("POST", "/workstreams", admin, 201, json=body).body["id"]
    live.ok("PUT", f"/workstreams/{ws}/practices/{here.practices[0].id}", admin, 201)
    actions = f"/workstreams/{ws}/actions"
    assert all(titles == [] for titles in _seen(live, actions, reader))
    action = {
        "title": "Code letters",
        "owner_id": here.members[0][0].id,
        "practice_id": here.practices[0].id,
        "due_on": "2030-01-01",
    }
    live.ok("POST", actions, admin, 201, json=action)
    assert all(titles == ["Code letters"] for titles in _seen(live, actions, reader))

    library = "/library?q=protocol"
    assert all(titles == [] for titles in _seen(live, library, reader))
    entry = {
        "organisation_id": here.federation.id,
        "title": "Letters protocol",
        "summary": "Coded by trained administrators.",
        "body": "Code the letter.",
        "source_workstream_id": ws,
    }
    made = live.ok("POST", "/library", admin, 201, json=entry).body
    # A draft: not in the member's list, in any process.
    assert all(titles == [] for titles in _seen(live, library, reader))
    live.ok(
        "PATCH",
        f"/library/{made['id']}",
        admin,
        200,
        json={"status": "published", "change_note": "Ready"},
        headers={"If-Match": "*"},
    )
    assert all(titles == ["Letters protocol"] for titles in _seen(live, library, reader))
