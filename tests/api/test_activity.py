"""The activity feed (API.md, "Activity and digests"): every item names its subject and its
thread; descriptions are rendered when read, from the facts of the time; what the reader may no
longer see, and who anonymity hides, never shows."""

from __future__ import annotations


def _feed(client, auth, person, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/activity{query}", headers=auth(person))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_items_name_their_subject_and_thread(client, net, auth, post):
    author, colleague = net.members["practice1"], net.members["practice2"]
    problem = post(author, net.pcn1, title="Discharge letters")
    comment = client.post(
        f"/api/v1/problems/{problem['id']}/comments",
        json={"body": "We batch them at noon."},
        headers=auth(colleague),
    ).get_json()
    commented, posted = _feed(client, auth, author)[:2]
    assert posted["subject"] == {"type": "problem", "id": problem["id"]}
    assert posted["thread"] == {
        "type": "problem",
        "id": problem["id"],
        "title": "Discharge letters",
    }
    assert posted["problem_id"] == problem["id"]
    assert (posted["subject_type"], posted["subject_id"]) == ("problem", problem["id"])
    assert posted["summary"] == "posted “Discharge letters”"
    assert commented["verb"] == "comment"
    assert commented["subject"] == {"type": "comment", "id": comment["id"]}
    assert commented["thread"]["id"] == problem["id"]
    # A summary is one line: what was written is not in it.
    assert commented["summary"] == "commented on “Discharge letters”"
    assert commented["actor"]["id"] == colleague.id


def test_summary_keeps_the_title_of_the_time_and_thread_shows_it_now(client, net, auth, post):
    author = net.members["practice1"]
    problem = post(author, net.pcn1, title="Letters by fax")
    base = f"/api/v1/problems/{problem['id']}"
    etag = client.get(base, headers=auth(author)).headers["ETag"]
    edited = client.patch(
        base, json={"title": "Letters by email"}, headers=auth(author) | {"If-Match": etag}
    )
    assert edited.status_code == 200
    items = _feed(client, auth, author)
    assert [i["summary"] for i in items] == ["edited “Letters by email”", "posted “Letters by fax”"]
    assert {i["thread"]["title"] for i in items} == {"Letters by email"}


def test_status_changes_read_as_before(client, net, auth, post):
    author = net.members["practice1"]
    problem = post(author, net.pcn1, title="Prescription queries")
    base = f"/api/v1/problems/{problem['id']}"
    etag = client.get(base, headers=auth(author)).headers["ETag"]
    client.patch(base, json={"status": "in_workstream"}, headers=auth(author) | {"If-Match": etag})
    assert (
        _feed(client, auth, author)[0]["summary"] == "marked “Prescription queries” in workstream"
    )


def test_a_hidden_problems_thread_leaves_the_feed_for_everyone(client, net, auth, post):
    author, moderator = net.members["practice1"], net.admins["pcn1"]
    problem = post(author, net.pcn1, title="Rota complaints")
    hidden = client.post(f"/api/v1/problems/{problem['id']}/hide", headers=auth(moderator))
    assert hidden.status_code == 200
    for person in (author, moderator, net.members["practice2"]):
        assert problem["id"] not in {i["thread"]["id"] for i in _feed(client, auth, person)}


def test_a_practice_anonymous_post_names_nobody_in_the_feed(client, net, auth, post):
    author, colleague = net.members["practice1"], net.members["practice2"]
    post(author, net.pcn1, title="Burnout on reception", anonymity="practice")
    for reader in (author, colleague):
        item = _feed(client, auth, reader)[0]
        assert item["actor"] is None and item["practice"] is None
        assert item["summary"] == "posted “Burnout on reception”"


def test_a_page_of_activity_is_a_constant_number_of_statements(
    client, net, auth, post, count_statements
):
    author = net.members["practice1"]
    for n in range(4):
        post(author, net.pcn1, title=f"Problem {n}")
    headers = auth(author)
    client.get("/api/v1/me", headers=headers)  # their principal remembered for both sizes alike
    counts = {}
    for limit in (1, 4):
        with count_statements() as counter:
            assert client.get(f"/api/v1/activity?limit={limit}", headers=headers).status_code == 200
        counts[limit] = counter.count
    assert counts[1] == counts[4]
