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
    assert client.put("/api/v1/me/digest", json=chosen, headers=headers).get_json() == chosen
    assert client.get("/api/v1/me/digest", headers=headers).get_json() == chosen


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
