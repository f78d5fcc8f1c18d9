import pytest

from network.people.models import Role


def test_me_lists_memberships_with_their_organisations(client, net, auth, session):
    from tests import factories

    factories.membership(session, net.members["practice1"], net.pcn1)
    body = client.get("/api/v1/me", headers=auth(net.members["practice1"])).get_json()
    assert body["staff_group"] == "other" and body["is_superuser"] is False
    assert {(m["organisation"]["kind"], m["role"]) for m in body["memberships"]} == {
        ("practice", "member"),
        ("pcn", "member"),
    }


def test_a_person_changes_their_own_name_and_staff_group(client, net, auth):
    headers = auth(net.members["practice1"])
    response = client.patch(
        "/api/v1/me", json={"name": "  Dr  Jo   Bloggs ", "staff_group": "gp"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Dr Jo Bloggs"
    assert client.get("/api/v1/me", headers=headers).get_json()["staff_group"] == "gp"


def test_me_refuses_fields_it_does_not_know(client, net, auth):
    response = client.patch(
        "/api/v1/me", json={"is_superuser": True}, headers=auth(net.members["practice1"])
    )
    assert response.status_code == 422
    assert "is_superuser" in response.get_json()["errors"]["json"]
    assert (
        client.get("/api/v1/me", headers=auth(net.members["practice1"])).get_json()["is_superuser"]
        is False
    )


def test_digest_preference_has_defaults_until_chosen(client, net, auth):
    body = client.get("/api/v1/me/digest", headers=auth(net.members["practice1"])).get_json()
    assert body == {
        "frequency": "weekly",
        "weekday": 0,
        "hour": 7,
        "timezone": "Europe/London",
        "content": "full",
        "notify": {"action_assigned": True, "agenda": True},
    }


def test_digest_preference_is_stored(client, net, auth):
    headers = auth(net.members["practice1"])
    chosen = {
        "frequency": "daily",
        "weekday": 3,
        "hour": 16,
        "timezone": "Europe/Dublin",
        "content": "titles",
    }
    stored = chosen | {"notify": {"action_assigned": True, "agenda": True}}
    assert client.put("/api/v1/me/digest", json=chosen, headers=headers).get_json() == stored
    assert client.get("/api/v1/me/digest", headers=headers).get_json() == stored
    # Each notification has its own opt-out; one sent alone leaves the other as it was.
    quiet = chosen | {"notify": {"agenda": False}}
    answer = client.put("/api/v1/me/digest", json=quiet, headers=headers).get_json()
    assert answer["notify"] == {"action_assigned": True, "agenda": False}
    assert client.get("/api/v1/me/digest", headers=headers).get_json()["notify"]["agenda"] is False


def test_a_bad_time_zone_is_refused_and_nothing_is_stored(client, net, auth):
    headers = auth(net.members["practice1"])
    bad = {
        "frequency": "daily",
        "weekday": 3,
        "hour": 16,
        "timezone": "Mars/Olympus",
        "content": "full",
    }
    response = client.put("/api/v1/me/digest", json=bad, headers=headers)
    assert response.status_code == 422
    assert "Mars/Olympus" in response.get_json()["message"]
    assert client.get("/api/v1/me/digest", headers=headers).get_json()["frequency"] == "weekly"


def test_digest_put_requires_every_field(client, net, auth):
    response = client.put(
        "/api/v1/me/digest", json={"frequency": "off"}, headers=auth(net.members["practice1"])
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]) == {"weekday", "hour", "timezone", "content"}


def test_my_boards_are_my_organisations_and_their_ancestors_in_one_statement(
    client, net, auth, count_statements, session
):
    from tests import factories

    # A locum in two practices of two PCNs, and administrator of one of them.
    locum = factories.person(session, member_of=net.practice1)
    factories.membership(session, locum, net.practice3, Role.admin)
    headers = auth(locum)
    client.get("/api/v1/me", headers=headers)  # warm: token keys, principal
    with count_statements() as counted:
        response = client.get("/api/v1/me/boards", headers=headers)
    assert response.status_code == 200
    boards = {b["id"]: b for b in response.get_json()["items"]}
    expected = {net.fed_a, net.pcn1, net.practice1, net.pcn2, net.practice3}
    assert set(boards) == {o.id for o in expected}
    assert [b["name"] for b in response.get_json()["items"]] == sorted(o.name for o in expected)
    assert boards[net.practice3.id]["can_administer"] is True
    assert boards[net.practice1.id]["can_administer"] is False
    assert all(b["can_post"] for b in boards.values())
    assert boards[net.practice1.id]["parent_id"] == net.pcn1.id
    assert boards[net.fed_a.id]["parent_id"] is None
    assert counted.count <= 3  # the principal (cached or not) and one for the boards

    page = client.get("/api/v1/me/boards?limit=2", headers=headers).get_json()
    rest = client.get(f"/api/v1/me/boards?cursor={page['next_cursor']}", headers=headers)
    assert len(page["items"]) == 2 and len(rest.get_json()["items"]) == 3


@pytest.mark.parametrize("zone", ["localtime", "Factory", "Mars/Olympus"])
def test_a_digest_time_zone_is_a_place(client, net, auth, zone):
    preference = {
        "frequency": "weekly",
        "weekday": 0,
        "hour": 7,
        "timezone": zone,
        "content": "full",
    }
    response = client.put("/api/v1/me/digest", json=preference, headers=auth(net.members["pcn1"]))
    assert response.status_code == 422 and "timezone" in response.get_json()["errors"]["json"]
