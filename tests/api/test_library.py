"""The best-practice library (API.md, "Best-practice library"): from a solved problem to a
protocol in versions that practices adopt, adapt or stop, kept inside its scope."""

from __future__ import annotations

import pytest

BASE = "/api/v1/library"


@pytest.fixture
def solved(client, auth, net, post):
    """A PCN One problem (practice 1's) whose idea (practice 2's) was accepted."""
    problem = post(
        net.members["practice1"], net.pcn1, title="Discharge letters arrive as five documents"
    )
    url = f"/api/v1/problems/{problem['id']}/comments"
    idea = client.post(
        url,
        json={"body": "Ask the trust for **one PDF** per discharge.", "kind": "idea"},
        headers=auth(net.members["practice2"]),
    ).get_json()
    accepted = client.post(f"{url}/{idea['id']}/accept", headers=auth(net.members["practice1"]))
    assert accepted.status_code == 200
    return problem


@pytest.fixture
def entry(client, auth, net):
    """`entry(person=admin of PCN One, publish=True, **fields)` -> the entry as last returned."""

    def _entry(person=None, publish=True, **fields):
        person = person or net.admins["pcn1"]
        body = {
            "organisation_id": net.pcn1.id,
            "title": "Docman workflow protocol",
            "summary": "Letters coded and actioned by trained administrators.",
            "body": "## Steps\n\n1. Code the letter.\n2. Route actions to the GP.",
            "tags": ["Workflow", "letters"],
        } | fields
        made = client.post(BASE, json=body, headers=auth(person))
        assert made.status_code == 201, made.get_json()
        if not publish:
            return made.get_json()
        done = _patch(client, auth, person, made, status="published", change_note="Ready")
        assert done.status_code == 200, done.get_json()
        return done.get_json()

    return _entry


def _patch(client, auth, person, last, **changes):
    """PATCH with the ETag of `last` (a response)."""
    url = f"{BASE}/{last.get_json()['id']}"
    return client.patch(
        url, json=changes, headers=auth(person) | {"If-Match": last.headers["ETag"]}
    )


def _get(client, auth, person, url):
    return client.get(url, headers=auth(person))


def test_an_accepted_idea_is_promoted_edited_twice_published_and_adopted(client, auth, net, solved):
    author = net.members["practice1"]
    # Only the problem's author or its board's moderators promote it.
    refused = client.post(
        f"{BASE}/promote", json={"problem_id": solved["id"]}, headers=auth(net.members["practice2"])
    )
    assert refused.status_code == 403
    made = client.post(f"{BASE}/promote", json={"problem_id": solved["id"]}, headers=auth(author))
    assert made.status_code == 201, made.get_json()
    draft = made.get_json()
    assert made.headers["Location"].endswith(f"/library/{draft['id']}")
    assert draft["status"] == "draft" and draft["organisation"]["id"] == net.pcn1.id
    assert draft["title"] == solved["title"]
    assert "one PDF" in draft["body"] and "Each one" in draft["body"]
    assert draft["source"] == {"type": "problem", "id": solved["id"], "title": solved["title"]}
    assert draft["latest_version"] == 1
    # A draft: the author and PCN One's administrators see it; other members do not.
    assert _get(client, auth, net.members["pcn1"], f"{BASE}/{draft['id']}").status_code == 404
    assert _get(client, auth, net.admins["pcn1"], f"{BASE}/{draft['id']}").status_code == 200
    assert draft["id"] not in [
        e["id"] for e in _get(client, auth, net.members["pcn1"], BASE).get_json()["items"]
    ]
    # Edited twice, then published: four versions.
    first = _patch(client, auth, author, made, summary="One PDF per discharge.", change_note="a")
    assert first.status_code == 200, first.get_json()
    # Without If-Match: 428; with a stale one: 412 and nothing stored.
    url = f"{BASE}/{draft['id']}"
    assert client.patch(url, json={"title": "X"}, headers=auth(author)).status_code == 428
    stale = _patch(client, auth, author, made, title="Stale")
    assert stale.status_code == 412
    second = _patch(client, auth, author, first, body=first.get_json()["body"] + "\n\nCall them.")
    published = _patch(client, auth, author, second, status="published", change_note="Live")
    assert published.status_code == 200
    entry = published.get_json()
    assert entry["status"] == "published" and entry["latest_version"] == 4
    assert entry["published_at"] is not None
    versions = _get(client, auth, author, f"{url}/versions").get_json()["items"]
    assert [v["number"] for v in versions] == [4, 3, 2, 1]
    assert versions[0]["change_note"] == "Live" and versions[0]["author"]["id"] == author.id
    v1 = _get(client, auth, author, f"{url}/versions/1").get_json()
    assert v1["status"] == "draft" and "Call them" not in v1["body"]
    assert _get(client, auth, author, f"{url}/versions/9").status_code == 404
    # The problem names what it became.
    problem = _get(client, auth, net.members["practice2"], f"/api/v1/problems/{solved['id']}")
    assert problem.get_json()["library_entries"] == [
        {"id": entry["id"], "title": entry["title"], "status": "published"}
    ]
    # Three practices record what they did; the counts and each practice's own view follow.
    states = [("practice1", "adopted"), ("practice2", "trialling")]
    for key, state in states:
        put = client.put(
            f"{url}/adoptions/{net.org(key).id}",
            json={"status": state, "note": "Started Monday"},
            headers=auth(net.members[key]),
        )
        assert put.status_code == 201, put.get_json()
        assert put.get_json()["version"] == 4
    # Practice Three is in PCN Two: a PCN One entry is not for it (404: it does not read it).
    other = client.put(
        f"{url}/adoptions/{net.practice3.id}",
        json={"status": "adopted"},
        headers=auth(net.members["practice3"]),
    )
    assert other.status_code == 404
    # Not one's own practice: 403.
    assert (
        client.put(
            f"{url}/adoptions/{net.practice1.id}",
            json={"status": "declined"},
            headers=auth(net.members["practice2"]),
        ).status_code
        == 403
    )
    again = client.put(
        f"{url}/adoptions/{net.practice2.id}",
        json={"status": "stopped", "note": "Not enough admin time"},
        headers=auth(net.members["practice2"]),
    )
    assert again.status_code == 200 and again.get_json()["status"] == "stopped"
    seen = _get(client, auth, net.members["practice1"], url).get_json()
    assert seen["adoption_counts"] == {
        "considering": 0,
        "trialling": 0,
        "adopted": 1,
        "adapted": 0,
        "declined": 0,
        "stopped": 1,
    }
    assert seen["my_practice_adoption"] == {
        "status": "adopted",
        "version": 4,
        "newer_version": None,
    }
    listed = _get(client, auth, net.members["pcn1"], f"{url}/adoptions").get_json()["items"]
    assert [(a["practice"]["name"], a["status"]) for a in listed] == [
        ("Practice One", "adopted"),
        ("Practice Two", "stopped"),
    ]
    # Another PCN's, and another federation's, people: 404 for everything of it.
    for outsider in (net.members["practice3"], net.admins["fed_b"], net.members["pcn2"]):
        for path in ("", "/versions", "/versions/1", "/adoptions", "/export"):
            assert _get(client, auth, outsider, url + path).status_code == 404, (outsider, path)
        ids = [e["id"] for e in _get(client, auth, outsider, BASE).get_json()["items"]]
        assert entry["id"] not in ids


def test_a_newer_version_is_shown_to_a_practice_on_an_older_one(client, auth, net, entry):
    made = entry()
    url = f"{BASE}/{made['id']}"
    member = net.members["practice1"]
    client.put(
        f"{url}/adoptions/{net.practice1.id}", json={"status": "adapted"}, headers=auth(member)
    )
    current = _get(client, auth, net.admins["pcn1"], url)
    changed = _patch(
        client, auth, net.admins["pcn1"], current, body="New steps.", change_note="Shorter"
    )
    assert changed.status_code == 200
    seen = _get(client, auth, member, url).get_json()
    assert seen["my_practice_adoption"] == {"status": "adapted", "version": 2, "newer_version": 3}
    assert [(c["number"], c["change_note"]) for c in seen["changes_since_my_version"]] == [
        (3, "Shorter")
    ]
    diff = _get(client, auth, member, f"{url}/versions/3/diff?from=2")
    assert diff.status_code == 200 and diff.mimetype == "text/x-diff"
    assert "+New steps." in diff.get_data(as_text=True)
    assert "-1. Code the letter." in diff.get_data(as_text=True)
    page = _get(client, auth, member, f"{url}/versions/3/diff?from=2&format=html")
    assert page.mimetype == "text/html" and "New steps." in page.get_data(as_text=True)
    assert _get(client, auth, member, f"{url}/versions/3/diff").status_code == 422
    listed = _get(client, auth, member, BASE).get_json()["items"]
    assert listed[0]["my_practice_adoption"]["newer_version"] == 3


def test_withdrawn_needs_a_reason_and_takes_only_stopped_or_declined(client, auth, net, entry):
    made = entry()
    url = f"{BASE}/{made['id']}"
    admin = net.admins["pcn1"]
    current = _get(client, auth, admin, url)
    no_reason = _patch(client, auth, admin, current, status="withdrawn")
    assert no_reason.status_code == 422 and "withdrawn_reason" in str(no_reason.get_json())
    gone = _patch(
        client, auth, admin, current, status="withdrawn", withdrawn_reason="Unsafe: wrong coding"
    )
    assert gone.status_code == 200 and gone.get_json()["withdrawn_reason"] == "Unsafe: wrong coding"
    member = net.members["practice2"]
    adopt = f"{url}/adoptions/{net.practice2.id}"
    assert client.put(adopt, json={"status": "adopted"}, headers=auth(member)).status_code == 422
    assert client.put(adopt, json={"status": "stopped"}, headers=auth(member)).status_code == 201
    # Still readable, marked withdrawn; the export says so.
    html = _get(client, auth, member, f"{url}/export?format=html").get_data(as_text=True)
    assert "Withdrawn — do not use." in html and "Unsafe: wrong coding" in html


def test_search_tags_sort_and_pages(client, auth, net, entry):
    first = entry(
        title="Repeat prescribing", body="Pharmacist reviews **repeats** weekly.", tags=["meds"]
    )
    second = entry(title="Docman workflow")
    member = net.members["practice1"]
    found = _get(client, auth, member, f"{BASE}?q=pharmacist").get_json()["items"]
    assert [e["id"] for e in found] == [first["id"]]
    assert _get(client, auth, member, f"{BASE}?q=nothingsuch").get_json()["items"] == []
    tagged = _get(client, auth, member, f"{BASE}?tag=MEDS").get_json()["items"]
    assert [e["id"] for e in tagged] == [first["id"]]
    client.put(
        f"{BASE}/{first['id']}/adoptions/{net.practice1.id}",
        json={"status": "adopted"},
        headers=auth(member),
    )
    by_adoption = _get(client, auth, member, f"{BASE}?sort=adopted").get_json()["items"]
    assert [e["id"] for e in by_adoption] == [first["id"], second["id"]]
    one = _get(client, auth, member, f"{BASE}?limit=1&sort=adopted").get_json()
    rest = _get(client, auth, member, f"{BASE}?limit=1&sort=adopted&cursor={one['next_cursor']}")
    assert [e["id"] for e in rest.get_json()["items"]] == [second["id"]]
    assert _get(client, auth, member, f"{BASE}?sort=sideways").status_code == 422
    assert _get(client, auth, member, f"{BASE}?cursor=nonsense").status_code == 422


def test_a_list_takes_the_same_statements_for_one_entry_or_many(
    client, auth, net, entry, count_statements, forget
):
    member = net.members["practice1"]
    entry()
    _get(client, auth, member, BASE)  # the first request of a person does more (sign-in)
    forget()
    with count_statements() as one:
        assert _get(client, auth, member, BASE).status_code == 200
    for n in range(4):
        made = entry(title=f"Protocol {n}")
        client.put(
            f"{BASE}/{made['id']}/adoptions/{net.practice1.id}",
            json={"status": "considering"},
            headers=auth(member),
        )
    forget()
    with count_statements() as many:
        assert len(_get(client, auth, member, BASE).get_json()["items"]) == 5
    assert many.count == one.count
    with count_statements() as again:  # remembered: the numbers of its scopes alone
        assert len(_get(client, auth, member, BASE).get_json()["items"]) == 5
    assert again.count == 1, again.statements


def test_export_is_a_self_contained_page_and_markdown(client, auth, net, entry):
    made = entry(body="Use <script>alert(1)</script> **bold** steps.")
    url = f"{BASE}/{made['id']}/export"
    page = _get(client, auth, net.members["practice2"], url)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "<strong>bold</strong>" in html
    assert "Version 2" in html and "http" not in html.split("<footer>")[0].split("</style>")[0]
    md = _get(client, auth, net.members["practice2"], url + "?format=md")
    assert md.mimetype == "text/markdown"
    assert md.get_data(as_text=True).startswith("# Docman workflow protocol")
    assert "attachment" in md.headers["Content-Disposition"]


def test_nhs_numbers_and_unknown_fields_are_refused(client, auth, net, entry):
    person = net.admins["pcn1"]
    body = {
        "organisation_id": net.pcn1.id,
        "title": "T",
        "summary": "S",
        "body": "Patient 943 476 5919 was seen.",
    }
    refused = client.post(BASE, json=body, headers=auth(person))
    assert refused.status_code == 422 and "body" in str(refused.get_json())
    extra = client.post(BASE, json=body | {"body": "ok", "version": 9}, headers=auth(person))
    assert extra.status_code == 422
    assert _get(client, auth, person, BASE).get_json()["items"] == []


def test_moderators_hide_and_redact_every_version(client, auth, net, entry):
    made = entry(body="Ring Dr Secretname on 0161.")
    url = f"{BASE}/{made['id']}"
    admin = net.admins["pcn1"]
    current = _get(client, auth, admin, url)
    _patch(client, auth, admin, current, summary="Dr Secretname's idea", change_note="Secretname")
    member = net.members["practice1"]
    report = client.post(
        f"{url}/reports", json={"reason": "Names Secretname"}, headers=auth(member)
    )
    assert report.status_code == 201 and report.get_json()["library_entry_id"] == made["id"]
    assert client.post(f"{url}/hide", headers=auth(member)).status_code == 403
    hidden = client.post(f"{url}/hide", headers=auth(admin))
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    assert _get(client, auth, member, url).status_code == 404
    assert client.post(f"{url}/unhide", headers=auth(admin)).status_code == 200
    redacted = client.post(f"{url}/redactions", json={"text": "secretname"}, headers=auth(admin))
    assert redacted.status_code == 200 and redacted.get_json()["places"] >= 4
    for n in (1, 2, 3):
        version = _get(client, auth, member, f"{url}/versions/{n}").get_json()
        assert "Secretname" not in str(version), n
    assert "Secretname" not in str(_get(client, auth, admin, "/api/v1/reports").get_json())
    assert "Secretname" not in str(_get(client, auth, member, "/api/v1/activity").get_json())


def test_activity_is_recorded_once_published_never_for_drafts(client, auth, net, entry):
    made = entry(publish=False)
    member = net.members["practice1"]
    verbs = lambda: [  # noqa: E731
        a["verb"]
        for a in _get(client, auth, member, "/api/v1/activity").get_json()["items"]
        if a["thread"]["type"] == "library_entry"
    ]
    assert verbs() == []
    admin = net.admins["pcn1"]
    url = f"{BASE}/{made['id']}"
    current = _get(client, auth, admin, url)
    published = _patch(client, auth, admin, current, status="published")
    _patch(client, auth, admin, published, body="v3", change_note="Simpler")
    client.put(
        f"{url}/adoptions/{net.practice1.id}", json={"status": "adopted"}, headers=auth(member)
    )
    assert verbs() == ["library_adoption", "library_updated", "library_published"]


def test_a_completed_workstream_is_promoted_by_its_managers(client, auth, net):
    admin = net.admins["pcn1"]
    ws = client.post(
        "/api/v1/workstreams",
        json={
            "organisation_id": net.pcn1.id,
            "title": "Workflow",
            "purpose": "Fewer letters",
            "aim": "40 minutes back a day",
        },
        headers=auth(admin),
    )
    wid = ws.get_json()["id"]
    early = client.post(f"{BASE}/promote", json={"workstream_id": wid}, headers=auth(admin))
    assert early.status_code == 422
    done = client.patch(
        f"/api/v1/workstreams/{wid}",
        json={"status": "completed"},
        headers=auth(admin) | {"If-Match": ws.headers["ETag"]},
    )
    assert done.status_code == 200
    member = net.members["practice1"]
    assert (
        client.post(
            f"{BASE}/promote", json={"workstream_id": wid}, headers=auth(member)
        ).status_code
        == 403
    )
    made = client.post(f"{BASE}/promote", json={"workstream_id": wid}, headers=auth(admin))
    assert made.status_code == 201
    draft = made.get_json()
    assert "40 minutes back a day" in draft["body"] and draft["source"]["type"] == "workstream"
    page = _get(client, auth, admin, f"/api/v1/workstreams/{wid}").get_json()
    assert page["library_entries"] == [{"id": draft["id"], "title": "Workflow", "status": "draft"}]
    assert client.post(f"{BASE}/promote", json={}, headers=auth(admin)).status_code == 422
