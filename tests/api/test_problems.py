"""Problem boards over HTTP: posting, reading rules, "we have this too", comments and ideas,
listing, ETags, the NHS-number guard and anonymity."""

import json

import pytest
from sqlalchemy import event, func, select

from network.problems.models import AffectedPractice, Problem


def _get(client, auth, person, url):
    return client.get(url, headers=auth(person))


def test_posting_counts_the_authors_practice_and_renders_markdown(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1, tags=["Letters", "letters", "discharge"])
    assert problem["affected_count"] == 1 and problem["comment_count"] == 0
    assert problem["body_html"] == "<p>Each one <strong>separately</strong>.</p>\n"
    assert problem["tags"] == ["letters", "discharge"]
    assert problem["board"] == {"id": net.pcn1.id, "kind": "pcn", "name": "PCN One"}
    assert problem["author"]["name"] == "Member of Practice One"
    assert problem["practice"] == {"id": net.practice1.id, "name": "Practice One"}
    affected = _get(
        client, auth, net.members["practice1"], f"/api/v1/problems/{problem['id']}/affected"
    )
    assert [a["practice"]["name"] for a in affected.get_json()["items"]] == ["Practice One"]


def test_a_practice_post_is_404_for_another_practice_and_for_the_pcns_clinical_director(
    client, net, auth, post
):
    problem = post(net.members["practice1"], net.practice1)
    url = f"/api/v1/problems/{problem['id']}"
    assert _get(client, auth, net.members["practice1"], url).status_code == 200
    for outsider in (
        net.members["practice2"],
        net.admins["pcn1"],
        net.admins["fed_a"],
        net.superuser,
    ):
        response = _get(client, auth, outsider, url)
        assert response.status_code == 404
        assert problem["title"] not in response.get_data(as_text=True)
        listed = _get(client, auth, outsider, "/api/v1/problems").get_json()["items"]
        assert problem["id"] not in [p["id"] for p in listed]


def test_posting_on_a_board_you_cannot_read_is_refused(client, net, auth):
    body = {"board_id": net.practice2.id, "title": "x", "body": "y"}
    assert (
        client.post(
            "/api/v1/problems", json=body, headers=auth(net.members["practice1"])
        ).status_code
        == 403
    )
    body["board_id"] = net.practice4.id
    assert (
        client.post(
            "/api/v1/problems", json=body, headers=auth(net.members["practice1"])
        ).status_code
        == 404
    )


def test_an_nhs_number_is_refused_and_nothing_is_stored(client, net, auth, session):
    before = session.scalar(select(func.count()).select_from(Problem))
    body = {"board_id": net.pcn1.id, "title": "Letters", "body": "Patient 943 476 5919 got two."}
    response = client.post("/api/v1/problems", json=body, headers=auth(net.members["practice1"]))
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert (
        "943 476 5919" in message
        and "Patient-identifiable information must not be posted" in message
    )
    assert session.scalar(select(func.count()).select_from(Problem)) == before


def test_we_have_this_too_is_one_per_practice_and_idempotent(client, net, auth, post, session):
    problem = post(net.members["practice1"], net.pcn1)
    url = f"/api/v1/problems/{problem['id']}/affected"
    first = client.put(url, json={"note": "Same here"}, headers=auth(net.members["practice2"]))
    assert first.status_code == 201 and first.get_json()["practice"]["name"] == "Practice Two"
    again = client.put(url, json={}, headers=auth(net.admins["practice2"]))
    assert again.status_code == 200
    detail = _get(
        client, auth, net.members["practice1"], f"/api/v1/problems/{problem['id']}"
    ).get_json()
    assert detail["affected_count"] == 2
    assert client.delete(url, headers=auth(net.members["practice2"])).status_code == 204
    detail = _get(
        client, auth, net.members["practice1"], f"/api/v1/problems/{problem['id']}"
    ).get_json()
    assert detail["affected_count"] == 1
    stored = session.scalar(select(func.count()).select_from(AffectedPractice))
    assert stored == 1


def test_the_hot_list_orders_by_practices_affected(client, net, auth, post):
    quiet = post(net.members["practice1"], net.pcn1, title="Quiet problem")
    common = post(net.members["practice1"], net.pcn1, title="Common problem")
    client.put(
        f"/api/v1/problems/{common['id']}/affected", json={}, headers=auth(net.members["practice2"])
    )
    newest = post(net.members["practice2"], net.pcn1, title="Newest problem")
    titles = [
        p["title"]
        for p in _get(
            client, auth, net.members["practice1"], "/api/v1/problems?sort=hot"
        ).get_json()["items"]
    ]
    assert (
        titles.index("Common problem")
        < titles.index("Newest problem")
        < titles.index("Quiet problem")
    )
    new = [
        p["id"]
        for p in _get(
            client, auth, net.members["practice1"], "/api/v1/problems?sort=new"
        ).get_json()["items"]
    ]
    assert new[:3] == [newest["id"], common["id"], quiet["id"]]


def test_lists_filter_and_page(client, net, auth, post):
    for n in range(5):
        post(
            net.members["practice1"],
            net.pcn1,
            title=f"Access problem {n}",
            tags=["access"] if n % 2 else [],
        )
    reader = net.members["practice2"]
    tagged = _get(client, auth, reader, "/api/v1/problems?tag=access").get_json()["items"]
    assert sorted(p["title"] for p in tagged) == ["Access problem 1", "Access problem 3"]
    found = _get(client, auth, reader, "/api/v1/problems?q=problem%203").get_json()["items"]
    assert [p["title"] for p in found] == ["Access problem 3"]
    seen, cursor = [], None
    while True:
        url = "/api/v1/problems?sort=new&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = _get(client, auth, reader, url).get_json()
        seen += [p["id"] for p in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


def test_listing_issues_a_constant_number_of_statements(client, net, auth, post, count_statements):
    for n in range(6):
        post(net.members["practice1"], net.pcn1, title=f"P{n}", tags=["t"])
    # Their principal remembered for both sizes alike (each size's page is read afresh).
    _get(client, auth, net.members["practice1"], "/api/v1/problems?limit=2")
    counts = []
    for limit in (1, 6):
        with count_statements() as counter:
            assert (
                _get(
                    client, auth, net.members["practice1"], f"/api/v1/problems?limit={limit}"
                ).status_code
                == 200
            )
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_edits_need_if_match_and_keep_history(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1)
    url = f"/api/v1/problems/{problem['id']}"
    headers = auth(net.members["practice1"])
    etag = client.get(url, headers=headers).headers["ETag"]
    assert client.patch(url, json={"title": "New title"}, headers=headers).status_code == 428
    ok = client.patch(url, json={"title": "New title"}, headers=headers | {"If-Match": etag})
    assert ok.status_code == 200 and ok.get_json()["title"] == "New title"
    assert ok.headers["ETag"] != etag
    stale = client.patch(url, json={"title": "Again"}, headers=headers | {"If-Match": etag})
    assert stale.status_code == 412
    other = client.patch(
        url,
        json={"title": "Mine now"},
        headers=auth(net.members["practice2"]) | {"If-Match": ok.headers["ETag"]},
    )
    assert other.status_code == 403


def test_comments_ideas_and_accepting_one_solves_the_problem(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1)
    url = f"/api/v1/problems/{problem['id']}/comments"
    client.post(url, json={"body": "We see it too"}, headers=auth(net.members["practice2"]))
    idea = client.post(
        url,
        json={"body": "Ask for one PDF", "kind": "idea"},
        headers=auth(net.members["practice2"]),
    ).get_json()
    comments = _get(client, auth, net.members["practice1"], url).get_json()["items"]
    assert [c["body"] for c in comments] == ["We see it too", "Ask for one PDF"]
    accept = f"{url}/{idea['id']}/accept"
    assert client.post(accept, headers=auth(net.members["practice2"])).status_code == 403
    accepted = client.post(accept, headers=auth(net.members["practice1"]))
    assert accepted.status_code == 200 and accepted.get_json()["accepted"] is True
    detail = _get(
        client, auth, net.members["practice1"], f"/api/v1/problems/{problem['id']}"
    ).get_json()
    assert detail["status"] == "solved" and detail["comment_count"] == 2


def test_the_author_deletes_only_while_nobody_has_commented(client, net, auth, post):
    problem = post(net.members["practice1"], net.pcn1)
    url = f"/api/v1/problems/{problem['id']}"
    client.post(f"{url}/comments", json={"body": "Hmm"}, headers=auth(net.members["practice2"]))
    assert client.delete(url, headers=auth(net.members["practice1"])).status_code == 409
    assert client.delete(url, headers=auth(net.admins["pcn1"])).status_code == 204
    assert _get(client, auth, net.members["practice1"], url).status_code == 404


def _people_ids(data) -> set[int]:
    """The ids of every person object (`author`, `actor`) anywhere in a response."""
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("author", "actor") and isinstance(value, dict):
                found.add(value.get("id"))
            found |= _people_ids(value)
    elif isinstance(data, list):
        for item in data:
            found |= _people_ids(item)
    return found


@pytest.mark.parametrize("anonymity", ["person", "practice"])
def test_anonymous_authors_are_never_revealed_anywhere(client, net, auth, post, anonymity):
    author = net.members["practice1"]
    problem = post(author, net.pcn1, title="We made a mistake with referrals", anonymity=anonymity)
    base = f"/api/v1/problems/{problem['id']}"
    client.post(
        f"{base}/comments",
        json={"body": "Here is what happened", "anonymity": anonymity},
        headers=auth(author),
    )
    client.put(f"{base}/affected", json={}, headers=auth(net.members["practice2"]))
    edited = client.get(base, headers=auth(author)).headers["ETag"]
    client.patch(base, json={"body": "Edited text"}, headers=auth(author) | {"If-Match": edited})
    viewers = [
        net.members["practice2"],
        net.admins["pcn1"],
        net.admins["fed_a"],
        net.superuser,
        author,
    ]
    urls = [base, "/api/v1/problems", f"{base}/comments", f"{base}/affected", "/api/v1/activity"]
    for viewer in viewers:
        for url in urls:
            response = client.get(url, headers=auth(viewer))
            if response.status_code != 200:
                continue
            text = json.dumps(response.get_json())
            assert author.name not in text and author.email not in text, (viewer.email, url)
            assert author.id not in _people_ids(response.get_json()), (viewer.email, url)
            if anonymity == "practice":
                assert "Practice One" not in text, (viewer.email, url)


def test_moderators_hide_and_redact_everywhere(client, net, auth, post, session):
    problem = post(net.members["practice1"], net.pcn1, title="Mrs Jane Doe letters")
    base = f"/api/v1/problems/{problem['id']}"
    client.post(
        f"{base}/comments", json={"body": "Jane Doe again"}, headers=auth(net.members["practice2"])
    )
    etag = client.get(base, headers=auth(net.members["practice1"])).headers["ETag"]
    client.patch(
        base,
        json={"body": "About Jane Doe"},
        headers=auth(net.members["practice1"]) | {"If-Match": etag},
    )
    report = client.post(
        f"{base}/reports",
        json={"reason": "Names a patient"},
        headers=auth(net.members["practice2"]),
    )
    assert report.status_code == 201
    reports = client.get(
        f"/api/v1/reports?organisation_id={net.pcn1.id}", headers=auth(net.admins["pcn1"])
    )
    assert [r["reason"] for r in reports.get_json()["items"]] == ["Names a patient"]
    assert (
        client.post(
            f"{base}/redactions", json={"text": "Jane Doe"}, headers=auth(net.members["practice2"])
        ).status_code
        == 403
    )
    done = client.post(
        f"{base}/redactions", json={"text": "Jane Doe"}, headers=auth(net.admins["pcn1"])
    )
    assert done.status_code == 200 and done.get_json()["places"] >= 4
    from network.activity.models import Activity
    from network.problems.models import Comment, ProblemRevision

    stored = " ".join(
        [p.title + p.body + p.body_html for p in session.scalars(select(Problem))]
        + [c.body + c.body_html for c in session.scalars(select(Comment))]
        + [r.title + r.body for r in session.scalars(select(ProblemRevision))]
        + [json.dumps(a.data, ensure_ascii=False) for a in session.scalars(select(Activity))]
    )
    assert "Jane Doe" not in stored and "[redacted]" in stored
    for url in (base, f"{base}/comments", "/api/v1/activity", "/api/v1/problems"):
        assert "Jane Doe" not in client.get(url, headers=auth(net.members["practice1"])).get_data(
            as_text=True
        )
    assert client.post(f"{base}/hide", headers=auth(net.admins["pcn1"])).status_code == 200
    assert client.get(base, headers=auth(net.members["practice1"])).status_code == 404
    assert client.get(base, headers=auth(net.admins["pcn1"])).status_code == 200
    audit = client.get("/api/v1/audit", headers=auth(net.admins["pcn1"])).get_json()["items"]
    assert {"moderation.redacted", "moderation.hidden"} <= {e["action"] for e in audit}
    assert "Jane Doe" not in json.dumps(audit)


def test_activity_lists_only_readable_boards(client, net, auth, post):
    post(net.members["practice1"], net.practice1, title="Practice only")
    post(net.members["practice1"], net.pcn1, title="For the PCN")
    seen = [
        a["summary"]
        for a in _get(client, auth, net.members["practice2"], "/api/v1/activity").get_json()[
            "items"
        ]
    ]
    assert any("For the PCN" in s for s in seen) and not any("Practice only" in s for s in seen)


def test_errors_on_list_items_are_reported_by_index(client, net, auth):
    body = {"board_id": net.pcn1.id, "title": "t", "body": "b", "tags": ["ok", "x" * 41]}
    response = client.post("/api/v1/problems", json=body, headers=auth(net.members["practice1"]))
    assert response.status_code == 422
    assert "1" in response.get_json()["errors"]["json"]["tags"]


def test_a_second_signal_of_a_practice_is_absorbed_by_the_insert_itself(
    net, session, count_statements
):
    """Two people of one practice say so (at once, or one after the other): nobody looks
    first, the insert's ON CONFLICT on the primary key lets one row in; the other answers
    created=False with that row, and the count moves once. The first signal is three
    statements (the insert, the count, the activity) after reading the problem, with no
    savepoint; the real race over HTTP is in tests/live/test_concurrency.py."""
    from network.access import load_principal
    from network.problems import services
    from network.uow import UnitOfWork

    uow = UnitOfWork(lambda: session)
    author = load_principal(session, net.members["practice1"])
    problem = services.create(uow, author, board_id=net.pcn1.id, title="Race", body="b")
    first_nurse = load_principal(session, net.members["practice2"])
    second_nurse = load_principal(session, net.admins["practice2"])
    session.flush()
    savepoints = []
    event.listen(session.connection(), "savepoint", lambda *args: savepoints.append(args))
    with count_statements() as first_signal:
        first, created = services.signal_affected(uow, first_nurse, problem.id, note="also us")
    assert created and first.signalled_by_id == first_nurse.person_id
    assert first.created_at is not None and first.note == "also us"
    writes = [s for s in first_signal.statements if not s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 3, first_signal.statements
    assert "ON CONFLICT" in writes[0].upper(), writes[0]
    assert savepoints == []
    session.expunge(first)  # as if the other request's row were another session's
    with count_statements() as second_signal:
        signal, created = services.signal_affected(uow, second_nurse, problem.id, note="us")
    assert created is False and signal.practice_id == net.practice2.id
    assert (signal.signalled_by_id, signal.note) == (first_nurse.person_id, "also us")
    assert not any(
        s.lstrip().upper().startswith(("UPDATE", "DELETE")) for s in second_signal.statements
    )
    session.expire_all()
    assert session.get(Problem, problem.id).affected_count == 2


def test_a_signal_withdrawn_between_the_insert_and_the_read_is_inserted_again(
    net, session, monkeypatch
):
    """The insert ran into a colleague's signal, whose DELETE then committed before the row
    could be read: the request tries the insert again and succeeds, rather than failing."""
    from network.access import load_principal
    from network.problems import services
    from network.uow import UnitOfWork

    uow = UnitOfWork(lambda: session)
    author = load_principal(session, net.members["practice1"])
    problem = services.create(uow, author, board_id=net.pcn1.id, title="Race", body="b")
    nurse = load_principal(session, net.members["practice2"])
    real_insert = services.insert_unless_present
    tries = []

    def ran_into_a_signal_since_withdrawn(*args, **kwargs):
        tries.append(1)
        return None if len(tries) == 1 else real_insert(*args, **kwargs)

    monkeypatch.setattr(services, "insert_unless_present", ran_into_a_signal_since_withdrawn)
    signal, created = services.signal_affected(uow, nurse, problem.id)
    assert created and signal.practice_id == net.practice2.id and len(tries) == 2
    session.expire_all()
    assert session.get(Problem, problem.id).affected_count == 2


def test_reading_one_problem_binds_values_into_a_statement_built_once(net, session, monkeypatch):
    """`queries.get` (every write to a problem starts with it) builds no statement per call:
    building one took a tenth of a write's Python. Readers differ only in what is bound:
    their boards and their practices."""
    from network.access import load_principal
    from network.errors import NotFound
    from network.problems import queries, services
    from network.uow import UnitOfWork

    uow = UnitOfWork(lambda: session)
    author = load_principal(session, net.members["practice1"])
    problem = services.create(uow, author, board_id=net.pcn1.id, title="Once", body="b")
    colleague = load_principal(session, net.members["practice2"])
    services.signal_affected(uow, colleague, problem.id)
    of_the_pcn = load_principal(session, net.members["pcn1"])
    elsewhere = load_principal(session, net.members["practice3"])

    def refused(*args, **kwargs):
        raise AssertionError("a statement was built for one call")

    for name in ("select", "exists", "bindparam"):
        monkeypatch.setattr(queries, name, refused)
    mine = queries.get(uow, colleague, problem.id)
    assert mine.my_practice_affected and not mine.can_edit
    theirs = queries.get(uow, of_the_pcn, problem.id)
    assert theirs.problem.id == problem.id and not theirs.my_practice_affected
    assert queries.get(uow, author, problem.id).can_edit
    with pytest.raises(NotFound):
        queries.get(uow, elsewhere, problem.id)


def test_the_fast_list_items_equal_the_documented_schema(net, session, post):
    """A list item is what ProblemSchema dumps of the same problem read on its own, for the
    author and for another practice, whatever the anonymity."""
    import orjson

    from api.app import ORJSONProvider
    from api.problems import ProblemSchema, problem_item
    from network.access import load_principal
    from network.problems import queries
    from network.uow import UnitOfWork

    post(net.members["practice1"], net.pcn1, tags=["a", "b"], anonymity="person")
    post(net.members["practice1"], net.pcn1, anonymity="practice")
    post(net.members["practice1"], net.pcn1, body="# Heading\n\n**Bold** words [a link](x)")
    post(net.members["practice1"], net.practice1)
    uow = UnitOfWork(lambda: session)
    for reader, expected in (("practice1", 4), ("practice2", 3)):
        principal = load_principal(session, net.members[reader])
        page = queries.get_all(uow, principal, limit=10)
        assert len(page.items) == expected
        for row in page.items:
            # As the client receives it: through the app's JSON provider.
            item = orjson.loads(orjson.dumps(problem_item(row), option=ORJSONProvider.OPTIONS))
            assert item == ProblemSchema().dump(queries.get(uow, principal, row.id))


def test_the_lists_excerpt_follows_edits_of_the_body(client, net, auth, post):
    """The excerpt is stored with the problem: posting sets it, editing the body changes it,
    editing anything else leaves it."""
    author, reader = net.members["practice1"], net.members["practice2"]
    problem = post(author, net.pcn1, body="# Letters\n\nArrive as **five** documents")
    url = f"/api/v1/problems/{problem['id']}"

    def listed() -> str:
        items = _get(client, auth, reader, "/api/v1/problems?sort=new").get_json()["items"]
        return next(p["excerpt"] for p in items if p["id"] == problem["id"])

    def edit(**changes) -> None:
        etag = client.get(url, headers=auth(author)).headers["ETag"]
        response = client.patch(url, json=changes, headers=auth(author) | {"If-Match": etag})
        assert response.status_code == 200, response.get_json()

    assert listed() == "Letters Arrive as five documents"
    edit(body="Now *one* PDF, but [unsigned](https://example.org)")
    assert listed() == "Now one PDF, but unsigned"  # a link shows its text
    assert _get(client, auth, reader, url).get_json()["excerpt"] == listed()
    edit(title="Letters, again", tags=["letters"])
    assert listed() == "Now one PDF, but unsigned"
    long_body = " ".join(f"word{n}" for n in range(60))
    edit(body=long_body)
    assert len(listed()) == 200 and listed().endswith("…")
    assert long_body.startswith(listed()[:-1])


def test_accepting_another_idea_takes_the_mark_from_the_first(client, net, auth, post):
    author = auth(net.members["practice1"])
    problem = post(net.members["practice1"], net.pcn1)
    base = f"/api/v1/problems/{problem['id']}"
    ideas = [
        client.post(
            f"{base}/comments",
            json={"body": f"Idea {n}", "kind": "idea"},
            headers=auth(net.members["practice2"]),
        ).get_json()["id"]
        for n in (1, 2)
    ]
    for idea in ideas:
        assert client.post(f"{base}/comments/{idea}/accept", headers=author).status_code == 200
    comments = client.get(f"{base}/comments", headers=author).get_json()["items"]
    assert [c["accepted"] for c in comments] == [False, True]
    assert client.get(base, headers=author).get_json()["accepted_comment_id"] == ideas[1]


def test_a_list_query_string_is_parsed_once_and_a_bad_one_refused_every_time(
    client, net, auth, post, monkeypatch
):
    import marshmallow

    from api.problems import ProblemQuery

    post(net.members["practice1"], net.pcn1, title="Letters")
    loads: list[dict] = []
    load = marshmallow.Schema.load

    def counted(schema, data, *args, **kwargs):
        if isinstance(schema, ProblemQuery):
            loads.append(dict(data))
        return load(schema, data, *args, **kwargs)

    monkeypatch.setattr(marshmallow.Schema, "load", counted)
    reader = net.members["practice1"]
    url = "/api/v1/problems?sort=hot&limit=7&parse=once"
    first = _get(client, auth, reader, url)
    again = _get(client, auth, reader, url)
    assert first.status_code == again.status_code == 200 and first.data == again.data
    assert len(loads) == 1  # the second request was answered with the first's arguments
    assert _get(client, auth, reader, "/api/v1/problems?sort=new&parse=once").status_code == 200
    assert len(loads) == 2  # another query string: loaded
    for _ in range(2):
        refused = _get(client, auth, reader, "/api/v1/problems?sort=hot&limit=0&parse=once")
        assert refused.status_code == 422 and "limit" in refused.get_json()["errors"]["query"]
    assert len(loads) == 4  # a refusal is never remembered
    # What each request gets is its own: a view changing its arguments changes no other's.
    from api.blueprint import Blueprint

    schema = ProblemQuery()
    with client.application.test_request_context("/api/v1/problems?limit=3"):
        args = Blueprint.ARGUMENTS_PARSER.parse(schema, location="query")
        args["limit"] = 99
        assert Blueprint.ARGUMENTS_PARSER.parse(schema, location="query")["limit"] == 3
