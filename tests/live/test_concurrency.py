"""Concurrency, for real: parallel HTTP requests (threads released together by a barrier) at a
running server, on SQLite (`commons run`) and on PostgreSQL (gunicorn, 3 processes).

Every response is checked: no 5xx ever (a 503 only with Retry-After, retried like a client),
and the outcomes and the counts afterwards are exact."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from network.people.models import Membership, Person
from network.problems.models import AffectedPractice, Comment
from tests.live.conftest import LiveServer, Outcome, describe

# One xdist worker starts the servers (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("live")

N = 20


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _post_problem(live: LiveServer, token: str, board_id: int) -> tuple[int, str]:
    created = live.ok(
        "POST",
        "/problems",
        token,
        201,
        json={"board_id": board_id, "title": f"Problem {_tag()}", "body": "It keeps happening."},
    )
    assert created.etag, f"no ETag on 201: {created.headers}"
    return created.body["id"], created.etag


def _version(etag: str) -> int:
    match = re.fullmatch(r'(?:W/)?"(\d+)-(\d+)-[0-9a-f]+"', etag)
    assert match, f"unexpected ETag {etag!r}"
    return int(match.group(2))


def _problem(live: LiveServer, token: str, problem_id: int) -> Outcome:
    return live.ok("GET", f"/problems/{problem_id}", token)


def test_parallel_comments_all_land(live: LiveServer):
    net = live.network(practices=1, members=N + 1)
    author, *commenters = net.members[0]
    author_token = live.token(author)
    problem_id, _ = _post_problem(live, author_token, net.federation.id)
    tokens = [live.token(p) for p in commenters]

    outcomes = live.burst(
        [
            lambda t=t, i=i: live.call(
                "POST",
                f"/problems/{problem_id}/comments",
                t,
                json={"body": f"Comment {i}", "kind": "comment"},
                label=f"comment {i}",
            )
            for i, t in enumerate(tokens)
        ]
    )

    live.expect(outcomes, {201: N})
    assert _problem(live, author_token, problem_id).body["comment_count"] == N
    assert live.count(Comment, Comment.problem_id == problem_id) == N


def test_parallel_signals_from_one_practice_count_once(live: LiveServer):
    net = live.network(practices=2, members=[1, N])
    author_token = live.token(net.members[0][0])
    problem_id, _ = _post_problem(live, author_token, net.federation.id)
    tokens = [live.token(p) for p in net.members[1]]

    outcomes = live.burst(
        [
            lambda t=t, i=i: live.call(
                "PUT", f"/problems/{problem_id}/affected", t, json={}, label=f"signal {i}"
            )
            for i, t in enumerate(tokens)
        ]
    )

    live.expect(outcomes, {201: 1, 200: N - 1})
    assert _problem(live, author_token, problem_id).body["affected_count"] == 2
    assert live.count(AffectedPractice, AffectedPractice.problem_id == problem_id) == 2


def test_parallel_signals_and_withdrawals_of_one_practice_keep_the_count(live: LiveServer):
    """People of one practice say so and withdraw at once, over and over: every answer is a
    success or a clean 404 (nothing to withdraw), never a server error, and the count always
    equals the signals stored."""
    net = live.network(practices=2, members=[1, N])
    author_token = live.token(net.members[0][0])
    problem_id, _ = _post_problem(live, author_token, net.federation.id)
    tokens = [live.token(p) for p in net.members[1]]
    path = f"/problems/{problem_id}/affected"

    for round_ in range(3):
        outcomes = live.burst(
            [
                lambda t=t, i=i, r=round_: live.call(
                    "PUT" if i % 2 else "DELETE",
                    path,
                    t,
                    json={} if i % 2 else None,
                    label=f"round {r} {'signal' if i % 2 else 'withdraw'} {i}",
                )
                for i, t in enumerate(tokens)
            ]
        )
        live.expect_no_server_errors(outcomes)
        assert {o.status for o in outcomes} <= {200, 201, 204, 404}, describe(outcomes)
        stored = live.count(AffectedPractice, AffectedPractice.problem_id == problem_id)
        assert _problem(live, author_token, problem_id).body["affected_count"] == stored


def test_parallel_signals_from_different_practices_all_count(live: LiveServer):
    net = live.network(practices=N + 1, members=1)
    author_token = live.token(net.members[0][0])
    problem_id, _ = _post_problem(live, author_token, net.federation.id)
    tokens = [live.token(members[0]) for members in net.members[1:]]

    outcomes = live.burst(
        [
            lambda t=t, i=i: live.call(
                "PUT", f"/problems/{problem_id}/affected", t, json={}, label=f"signal {i}"
            )
            for i, t in enumerate(tokens)
        ]
    )

    live.expect(outcomes, {201: N})
    assert _problem(live, author_token, problem_id).body["affected_count"] == N + 1
    assert live.count(AffectedPractice, AffectedPractice.problem_id == problem_id) == N + 1


def test_parallel_edits_with_one_etag_one_wins(live: LiveServer):
    net = live.network(practices=1, members=1)
    token = live.token(net.members[0][0])
    problem_id, etag = _post_problem(live, token, net.federation.id)
    titles = [f"Edit {i} {_tag()}" for i in range(N)]

    outcomes = live.burst(
        [
            lambda title=title, i=i: live.call(
                "PATCH",
                f"/problems/{problem_id}",
                token,
                json={"title": title},
                headers={"If-Match": etag},
                label=f"edit {i}",
            )
            for i, title in enumerate(titles)
        ]
    )

    live.expect(outcomes, {200: 1, 412: N - 1})
    [winner] = [titles[i] for i, o in enumerate(outcomes) if o.status == 200]
    final = _problem(live, token, problem_id)
    assert final.body["title"] == winner, "a lost edit: the stored title is not the winner's"
    assert _version(final.etag) == _version(etag) + 1, describe(outcomes)


def test_parallel_invitations_of_one_email_to_one_organisation(live: LiveServer):
    n = 10
    net = live.network(practices=1, members=0)
    token = live.token(net.admin)
    practice_id = net.practices[0].id
    email = f"invitee.{_tag()}@live.example.org"

    outcomes = live.burst(
        [
            lambda i=i: live.call(
                "POST",
                f"/organisations/{practice_id}/members",
                token,
                json={"email": email, "role": "member"},
                label=f"invite {i}",
            )
            for i in range(n)
        ]
    )

    live.expect(outcomes, {201: 1, 200: n - 1})
    assert live.count(Person, Person.email == email) == 1
    person_id = live.scalar(select(Person.id).where(Person.email == email))
    assert (
        live.count(
            Membership,
            Membership.person_id == person_id,
            Membership.organisation_id == practice_id,
        )
        == 1
    )


def test_parallel_invitations_of_one_email_to_many_organisations(live: LiveServer):
    net = live.network(practices=N, members=0)
    token = live.token(net.admin)
    email = f"invitee.{_tag()}@live.example.org"

    outcomes = live.burst(
        [
            lambda org_id=org.id: live.call(
                "POST",
                f"/organisations/{org_id}/members",
                token,
                json={"email": email, "role": "member"},
                label=f"invite to {org_id}",
            )
            for org in net.practices
        ]
    )

    live.expect(outcomes, {201: N})
    assert live.count(Person, Person.email == email) == 1
    person_id = live.scalar(select(Person.id).where(Person.email == email))
    assert live.count(Membership, Membership.person_id == person_id) == N


def test_parallel_removals_of_one_membership_make_one_204(live: LiveServer):
    n = 10
    net = live.network(practices=1, members=1)
    token = live.token(net.admin)
    practice_id = net.practices[0].id
    member_id = net.members[0][0].id

    outcomes = live.burst(
        [
            lambda i=i: live.call(
                "DELETE",
                f"/organisations/{practice_id}/members/{member_id}",
                token,
                label=f"remove {i}",
            )
            for i in range(n)
        ]
    )

    live.expect(outcomes, {204: 1, 404: n - 1})
    assert live.count(Membership, Membership.person_id == member_id) == 0


def test_parallel_digest_preferences_of_one_person(live: LiveServer):
    net = live.network(practices=1, members=1)
    token = live.token(net.members[0][0])
    preference = {
        "frequency": "weekly",
        "weekday": 0,
        "hour": 7,
        "timezone": "Europe/London",
        "content": "full",
        "notify": {"action_assigned": False, "agenda": True},
    }

    outcomes = live.burst(
        [
            lambda i=i: live.call("PUT", "/me/digest", token, json=preference, label=f"digest {i}")
            for i in range(N)
        ]
    )

    live.expect(outcomes, {200: N})
    assert live.ok("GET", "/me/digest", token).body == preference


def test_a_mixed_burst(live: LiveServer):
    k = N // 4  # comments, signals, edits and reads: 5 of each
    net = live.network(practices=k + 1, members=[1 + k] + [1] * k)
    author = net.members[0][0]
    author_token = live.token(author)
    problem_id, etag = _post_problem(live, author_token, net.federation.id)
    original_title = _problem(live, author_token, problem_id).body["title"]
    commenters = [live.token(p) for p in net.members[0][1:]]
    signallers = [live.token(members[0]) for members in net.members[1:]]

    calls = []
    for i, t in enumerate(commenters):
        calls.append(
            lambda t=t, i=i: live.call(
                "POST",
                f"/problems/{problem_id}/comments",
                t,
                json={"body": f"Mixed comment {i}", "kind": "comment"},
                label=f"comment {i}",
            )
        )
    for i, t in enumerate(signallers):
        calls.append(
            lambda t=t, i=i: live.call(
                "PUT", f"/problems/{problem_id}/affected", t, json={}, label=f"signal {i}"
            )
        )
    for i in range(k):
        calls.append(
            lambda i=i: live.call(
                "PATCH",
                f"/problems/{problem_id}",
                author_token,
                json={"title": f"Mixed edit {i} {_tag()}"},
                headers={"If-Match": etag},
                label=f"edit {i}",
            )
        )
    for i, t in enumerate(signallers):
        calls.append(
            lambda t=t, i=i: live.call("GET", f"/problems/{problem_id}", t, label=f"read {i}")
        )

    outcomes = live.burst(calls)

    live.expect_no_server_errors(outcomes)
    comments, signals, edits, reads = (outcomes[i * k : (i + 1) * k] for i in range(4))
    live.expect(comments, {201: k})
    live.expect(signals, {201: k})
    # The ETag covers what GET shows (counts included): an edit that lands after a comment or
    # a signal was made against a representation that has moved, so it is 412 too. At most one
    # edit wins, and the title is the winner's or the original: no edit is lost or merged.
    statuses = [o.status for o in edits]
    assert set(statuses) <= {200, 412} and statuses.count(200) <= 1, describe(edits)
    live.expect(reads, {200: k})
    final = _problem(live, author_token, problem_id).body
    assert (final["comment_count"], final["affected_count"]) == (k, k + 1), describe(outcomes)
    won = [o for o in edits if o.status == 200]
    assert final["title"] == (won[0].body["title"] if won else original_title)


def test_a_write_blocked_by_a_long_transaction_is_a_503_to_retry_not_a_500(live: LiveServer):
    """Another transaction holds the problem (PostgreSQL: its row; SQLite: the write lock) for
    longer than the API waits: the request answers 503 with Retry-After after the lock timeout,
    well before gunicorn's 30 s worker timeout, and succeeds once the lock is gone."""
    import time

    import requests
    from sqlalchemy import text

    net = live.network(practices=1, members=1)
    token = live.token(net.members[0][0])
    problem_id, _etag = _post_problem(live, token, net.pcn.id)
    url = f"{live.base_url}/api/v1/problems/{problem_id}/comments"
    headers = {"Authorization": f"Bearer {token}"}
    holder = live.session_factory()
    try:
        holder.execute(
            text("UPDATE problem SET comment_count = comment_count WHERE id = :id"),
            {"id": problem_id},
        )
        started = time.monotonic()
        blocked = requests.post(url, json={"body": "Same here"}, headers=headers, timeout=60)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert blocked.status_code == 503, blocked.text
    assert blocked.headers["Retry-After"] == "1"
    assert blocked.json()["message"].startswith("The database is busy")
    assert waited < 20, waited
    assert live.count(Comment, Comment.problem_id == problem_id) == 0
    after = requests.post(url, json={"body": "Same here"}, headers=headers, timeout=60)
    assert after.status_code == 201, after.text
