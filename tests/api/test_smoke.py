def test_me_returns_the_signed_in_person_and_memberships(client, net, auth):
    response = client.get("/api/v1/me", headers=auth(net.members["practice1"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "member.practice1@example.org"
    assert [m["organisation"]["name"] for m in body["memberships"]] == ["Practice One"]
