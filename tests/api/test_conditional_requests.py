"""ETags as HTTP clients expect them (RFC 9110 section 13): If-Match compares strongly and `*`
matches any current version; If-None-Match on a GET answers 304 while the tag is current."""

import pytest


@pytest.fixture
def problem(post, net):
    return post(net.members["practice1"], net.pcn1)


def _patch(client, auth, net, problem, if_match, title="Renamed"):
    headers = auth(net.members["practice1"])
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(f"/api/v1/problems/{problem['id']}", json={"title": title}, headers=headers)


def _etag(client, auth, net, problem):
    url = f"/api/v1/problems/{problem['id']}"
    return client.get(url, headers=auth(net.members["practice1"])).headers["ETag"]


def test_if_match_star_matches_any_current_version(client, net, auth, problem):
    first = _patch(client, auth, net, problem, "*", title="One")
    second = _patch(client, auth, net, problem, "*", title="Two")
    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] != second.headers["ETag"]
    assert second.get_json()["title"] == "Two"


def test_a_weak_etag_never_satisfies_if_match(client, net, auth, problem):
    etag = _etag(client, auth, net, problem)
    response = _patch(client, auth, net, problem, f"W/{etag}")
    assert response.status_code == 412
    assert _etag(client, auth, net, problem) == etag  # nothing changed


def test_if_match_takes_a_list_and_any_current_strong_tag_in_it_matches(client, net, auth, problem):
    etag = _etag(client, auth, net, problem)
    stale = f'"{problem["id"]}-999"'
    assert _patch(client, auth, net, problem, f"{stale}, {etag}").status_code == 200
    assert _patch(client, auth, net, problem, f"{stale}, {etag}").status_code == 412


@pytest.mark.parametrize(
    "header",
    [
        '"nonsense"',
        "not even quoted",
        '"{id}-1" junk',
        '"99999999999-1"',
        '""',
        '"{id}-2147483648"',
        '"{id}-9999999999"',
        '"{id}-\u0661"',
    ],
)
def test_a_malformed_or_foreign_if_match_is_412_and_changes_nothing(
    client, net, auth, problem, header
):
    etag = _etag(client, auth, net, problem)
    header = header.replace("{id}", str(problem["id"]))
    assert _patch(client, auth, net, problem, header).status_code == 412
    assert _etag(client, auth, net, problem) == etag


def test_without_if_match_it_is_428(client, net, auth, problem):
    assert _patch(client, auth, net, problem, None).status_code == 428


def test_a_get_with_the_current_etag_in_if_none_match_is_304(client, net, auth, problem):
    url = f"/api/v1/problems/{problem['id']}"
    headers = auth(net.members["practice1"])
    etag = _etag(client, auth, net, problem)
    for header in (etag, f"W/{etag}", f'"x-1", {etag}', "*"):
        response = client.get(url, headers=headers | {"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.headers["ETag"] == etag and response.data == b""
    changed = _patch(client, auth, net, problem, etag)
    response = client.get(url, headers=headers | {"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] == changed.headers["ETag"]


def test_if_none_match_never_reveals_what_the_reader_cannot_read(client, net, auth, problem):
    url = f"/api/v1/problems/{problem['id']}"
    outsider = auth(net.members["practice4"])
    assert client.get(url, headers=outsider | {"If-None-Match": "*"}).status_code == 404


def test_the_etag_moves_when_what_the_reader_sees_moves_without_an_edit(client, net, auth, problem):
    url = f"/api/v1/problems/{problem['id']}"
    reader = auth(net.members["practice1"])
    etag = client.get(url, headers=reader).headers["ETag"]
    client.put(f"{url}/affected", json={}, headers=auth(net.members["practice2"]))
    after_signal = client.get(url, headers=reader | {"If-None-Match": etag})
    assert after_signal.status_code == 200 and after_signal.get_json()["affected_count"] == 2
    client.post(f"{url}/comments", json={"body": "Same"}, headers=auth(net.members["practice2"]))
    after_comment = client.get(
        url, headers=reader | {"If-None-Match": after_signal.headers["ETag"]}
    )
    assert after_comment.status_code == 200 and after_comment.get_json()["comment_count"] == 1


def test_readers_shown_different_things_get_different_etags(client, net, auth, problem):
    url = f"/api/v1/problems/{problem['id']}"
    client.put(f"{url}/affected", json={}, headers=auth(net.members["practice2"]))
    signalled = client.get(url, headers=auth(net.members["practice2"]))
    not_signalled = client.get(url, headers=auth(net.members["pcn1"]))
    assert signalled.get_json()["my_practice_affected"] is True
    assert not_signalled.get_json()["my_practice_affected"] is False
    assert signalled.headers["ETag"] != not_signalled.headers["ETag"]


def test_a_delete_with_a_stale_if_match_is_412_and_deletes_nothing(client, net, auth, problem):
    url = f"/api/v1/problems/{problem['id']}"
    author = auth(net.members["practice1"])
    etag = client.get(url, headers=author).headers["ETag"]
    _patch(client, auth, net, problem, etag, title="Moved on")
    assert client.delete(url, headers=author | {"If-Match": etag}).status_code == 412
    assert client.get(url, headers=author).status_code == 200
    current = client.get(url, headers=author).headers["ETag"]
    assert client.delete(url, headers=author | {"If-Match": current}).status_code == 204
    assert client.delete(url, headers=author).status_code == 404
