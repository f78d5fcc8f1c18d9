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
