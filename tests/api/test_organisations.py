"""Organisations are reference data within a federation; acting on them needs administration."""

from tests import factories


def _names(response):
    return [item["name"] for item in response.get_json()["items"]]


def test_a_member_sees_every_organisation_of_their_federation_and_no_other(client, net, auth):
    response = client.get("/api/v1/organisations?limit=100", headers=auth(net.members["practice1"]))
    assert response.status_code == 200
    assert sorted(_names(response)) == sorted(
        ["Federation A", "PCN One", "PCN Two", "Practice One", "Practice Two", "Practice Three"]
    )


def test_a_superuser_sees_every_organisation(client, net, auth):
    names = _names(client.get("/api/v1/organisations?limit=100", headers=auth(net.superuser)))
    assert "Federation B" in names and "Practice Four" in names


def test_organisations_filter_by_kind_parent_and_text(client, net, auth):
    headers = auth(net.members["practice1"])
    assert _names(client.get("/api/v1/organisations?kind=pcn", headers=headers)) == [
        "PCN One",
        "PCN Two",
    ]
    by_parent = client.get(f"/api/v1/organisations?parent_id={net.pcn1.id}", headers=headers)
    assert _names(by_parent) == ["Practice One", "Practice Two"]
    assert _names(client.get("/api/v1/organisations?q=p10002", headers=headers)) == ["Practice Two"]
    assert _names(client.get("/api/v1/organisations?q=%25", headers=headers)) == []


def test_organisation_pages_follow_the_cursor_to_the_end(client, net, auth):
    headers = auth(net.members["practice1"])
    seen, cursor = [], None
    while True:
        url = "/api/v1/organisations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        assert len(body["items"]) <= 2
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 6 == len(set(seen))


def test_limit_outside_one_to_a_hundred_is_422(client, net, auth):
    for limit in (0, 101, -1):
        response = client.get(
            f"/api/v1/organisations?limit={limit}", headers=auth(net.members["practice1"])
        )
        assert response.status_code == 422
        assert "limit" in response.get_json()["errors"]["query"]


def test_a_forged_cursor_is_422(client, net, auth):
    response = client.get(
        "/api/v1/organisations?cursor=bm9wZQ", headers=auth(net.members["practice1"])
    )
    assert response.status_code == 422
    assert "cursor" in response.get_json()["errors"]["query"]


def test_an_organisation_of_another_federation_is_404(client, net, auth):
    response = client.get(
        f"/api/v1/organisations/{net.practice4.id}", headers=auth(net.members["practice1"])
    )
    assert response.status_code == 404
    assert "Practice Four" not in response.get_data(as_text=True)


def test_a_pcn_admin_creates_a_practice_in_their_pcn(client, net, auth):
    response = client.post(
        "/api/v1/organisations",
        json={
            "kind": "practice",
            "name": " New   Surgery ",
            "parent_id": net.pcn1.id,
            "ods_code": "b81999",
        },
        headers=auth(net.admins["pcn1"]),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "New Surgery" and body["ods_code"] == "B81999" and body["active"] is True


def test_a_practice_member_may_not_create_under_their_pcn(client, net, auth):
    response = client.post(
        "/api/v1/organisations",
        json={"kind": "practice", "name": "Rogue", "parent_id": net.pcn1.id},
        headers=auth(net.members["practice1"]),
    )
    assert response.status_code == 403


def test_only_superusers_create_federations(client, net, auth):
    body = {"kind": "federation", "name": "Federation C"}
    assert (
        client.post(
            "/api/v1/organisations", json=body, headers=auth(net.admins["fed_a"])
        ).status_code
        == 403
    )
    assert (
        client.post("/api/v1/organisations", json=body, headers=auth(net.superuser)).status_code
        == 201
    )


def test_a_practice_cannot_be_the_parent_of_a_pcn(client, net, auth):
    response = client.post(
        "/api/v1/organisations",
        json={"kind": "pcn", "name": "Odd", "parent_id": net.practice1.id},
        headers=auth(net.superuser),
    )
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["errors"]["json"]


def test_a_taken_ods_code_is_409_and_nothing_is_stored(client, net, auth):
    response = client.post(
        "/api/v1/organisations",
        json={"kind": "practice", "name": "Copy", "parent_id": net.pcn1.id, "ods_code": "P10001"},
        headers=auth(net.admins["pcn1"]),
    )
    assert response.status_code == 409
    names = _names(client.get("/api/v1/organisations?q=copy", headers=auth(net.admins["pcn1"])))
    assert names == []


def test_a_pcn_admin_moves_a_practice_only_where_they_also_administer(client, net, auth):
    url = f"/api/v1/organisations/{net.practice2.id}"
    denied = client.patch(url, json={"parent_id": net.pcn2.id}, headers=auth(net.admins["pcn1"]))
    assert denied.status_code == 403
    moved = client.patch(url, json={"parent_id": net.pcn2.id}, headers=auth(net.admins["fed_a"]))
    assert moved.status_code == 200 and moved.get_json()["parent_id"] == net.pcn2.id


def test_a_member_of_one_practice_may_not_list_another_practices_members(client, net, auth):
    response = client.get(
        f"/api/v1/organisations/{net.practice2.id}/members", headers=auth(net.members["practice1"])
    )
    assert response.status_code == 403


def test_members_and_administrators_list_members(client, net, auth):
    url = f"/api/v1/organisations/{net.practice1.id}/members"
    for viewer in (
        net.members["practice1"],
        net.admins["practice1"],
        net.admins["pcn1"],
        net.superuser,
    ):
        body = client.get(url, headers=auth(viewer)).get_json()
        assert {item["person"]["email"] for item in body["items"]} == {
            "member.practice1@example.org",
            "admin.practice1@example.org",
        }


def test_inviting_is_idempotent_for_the_same_email(client, net, auth):
    url = f"/api/v1/organisations/{net.practice1.id}/members"
    invite = {
        "email": "New.Nurse@Example.org",
        "name": "New Nurse",
        "role": "member",
        "staff_group": "nurse",
    }
    first = client.post(url, json=invite, headers=auth(net.admins["practice1"]))
    assert first.status_code == 201
    assert first.get_json()["person"]["email"] == "new.nurse@example.org"
    again = client.post(
        url, json=invite | {"email": "new.nurse@example.org"}, headers=auth(net.admins["practice1"])
    )
    assert again.status_code == 200
    assert again.get_json()["person"]["id"] == first.get_json()["person"]["id"]


def test_an_existing_person_is_reused_when_invited_elsewhere(client, net, auth):
    existing = net.members["practice2"]
    url = f"/api/v1/organisations/{net.practice1.id}/members"
    response = client.post(
        url, json={"email": existing.email, "role": "member"}, headers=auth(net.admins["pcn1"])
    )
    assert response.status_code == 201
    assert response.get_json()["person"]["id"] == existing.id


def test_an_admin_changes_a_role_and_removes_a_member(client, net, auth, session):
    colleague = factories.person(session, member_of=net.practice1)
    url = f"/api/v1/organisations/{net.practice1.id}/members/{colleague.id}"
    headers = auth(net.admins["practice1"])
    assert client.patch(url, json={"role": "admin"}, headers=headers).get_json()["role"] == "admin"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.delete(url, headers=headers).status_code == 404


def test_a_member_may_not_manage_members(client, net, auth):
    url = f"/api/v1/organisations/{net.practice1.id}/members/{net.admins['practice1'].id}"
    assert client.delete(url, headers=auth(net.members["practice1"])).status_code == 403
    assert (
        client.patch(
            url, json={"role": "member"}, headers=auth(net.members["practice1"])
        ).status_code
        == 403
    )


def test_ids_beyond_the_id_range_are_404_or_422_never_500(client, net, auth):
    headers = auth(net.admins["fed_a"])
    huge = 2**63
    assert client.get(f"/api/v1/organisations/{huge}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/organisations?parent_id={huge}", headers=headers).status_code == 422
    body = {"kind": "practice", "name": "X", "parent_id": huge}
    assert client.post("/api/v1/organisations", json=body, headers=headers).status_code == 422


def test_a_taken_ods_code_is_a_409_naming_the_field_and_the_code_as_stored(client, net, auth):
    response = client.patch(
        f"/api/v1/organisations/{net.practice1.id}",
        json={"ods_code": "p10002"},
        headers=auth(net.admins["pcn1"]),
    )
    body = response.get_json()
    assert response.status_code == 409
    assert body["errors"] == {"json": {"ods_code": [body["message"]]}}
    assert "P10002" in body["message"] and "p10002" not in body["message"]
