"""Joint workstreams (API.md, "Joint workstreams"): from shared problems to work practices do
together, with actions, check-ins, and private problems that stay private."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from network.workstreams import queries as workstream_queries

BASE = "/api/v1/workstreams"


@pytest.fixture
def start(client, auth, net):
    """`start(person, **fields)` -> the workstream they started on PCN One (201)."""

    def _start(person=None, **fields):
        body = {
            "organisation_id": net.pcn1.id,
            "title": "Workflow",
            "purpose": "Take clinical correspondence off GPs.",
            "aim": "40 minutes a day back for each GP",
        } | fields
        response = client.post(BASE, json=body, headers=auth(person or net.admins["pcn1"]))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _start


def _get(client, auth, person, url):
    return client.get(url, headers=auth(person))


def _join(client, auth, person, workstream, practice):
    return client.put(f"{BASE}/{workstream['id']}/practices/{practice.id}", headers=auth(person))


def test_a_clinical_director_starts_a_workstream_from_two_shared_problems(
    client, auth, net, post, start
):
    first = post(net.members["practice1"], net.pcn1, title="Letters by fax")
    second = post(net.members["practice2"], net.pcn1, title="Letters scanned twice")
    workstream = start(problem_ids=[first["id"], second["id"]], lead_id=net.admins["pcn1"].id)
    assert workstream["status"] == "proposed"
    assert workstream["organisation"]["id"] == net.pcn1.id
    assert workstream["lead"]["id"] == net.admins["pcn1"].id
    assert [p["id"] for p in workstream["problems"]] == [first["id"], second["id"]]
    assert workstream["can_manage"] is True
    problem = _get(client, auth, net.members["practice2"], f"/api/v1/problems/{first['id']}")
    assert problem.get_json()["status"] == "in_workstream"
    assert problem.get_json()["workstreams"] == [
        {"id": workstream["id"], "title": "Workflow", "status": "proposed"}
    ]
    listed = _get(client, auth, net.members["practice1"], BASE).get_json()["items"]
    assert [w["id"] for w in listed] == [workstream["id"]]
    assert listed[0]["practice_count"] == 0


@pytest.mark.parametrize(
    ("who", "organisation", "status"),
    [
        ("member:practice1", "pcn1", 403),  # reads the PCN, does not administer it
        ("admin:practice1", "pcn1", 403),
        ("admin:pcn1", "practice1", 422),  # a practice (which it sees) owns none
        ("member:practice1", "practice1", 422),  # practices do not own workstreams
        ("admin:fed_b", "pcn1", 404),  # another federation: it does not exist for them
    ],
)
def test_who_may_start_one(client, auth, net, who, organisation, status):
    role, name = who.split(":")
    person = (net.members if role == "member" else net.admins)[name]
    response = client.post(
        BASE,
        json={"organisation_id": getattr(net, organisation).id, "title": "T", "purpose": "P"},
        headers=auth(person),
    )
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "organisation_id" in str(response.get_json())


def test_practices_join_and_leave_and_a_leaver_keeps_its_history(client, auth, net, start):
    workstream = start()
    url = f"{BASE}/{workstream['id']}"
    assert (
        _join(client, auth, net.admins["practice1"], workstream, net.practice1).status_code == 201
    )
    assert (
        _join(client, auth, net.admins["practice1"], workstream, net.practice1).status_code == 200
    )
    assert _join(client, auth, net.admins["pcn1"], workstream, net.practice2).status_code == 201
    # A practice of another PCN does not take part in PCN One's work.
    outside = _join(client, auth, net.admins["pcn1"], workstream, net.practice3)
    assert outside.status_code == 422 and "practice_id" in str(outside.get_json())
    action = client.post(
        f"{url}/actions",
        json={
            "title": "Scan at source",
            "owner_id": net.members["practice2"].id,
            "due_on": "2030-01-01",
        },
        headers=auth(net.members["practice2"]),
    )
    assert action.status_code == 201, action.get_json()
    left = client.delete(f"{url}/practices/{net.practice2.id}", headers=auth(net.admins["pcn1"]))
    assert left.status_code == 200
    assert [a["title"] for a in left.get_json()["open_actions"]] == ["Scan at source"]
    detail = _get(client, auth, net.members["practice1"], url).get_json()
    practices = {p["practice"]["id"]: p for p in detail["practices"]}
    assert practices[net.practice2.id]["left_at"] is not None
    assert practices[net.practice2.id]["open_actions"] == 1
    assert detail["practice_count"] == 1
    # It left: it keeps its history, not its say over its actions.
    own = client.patch(
        f"{url}/actions/{action.get_json()['id']}",
        json={"status": "done"},
        headers=auth(net.members["practice2"]),
    )
    assert own.status_code == 403
    # The managers reassign its action to a practice still taking part.
    reassigned = client.patch(
        f"{url}/actions/{action.get_json()['id']}",
        json={"practice_id": net.practice1.id, "owner_id": net.members["practice1"].id},
        headers=auth(net.admins["pcn1"]),
    )
    assert reassigned.status_code == 200, reassigned.get_json()
    assert reassigned.get_json()["practice"]["id"] == net.practice1.id
    # It left: its members no longer add actions.
    refused = client.post(
        f"{url}/actions",
        json={"title": "More", "owner_id": net.members["practice2"].id, "due_on": "2030-01-01"},
        headers=auth(net.members["practice2"]),
    )
    assert refused.status_code == 403


def test_a_practice_member_cannot_join_for_the_practice(client, auth, net, start):
    workstream = start()
    response = _join(client, auth, net.members["practice2"], workstream, net.practice2)
    assert response.status_code == 403


def test_actions_are_overdue_by_the_practices_date_and_record_who_completed_them(
    client, auth, net, start
):
    workstream = start()
    url = f"{BASE}/{workstream['id']}"
    _join(client, auth, net.admins["practice1"], workstream, net.practice1)
    member = net.members["practice1"]
    yesterday = workstream_queries.today() - timedelta(days=1)
    overdue = client.post(
        f"{url}/actions",
        json={"title": "Audit letters", "owner_id": member.id, "due_on": yesterday.isoformat()},
        headers=auth(member),
    ).get_json()
    assert overdue["overdue"] is True and overdue["practice"]["id"] == net.practice1.id
    due_today = client.post(
        f"{url}/actions",
        json={
            "title": "Draft protocol",
            "owner_id": member.id,
            "due_on": workstream_queries.today().isoformat(),
        },
        headers=auth(member),
    ).get_json()
    assert due_today["overdue"] is False
    done = client.patch(
        f"{url}/actions/{overdue['id']}", json={"status": "done"}, headers=auth(member)
    ).get_json()
    assert done["overdue"] is False
    assert done["completed_by"]["id"] == member.id and done["completed_at"]
    listed = _get(client, auth, net.members["practice2"], f"{url}/actions").get_json()["items"]
    assert [a["title"] for a in listed] == ["Audit letters", "Draft protocol"]
    # The owner must read the workstream: someone of another PCN cannot own an action.
    stranger = client.post(
        f"{url}/actions",
        json={"title": "X", "owner_id": net.members["practice3"].id, "due_on": "2030-01-01"},
        headers=auth(member),
    )
    assert stranger.status_code == 422 and "owner_id" in str(stranger.get_json())


def test_a_private_problem_stays_invisible_to_other_practices_in_every_view(
    client, auth, net, post, start
):
    lead = net.members["practice1"]  # reads practice 1's own board
    private = post(lead, net.practice1, title="Our locum rota is failing")
    workstream = start(lead_id=lead.id)
    url = f"{BASE}/{workstream['id']}"
    # The PCN's administrator does not read practice 1's board: for them it does not exist.
    assert (
        client.post(f"{url}/problems/{private['id']}", headers=auth(net.admins["pcn1"])).status_code
        == 404
    )
    linked = client.post(f"{url}/problems/{private['id']}", headers=auth(lead))
    assert linked.status_code == 201
    assert [p["id"] for p in linked.get_json()["problems"]] == [private["id"]]
    outsider = net.members["practice2"]
    for person in (outsider, net.admins["pcn1"]):
        body = _get(client, auth, person, url).get_data(as_text=True)
        assert "locum rota" not in body and str(private["id"]) not in str(
            _get(client, auth, person, url).get_json()["problems"]
        )
        feed = _get(client, auth, person, "/api/v1/activity").get_data(as_text=True)
        assert "locum rota" not in feed
        assert "took on" not in feed
    # Those who read it see it in the workstream, and the workstream on it.
    assert _get(client, auth, lead, f"/api/v1/problems/{private['id']}").get_json()[
        "workstreams"
    ] == [{"id": workstream["id"], "title": "Workflow", "status": "proposed"}]


def test_linking_unlinking_and_completing_move_the_problems_status(client, auth, net, post, start):
    problem = post(net.members["practice1"], net.pcn1, title="Letters by fax")
    other = post(net.members["practice2"], net.pcn1, title="Scanned twice")
    workstream = start(problem_ids=[problem["id"], other["id"]])
    url = f"{BASE}/{workstream['id']}"
    manager = auth(net.admins["pcn1"])
    assert client.delete(f"{url}/problems/{other['id']}", headers=manager).status_code == 204
    reader = net.members["practice1"]
    assert _get(client, auth, reader, f"/api/v1/problems/{other['id']}").get_json()["status"] == (
        "discussing"
    )
    etag = client.get(url, headers=manager).headers["ETag"]
    assert client.patch(url, json={"status": "completed"}, headers=manager).status_code == 428
    stale = client.patch(url, json={"status": "active"}, headers=manager | {"If-Match": '"x"'})
    assert stale.status_code == 412
    done = client.patch(
        url,
        json={"status": "completed", "solve_problems": True},
        headers=manager | {"If-Match": etag},
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"
    assert _get(client, auth, reader, f"/api/v1/problems/{problem['id']}").get_json()["status"] == (
        "solved"
    )


def test_check_ins_come_from_practices_taking_part(client, auth, net, start):
    workstream = start()
    url = f"{BASE}/{workstream['id']}/updates"
    member = net.members["practice1"]
    refused = client.post(url, json={"body": "We started."}, headers=auth(member))
    assert refused.status_code == 403
    _join(client, auth, net.admins["practice1"], workstream, net.practice1)
    posted = client.post(url, json={"body": "We **started** scanning."}, headers=auth(member))
    assert posted.status_code == 201
    assert "<strong>started</strong>" in posted.get_json()["body_html"]
    assert posted.get_json()["practice"]["id"] == net.practice1.id
    guarded = client.post(url, json={"body": "Patient 943 476 5919"}, headers=auth(member))
    assert guarded.status_code == 422 and "body" in str(guarded.get_json())
    items = _get(client, auth, net.members["practice2"], url).get_json()["items"]
    assert [i["body"] for i in items] == ["We **started** scanning."]
    feed = _get(client, auth, net.members["practice2"], "/api/v1/activity").get_json()["items"]
    assert feed[0]["verb"] == "checked_in"
    assert feed[0]["thread"] == {"type": "workstream", "id": workstream["id"], "title": "Workflow"}
    assert feed[0]["summary"] == "checked in on “Workflow”"


def test_other_federations_do_not_see_it(client, auth, net, start):
    workstream = start()
    stranger = net.members["practice4"]
    assert _get(client, auth, stranger, f"{BASE}/{workstream['id']}").status_code == 404
    assert _get(client, auth, stranger, f"{BASE}/{workstream['id']}/actions").status_code == 404
    assert _get(client, auth, stranger, BASE).get_json()["items"] == []


def test_a_locum_with_two_practices_names_the_one_they_act_for(client, auth, net, session, start):
    from tests import factories

    locum = net.members["practice1"]
    factories.membership(session, locum, net.practice2, "member")
    session.flush()
    workstream = start()
    for practice in (net.practice1, net.practice2):
        _join(client, auth, net.admins["pcn1"], workstream, practice)
    url = f"{BASE}/{workstream['id']}/actions"
    body = {"title": "Audit", "owner_id": locum.id, "due_on": "2030-01-01"}
    unnamed = client.post(url, json=body, headers=auth(locum))
    assert unnamed.status_code == 422 and "practice_id" in str(unnamed.get_json())
    named = client.post(url, json=body | {"practice_id": net.practice2.id}, headers=auth(locum))
    assert named.status_code == 201 and named.get_json()["practice"]["id"] == net.practice2.id


def test_lists_are_a_constant_number_of_statements(
    client, auth, net, start, count_statements, forget
):
    manager = net.admins["pcn1"]
    for n in range(3):
        start(title=f"Workstream {n}")
    workstream = start()
    _join(client, auth, manager, workstream, net.practice1)
    for n in range(3):
        client.post(
            f"{BASE}/{workstream['id']}/actions",
            json={
                "title": f"A{n}",
                "owner_id": manager.id,
                "practice_id": net.practice1.id,
                "due_on": (date(2030, 1, 1) + timedelta(days=n)).isoformat(),
            },
            headers=auth(manager),
        )
    headers = auth(manager)
    client.get("/api/v1/me", headers=headers)
    for url in (BASE, f"{BASE}/{workstream['id']}/actions"):
        counts = {}
        for limit in (1, 3):
            forget()
            with count_statements() as counter:
                assert client.get(f"{url}?limit={limit}", headers=headers).status_code == 200
            counts[limit] = counter.count
        assert counts[1] == counts[3] > 1, url


def test_moderators_report_hide_and_redact_workstreams_and_their_parts(client, auth, net, start):
    workstream = start(purpose="Letters for Jane Doe pile up.")
    url = f"{BASE}/{workstream['id']}"
    moderator, reader = auth(net.admins["pcn1"]), auth(net.members["practice1"])
    _join(client, auth, net.admins["practice1"], workstream, net.practice1)
    check_in = client.post(
        f"{url}/updates", json={"body": "Spoke to jane  DOE today"}, headers=reader
    ).get_json()
    reported = client.post(
        f"{url}/reports",
        json={"reason": "Names a patient", "check_in_id": check_in["id"]},
        headers=reader,
    )
    assert reported.status_code == 201
    assert reported.get_json()["workstream_id"] == workstream["id"]
    assert reported.get_json()["problem_id"] is None
    reports = client.get("/api/v1/reports", headers=moderator).get_json()["items"]
    assert [r["check_in_id"] for r in reports] == [check_in["id"]]
    # Readers do not moderate.
    assert client.post(f"{url}/hide", headers=reader).status_code == 403
    hidden = client.post(f"{url}/hide?check_in_id={check_in['id']}", headers=moderator)
    assert hidden.status_code == 200
    assert client.get(f"{url}/updates", headers=reader).get_json()["items"] == []
    redacted = client.post(f"{url}/redactions", json={"text": "Jane Doe"}, headers=moderator)
    assert redacted.status_code == 200 and redacted.get_json()["places"] >= 2
    client.post(f"{url}/unhide?check_in_id={check_in['id']}", headers=moderator)
    for path in (url, f"{url}/updates", "/api/v1/activity"):
        assert "jane" not in client.get(path, headers=reader).get_data(as_text=True).lower()
    assert client.post(f"{url}/hide", headers=moderator).status_code == 200
    assert client.get(url, headers=reader).status_code == 404
    assert client.get(url, headers=moderator).status_code == 200
    assert workstream["id"] not in [
        w["id"] for w in client.get(BASE, headers=reader).get_json()["items"]
    ]


def test_the_feed_shows_beside_a_manager_no_practice_they_do_not_belong_to(
    client, auth, net, start
):
    workstream = start()
    manager = net.admins["pcn1"]
    _join(client, auth, manager, workstream, net.practice1)
    client.post(
        f"{BASE}/{workstream['id']}/actions",
        json={
            "title": "Audit",
            "owner_id": manager.id,
            "practice_id": net.practice1.id,
            "due_on": "2030-01-01",
        },
        headers=auth(manager),
    )
    feed = _get(client, auth, net.members["practice1"], "/api/v1/activity").get_json()["items"]
    added, joined = feed[0], feed[1]
    assert added["summary"] == "added the action “Audit” to “Workflow”"
    assert added["actor"]["id"] == manager.id and added["practice"] is None
    assert joined["summary"] == "“Practice One” joined “Workflow”" and joined["practice"] is None


def test_a_lead_who_cannot_read_a_private_problem_completes_without_learning_of_it(
    client, auth, net, post, start
):
    reader_of_private = net.members["practice1"]
    private = post(reader_of_private, net.practice1, title="Our locum rota is failing")
    shared = post(reader_of_private, net.pcn1, title="Letters by fax")
    lead = net.members["practice2"]
    workstream = start(lead_id=lead.id, problem_ids=[shared["id"]])
    url = f"{BASE}/{workstream['id']}"
    # Someone who reads it (and manages: the PCN's administrator does not read practice 1).
    client.patch(
        url,
        json={"lead_id": reader_of_private.id},
        headers=auth(net.admins["pcn1"]) | {"If-Match": "*"},
    )
    assert (
        client.post(f"{url}/problems/{private['id']}", headers=auth(reader_of_private)).status_code
        == 201
    )
    client.patch(
        url, json={"lead_id": lead.id}, headers=auth(net.admins["pcn1"]) | {"If-Match": "*"}
    )
    done = client.patch(
        url,
        json={"status": "completed", "solve_problems": True},
        headers=auth(lead) | {"If-Match": client.get(url, headers=auth(lead)).headers["ETag"]},
    )
    assert done.status_code == 200, done.get_json()
    assert str(private["id"]) not in str(done.get_json()["problems"])

    def status(problem):
        return client.get(f"/api/v1/problems/{problem['id']}", headers=auth(reader_of_private))

    assert status(shared).get_json()["status"] == "solved"
    # Left as it was for those who read it: solving is for whoever can see what they solve.
    assert status(private).get_json()["status"] == "in_workstream"


def test_a_patch_that_changes_nothing_makes_no_version_and_no_activity(client, auth, net, start):
    workstream = start()
    url = f"{BASE}/{workstream['id']}"
    manager = auth(net.admins["pcn1"])
    etag = client.get(url, headers=manager).headers["ETag"]
    before = client.get("/api/v1/activity", headers=manager).get_json()["items"]
    same = client.patch(url, json={"title": "Workflow"}, headers=manager | {"If-Match": etag})
    assert same.status_code == 200 and same.headers["ETag"] == etag
    assert client.get("/api/v1/activity", headers=manager).get_json()["items"] == before
    stale = client.patch(url, json={}, headers=manager | {"If-Match": '"1-9-x"'})
    assert stale.status_code == 412


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "completed", "solve_problems": "on"}, "solve_problems"),
        ({"status": "completed", "solve_problems": 1}, "solve_problems"),
    ],
)
def test_solve_problems_is_a_boolean(client, auth, net, start, body, field):
    workstream = start()
    response = client.patch(
        f"{BASE}/{workstream['id']}",
        json=body,
        headers=auth(net.admins["pcn1"]) | {"If-Match": "*"},
    )
    assert response.status_code == 422 and field in str(response.get_json())


@pytest.mark.parametrize("due_on", ["0001-01-01", "9999-12-31"])
def test_a_due_date_is_one_people_plan_by(client, auth, net, start, due_on):
    workstream = start()
    _join(client, auth, net.admins["pcn1"], workstream, net.practice1)
    member = net.members["practice1"]
    response = client.post(
        f"{BASE}/{workstream['id']}/actions",
        json={"title": "Audit", "owner_id": member.id, "due_on": due_on},
        headers=auth(member),
    )
    assert response.status_code == 422 and "due_on" in str(response.get_json())


def test_no_practice_joins_a_completed_workstream(client, auth, net, start):
    workstream = start()
    url = f"{BASE}/{workstream['id']}"
    client.patch(
        url, json={"status": "completed"}, headers=auth(net.admins["pcn1"]) | {"If-Match": "*"}
    )
    assert (
        _join(client, auth, net.admins["practice1"], workstream, net.practice1).status_code == 409
    )
