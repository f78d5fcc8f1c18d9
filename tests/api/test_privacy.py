"""What an anonymous post and an invitation must never tell: a colleague cannot tell that the
practice-anonymous author is one of them, and an administrator who invites someone reads
nothing of that person's history elsewhere."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from network.audit.models import AuditEntry
from network.people.models import Membership
from network.problems.models import Problem, ProblemTag
from tests import factories


def _signal_story(client, auth, post, author, reader, board):
    """What `reader` is answered, step by step, around a practice-anonymous problem: status
    codes, bodies' `my_practice_affected`, and how `affected_count` moves."""
    problem = post(author, board, anonymity="practice")
    url = f"/api/v1/problems/{problem['id']}"
    headers = auth(reader)
    story = []

    def look():
        detail = client.get(url, headers=headers).get_json()
        listed = client.get(f"/api/v1/problems?board_id={board.id}", headers=headers).get_json()
        item = next(i for i in listed["items"] if i["id"] == problem["id"])
        assert item["my_practice_affected"] == detail["my_practice_affected"]
        assert item["affected_count"] == detail["affected_count"]
        return detail["my_practice_affected"], detail["affected_count"]

    before = look()
    story.append(("before", before[0]))
    for step, call in (
        ("withdraw unsaid", lambda: client.delete(f"{url}/affected", headers=headers)),
        ("say", lambda: client.put(f"{url}/affected", json={}, headers=headers)),
        ("say again", lambda: client.put(f"{url}/affected", json={}, headers=headers)),
        ("withdraw", lambda: client.delete(f"{url}/affected", headers=headers)),
        ("withdraw again", lambda: client.delete(f"{url}/affected", headers=headers)),
    ):
        response = call()
        body = response.get_json() if response.data else {}
        mine, count = look()
        story.append((step, response.status_code, sorted(body), mine, count - before[1]))
    listed = client.get(f"{url}/affected", headers=headers).get_json()["items"]
    story.append(("listed after", [i["practice"]["id"] for i in listed]))
    return story


def test_colleague_cannot_tell_practice_anonymous_author(client, net, auth, post, session):
    author = net.members["practice1"]
    colleague = factories.person(session, member_of=net.practice1)
    stranger = net.members["practice2"]  # another practice of the same PCN
    seen_by_colleague = _signal_story(client, auth, post, author, colleague, net.pcn1)
    seen_by_stranger = _signal_story(client, auth, post, author, stranger, net.pcn1)
    assert seen_by_colleague == seen_by_stranger
    assert seen_by_colleague[0] == ("before", False)
    assert seen_by_colleague[2][1:] == (201, ["created_at", "note", "practice"], True, 1)
    assert seen_by_colleague[3][1] == 200 and seen_by_colleague[5][1] == 404


def test_the_author_of_a_practice_anonymous_post_reads_as_any_reader_too(client, net, auth, post):
    # Their own practice counted once, silently; saying so themselves counts it again.
    author = net.members["practice1"]
    story = _signal_story(client, auth, post, author, author, net.pcn1)
    stranger_story = _signal_story(client, auth, post, author, net.members["practice2"], net.pcn1)
    assert story == stranger_story


def test_a_colleagues_signal_on_a_practice_anonymous_post_is_listed_as_any_practices(
    client, net, auth, post, session
):
    problem = post(net.members["practice1"], net.pcn1, anonymity="practice")
    url = f"/api/v1/problems/{problem['id']}/affected"
    assert client.get(url, headers=auth(net.members["practice2"])).get_json()["items"] == []
    colleague = factories.person(session, member_of=net.practice1)
    assert client.put(url, json={}, headers=auth(colleague)).status_code == 201
    listed = client.get(url, headers=auth(net.members["practice2"])).get_json()["items"]
    assert [i["practice"]["id"] for i in listed] == [net.practice1.id]
    detail = client.get(f"/api/v1/problems/{problem['id']}", headers=auth(colleague)).get_json()
    assert detail["affected_count"] == 2 and detail["practice"] is None


def test_where_the_practice_is_shown_its_colleagues_have_already_said_so(
    client, net, auth, post, session
):
    # Nothing is hidden: the author's practice is on the post, and it has the problem.
    problem = post(net.members["practice1"], net.pcn1, anonymity="person")
    url = f"/api/v1/problems/{problem['id']}"
    colleague = factories.person(session, member_of=net.practice1)
    detail = client.get(url, headers=auth(colleague)).get_json()
    assert detail["my_practice_affected"] is True and detail["affected_count"] == 1
    assert client.put(f"{url}/affected", json={}, headers=auth(colleague)).status_code == 200
    assert client.delete(f"{url}/affected", headers=auth(colleague)).status_code == 409


def test_my_practice_affected_follows_the_readers_own_signal(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1)
    url = f"/api/v1/problems/{problem['id']}"
    reader = net.members["practice2"]
    assert client.get(url, headers=auth(reader)).get_json()["my_practice_affected"] is False
    client.put(f"{url}/affected", json={}, headers=auth(reader))
    assert client.get(url, headers=auth(reader)).get_json()["my_practice_affected"] is True
    # PCN staff with no practice: never "my practice".
    pcn_member = net.members["pcn1"]
    assert client.get(url, headers=auth(pcn_member)).get_json()["my_practice_affected"] is False


def _audit(client, auth, viewer):
    response = client.get("/api/v1/audit?limit=100", headers=auth(viewer))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_inviting_someone_opens_no_window_into_their_history_elsewhere(client, net, auth, session):
    elsewhere = net.members["practice4"]  # federation B, for a week now
    earlier = datetime.now(UTC) - timedelta(days=3)
    session.execute(
        update(Membership)
        .where(Membership.person_id == elsewhere.id)
        .values(created_at=earlier - timedelta(days=4))
    )
    for action in ("signin.succeeded", "token.refreshed"):
        session.add(
            AuditEntry(
                action=action,
                actor_id=elsewhere.id,
                actor_label=elsewhere.email,
                at=earlier,
                channel="oauth",
                details={},
            )
        )
    session.add(
        AuditEntry(
            action="member.role_changed",
            actor_id=net.admins["practice4"].id,
            actor_label="admin",
            organisation_id=net.practice4.id,
            subject_type="person",
            subject_id=elsewhere.id,
            at=earlier,
            channel="api",
            details={},
        )
    )
    session.flush()
    admin = net.admins["practice1"]
    invited = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": elsewhere.email, "role": "member"},
        headers=auth(admin),
    )
    assert invited.status_code == 201
    seen = _audit(client, auth, admin)
    about_them = [e for e in seen if elsewhere.id in (e["actor"]["id"], e["subject_id"])]
    assert [e["action"] for e in about_them] == ["member.invited"]
    # From now on, while they belong, their own sign-ins are the administrator's to read.
    session.add(
        AuditEntry(
            action="signin.succeeded",
            actor_id=elsewhere.id,
            actor_label=elsewhere.email,
            at=datetime.now(UTC) + timedelta(seconds=1),
            channel="oauth",
            details={},
        )
    )
    session.flush()
    actions = [e["action"] for e in _audit(client, auth, admin) if e["actor"]["id"] == elsewhere.id]
    assert actions == ["signin.succeeded"]
    # Federation B's administrators still read their own history, and nothing of A's.
    theirs = _audit(client, auth, net.admins["practice4"])
    assert {e["action"] for e in theirs} >= {"signin.succeeded", "token.refreshed"}
    assert all(e["organisation_id"] in (None, net.practice4.id) for e in theirs)


def test_redacted_text_is_not_findable_anywhere(client, net, auth, post, session):
    from sqlalchemy import select

    from network.activity.models import Activity
    from network.problems.models import AffectedPractice, Comment, ProblemRevision, Report

    author, reader = net.members["practice1"], net.members["practice2"]
    problem = post(author, net.pcn1, title="Letters for Doe-Smith", tags=["Doe-Smith", "letters"])
    base = f"/api/v1/problems/{problem['id']}"
    headers = auth(reader)
    client.put(f"{base}/affected", json={"note": "we saw DOE-SMITH too"}, headers=headers)
    client.post(f"{base}/comments", json={"body": "doe-smith again"}, headers=headers)
    client.post(f"{base}/reports", json={"reason": "Names Doe-Smith"}, headers=headers)
    etag = client.get(base, headers=auth(author)).headers["ETag"]
    edited = client.patch(
        base, json={"body": "About Doe-Smith"}, headers=auth(author) | {"If-Match": etag}
    )
    assert edited.status_code == 200
    findable = (
        "/api/v1/problems?tag=doe-smith",
        "/api/v1/problems?q=Doe-Smith",
    )
    for url in findable:
        assert [i["id"] for i in client.get(url, headers=headers).get_json()["items"]] == [
            problem["id"]
        ]

    done = client.post(
        f"{base}/redactions", json={"text": "Doe-Smith"}, headers=auth(net.admins["pcn1"])
    )
    assert done.status_code == 200, done.get_json()
    for url in findable:
        assert client.get(url, headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/problems?tag=letters", headers=headers).get_json()["items"]
    for url in (
        base,
        f"{base}/comments",
        f"{base}/affected",
        "/api/v1/activity",
        "/api/v1/problems",
        f"/api/v1/reports?organisation_id={net.pcn1.id}",
    ):
        viewer = net.admins["pcn1"] if "reports" in url else reader
        text = client.get(url, headers=auth(viewer)).get_data(as_text=True)
        assert "doe-smith" not in text.lower(), url
    problem_id = problem["id"]
    row = session.get(Problem, problem_id)
    tag_rows = select(ProblemTag.tag).where(ProblemTag.problem_id == problem_id)
    stored = " ".join(
        [row.title, row.body, row.body_html, *row.tags, *session.scalars(tag_rows)]
        + [c.body + c.body_html for c in session.scalars(select(Comment))]
        + [r.title + r.body for r in session.scalars(select(ProblemRevision))]
        + [json.dumps(a.data, ensure_ascii=False) for a in session.scalars(select(Activity))]
        + [s.note or "" for s in session.scalars(select(AffectedPractice))]
        + [r.reason for r in session.scalars(select(Report))]
    )
    assert "doe-smith" not in stored.lower() and "[redacted]" in stored


def test_a_superusers_look_up_of_an_author_is_not_shown_to_the_administrators_of_their_org(
    client, net, auth, session
):
    from network.uow import UnitOfWork

    superuser = factories.person(session, is_superuser=True, member_of=net.practice1)
    uow = UnitOfWork(lambda: session)
    problem_id = client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "t", "body": "b", "anonymity": "person"},
        headers=auth(net.members["practice1"]),
    ).get_json()["id"]
    from network.problems import moderation

    moderation.reveal_author(
        uow, problem_id, superuser_email=superuser.email, reason="report 7 about a colleague"
    )
    session.flush()
    seen = _audit(client, auth, net.admins["practice1"])
    assert "moderation.author_revealed" not in {e["action"] for e in seen}
    assert "report 7" not in str(seen)
    everything = _audit(client, auth, net.superuser)
    assert "moderation.author_revealed" in {e["action"] for e in everything}


@pytest.mark.parametrize(
    "written",
    [
        "Jane  Smithson",
        "**Jane** Smithson",
        "Jane\nSmithson",
        "Jane&nbsp;Smithson",
        "JANE smithson",
    ],
)
def test_redaction_finds_the_text_as_a_reader_sees_it(client, net, auth, post, written):
    problem = post(net.members["practice1"], net.pcn1, body=f"Letters for {written} again.")
    base = f"/api/v1/problems/{problem['id']}"
    done = client.post(
        f"{base}/redactions", json={"text": "Jane Smithson"}, headers=auth(net.admins["pcn1"])
    )
    assert done.status_code == 200 and done.get_json()["places"] >= 1
    shown = client.get(base, headers=auth(net.members["practice2"])).get_json()
    for field in ("body", "body_html", "excerpt"):
        assert "smithson" not in shown[field].lower(), (field, shown[field])


def test_redaction_reaches_tags_whose_lower_case_is_longer(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1, tags=["İstanbul"])
    base = f"/api/v1/problems/{problem['id']}"
    reader = auth(net.members["practice2"])
    assert client.get("/api/v1/problems?tag=İstanbul", headers=reader).get_json()["items"]
    done = client.post(
        f"{base}/redactions", json={"text": "İstanbul"}, headers=auth(net.admins["pcn1"])
    )
    assert done.status_code == 200
    assert client.get("/api/v1/problems?tag=İstanbul", headers=reader).get_json()["items"] == []
    assert "stanbul" not in " ".join(client.get(base, headers=reader).get_json()["tags"])
