"""The read cache (network/content.py): a person's repeated reads are served from memory only
while nothing they show has changed, however the change was made, and never to anyone else; a
change elsewhere (a board they do not read, another person's memberships) leaves them
remembered."""

from __future__ import annotations

from sqlalchemy import delete, text

from api.app import create_app
from network.content import VERSIONED_TABLES, ReadCache
from network.people.models import Membership

LIST = "/api/v1/problems?sort=hot&limit=25"


def _titles(client, headers) -> list[str]:
    response = client.get(LIST, headers=headers)
    assert response.status_code == 200
    return [item["title"] for item in response.get_json()["items"]]


def test_a_repeated_read_costs_one_statement_and_answers_the_same(
    client, net, auth, post, count_statements
):
    post(net.members["practice1"], net.pcn1, title="Letters")
    headers = auth(net.members["practice1"])
    first = client.get(LIST, headers=headers).get_json()
    with count_statements() as counter:
        again = client.get(LIST, headers=headers).get_json()
    assert again == first
    assert len(counter.statements) == 1 and "content_scope" in counter.statements[0]


def test_changes_through_the_api_show_at_once(client, net, auth, post):
    reader = auth(net.members["practice2"])
    assert _titles(client, reader) == []
    problem = post(net.members["practice1"], net.pcn1, title="Letters")
    assert _titles(client, reader) == ["Letters"]  # a new problem
    signal = client.put(f"/api/v1/problems/{problem['id']}/affected", json={}, headers=reader)
    assert signal.status_code == 201, signal.get_json()  # "we have this too": the count moves
    item = client.get(LIST, headers=reader).get_json()["items"][0]
    assert item["affected_count"] == 2
    hidden = client.post(f"/api/v1/problems/{problem['id']}/hide", headers=auth(net.admins["pcn1"]))
    assert hidden.status_code == 200
    assert _titles(client, reader) == []  # hidden by a moderator: gone from a remembered page


def test_changes_made_in_the_database_directly_show_at_once(client, net, auth, post, session):
    problem = post(net.members["practice1"], net.pcn1, title="Letters")
    reader = auth(net.members["practice2"])
    assert _titles(client, reader) == ["Letters"]
    # Past the application: the database's own triggers raise the version.
    session.execute(
        text("UPDATE problem SET title = 'Renamed' WHERE id = :id"), {"id": problem["id"]}
    )
    session.flush()
    assert _titles(client, reader) == ["Renamed"]
    session.execute(
        text("UPDATE organisation SET name = 'PCN Uno' WHERE id = :id"), {"id": net.pcn1.id}
    )
    session.flush()
    item = client.get(LIST, headers=reader).get_json()["items"][0]
    assert item["board"]["name"] == "PCN Uno"


def test_losing_a_membership_loses_the_board_at_once(client, net, auth, post, session):
    post(net.members["practice1"], net.practice1, title="Practice only")
    member = net.members["practice1"]
    headers = auth(member)
    assert _titles(client, headers) == ["Practice only"]
    session.execute(delete(Membership).where(Membership.person_id == member.id))
    session.flush()
    # Their principal and their page were both remembered; neither survives the change.
    assert _titles(client, headers) == []


def test_a_page_is_never_served_to_another_reader(client, net, auth, post):
    # Same boards, different people: the author may edit, the colleague may not.
    author, colleague = net.members["practice1"], net.admins["practice1"]
    post(author, net.practice1, title="Ours")
    mine = client.get(LIST, headers=auth(author)).get_json()["items"]
    theirs = client.get(LIST, headers=auth(colleague)).get_json()["items"]
    assert [i["can_edit"] for i in mine] == [True]
    assert [i["can_edit"] for i in theirs] == [False]
    # A member of another practice of the same PCN, whose boards differ, never sees it.
    assert _titles(client, auth(net.members["practice2"])) == []


def test_a_unit_that_has_written_reads_afresh(session_factory, net):
    # Its own changes are not covered by any version until it commits.
    from network.organisations.models import Organisation
    from network.uow import UnitOfWork

    with UnitOfWork(session_factory, read_cache=ReadCache(8)) as unit:
        assert unit.cached("k", lambda: "first") == "first"
        assert unit.cached("k", lambda: "second") == "first"  # remembered
        unit.session.get(Organisation, net.practice1.id).name = "Renamed"
        unit.session.flush()
        assert unit.cached("k", lambda: "third") == "third"


def test_a_unit_that_has_executed_an_update_reads_afresh(session_factory, net):
    # Counters are raised by UPDATE statements, not by flushing objects.
    from sqlalchemy import update

    from network.organisations.models import Organisation
    from network.uow import UnitOfWork

    with UnitOfWork(session_factory, read_cache=ReadCache(8)) as unit:
        assert unit.cached("k", lambda: "first") == "first"
        unit.session.execute(
            update(Organisation).where(Organisation.id == net.practice1.id).values(name="Renamed")
        )
        assert unit.cached("k", lambda: "second") == "second"


def test_read_cache_size_zero_turns_it_off(settings, session_factory, net, count_statements):
    from dataclasses import replace

    from tests import factories

    app = create_app(replace(settings, read_cache_size=0), session_factory=session_factory)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {factories.token(app, net.members['practice1'])}"}
    client.get(LIST, headers=headers)
    with count_statements() as counter:
        assert client.get(LIST, headers=headers).status_code == 200
    assert not any("content_scope" in s for s in counter.statements)
    assert len(counter.statements) == 2, counter.statements  # the principal and the list


def test_the_cache_serves_a_result_only_at_the_numbers_it_was_stored_with():
    cache = ReadCache(2)
    assert cache.get({"all": 1, "b1": 4}, "a", lambda: "a1") == "a1"
    assert cache.get({"all": 1, "b1": 4}, "a", lambda: "other") == "a1"
    assert cache.get({"all": 1, "b1": 5}, "a", lambda: "a2") == "a2"  # its board moved on
    assert cache.get({"all": 1, "b1": 4}, "a", lambda: "a1 again") == "a1 again"  # lower too
    assert cache.get({"all": 2, "b1": 4}, "a", lambda: "a3") == "a3"  # everything moved


def test_the_cache_forgets_the_least_recently_used_past_its_size():
    cache = ReadCache(2)
    at = {"all": 1}
    cache.get(at, "a", lambda: "a")
    cache.get(at, "b", lambda: "b")
    assert cache.get(at, "a", lambda: "recomputed") == "a"  # used: now the most recent
    cache.get(at, "c", lambda: "c")  # over the size: b, the least recently used, goes
    assert len(cache) == 2
    assert cache.get(at, "b", lambda: "b again") == "b again"
    assert cache.peek("c") == "c" and cache.peek("a") is None


def test_a_change_on_a_board_the_reader_does_not_read_leaves_a_remembered_page_alone(
    client, net, auth, post, count_statements
):
    post(net.members["practice1"], net.pcn1, title="Letters")
    reader = auth(net.members["practice2"])
    first = client.get(LIST, headers=reader).get_json()
    post(net.members["practice4"], net.pcn3, title="Elsewhere")  # federation B
    post(net.members["practice3"], net.pcn2, title="Next door")  # A's other PCN
    client.put(  # and a signal there too
        f"/api/v1/problems/{post(net.members['practice4'], net.fed_b)['id']}/affected",
        json={},
        headers=auth(net.admins["practice4"]),
    )
    with count_statements() as counter:
        again = client.get(LIST, headers=reader).get_json()
    assert again == first
    assert len(counter.statements) == 1, counter.statements  # the numbers alone: remembered

    post(net.members["practice3"], net.fed_a, title="Ours too")  # their federation's board
    with count_statements() as counter:
        titles = [i["title"] for i in client.get(LIST, headers=reader).get_json()["items"]]
    assert "Ours too" in titles and len(counter.statements) > 1


def test_another_persons_membership_leaves_a_remembered_principal_alone(
    client, net, auth, post, session, count_statements
):
    post(net.members["practice1"], net.pcn1, title="Letters")
    reader = auth(net.members["practice2"])
    client.get(LIST, headers=reader)
    session.execute(delete(Membership).where(Membership.person_id == net.members["practice3"].id))
    session.flush()
    with count_statements() as counter:
        client.get(LIST, headers=reader)
    assert len(counter.statements) == 1, counter.statements


def test_a_change_to_everything_reaches_every_reader(client, net, auth, post, session):
    post(net.members["practice4"], net.pcn3, title="Over there")
    reader = auth(net.members["practice4"])
    assert client.get(LIST, headers=reader).get_json()["items"][0]["board"]["name"] == "PCN Three"
    # A person or an organisation may show in any federation: `all` moves for them.
    session.execute(
        text("UPDATE organisation SET name = 'PCN Drei' WHERE id = :id"), {"id": net.pcn3.id}
    )
    session.flush()
    assert client.get(LIST, headers=reader).get_json()["items"][0]["board"]["name"] == "PCN Drei"


def test_a_problem_moved_to_another_federation_leaves_both_readers_current(
    client, net, auth, post, session
):
    problem = post(net.members["practice1"], net.fed_a, title="Moving")
    in_a, in_b = auth(net.members["practice1"]), auth(net.members["practice4"])
    assert _titles(client, in_a) == ["Moving"] and _titles(client, in_b) == []
    session.execute(
        text("UPDATE problem SET board_id = :b WHERE id = :id"),
        {"b": net.fed_b.id, "id": problem["id"]},
    )
    session.flush()
    assert _titles(client, in_a) == [] and _titles(client, in_b) == ["Moving"]


def test_every_table_the_remembered_reads_select_from_raises_the_version(connection):
    # A join added to a remembered read must come with a trigger on its table (migration),
    # or changes to it would go unseen until something else changed.
    from sqlalchemy import Table
    from sqlalchemy.sql.visitors import iterate

    from network.access import PRINCIPAL
    from network.problems.queries import _list_statement

    every_filter = _list_statement("hot", True, True, True, True, True)
    read = {
        e.name
        for stmt in (PRINCIPAL.statement, every_filter.statement)
        for e in iterate(stmt)
        if isinstance(e, Table)
    }
    assert {"problem", "membership"} <= read  # the walk finds joined and aliased tables
    assert read <= set(VERSIONED_TABLES), read - set(VERSIONED_TABLES)
    if connection.dialect.name == "postgresql":
        triggered = set(
            connection.execute(
                text(
                    "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c"
                    " ON c.oid = t.tgrelid WHERE t.tgname LIKE 'content_scope_%'"
                )
            ).scalars()
        )
    else:
        triggered = set(
            connection.execute(
                text(
                    "SELECT DISTINCT tbl_name FROM sqlite_master"
                    " WHERE type = 'trigger' AND name LIKE 'content_scope_%'"
                )
            ).scalars()
        )
    assert triggered == set(VERSIONED_TABLES)
