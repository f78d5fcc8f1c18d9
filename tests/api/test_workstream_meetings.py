"""A workstream's huddles (API.md, "Joint workstreams"): an RRULE read in London wall-clock time,
so the 12:30 huddle stays at 12:30 when the clocks change; occurrences are computed, not stored."""

from __future__ import annotations

import pytest

BASE = "/api/v1/workstreams"
HUDDLE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30"


@pytest.fixture
def workstream(client, auth, net):
    def _start(**fields):
        body = {"organisation_id": net.pcn1.id, "title": "Workflow", "purpose": "Letters."}
        response = client.post(BASE, json=body | fields, headers=auth(net.admins["pcn1"]))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _start


def _meetings(client, auth, person, workstream, start, end):
    response = client.get(
        f"{BASE}/{workstream['id']}/meetings?from={start}&to={end}", headers=auth(person)
    )
    assert response.status_code == 200, response.get_json()
    return [(m["starts_at"], m["ends_at"]) for m in response.get_json()["items"]]


def test_a_1230_huddle_stays_at_1230_in_london_across_both_clock_changes(
    client, auth, net, workstream
):
    huddle = workstream(meeting_rule=HUDDLE.lower().replace(";", " ; "))
    assert huddle["meeting_rule"] == HUDDLE and huddle["meeting_minutes"] == 30
    reader = net.members["practice2"]
    # Clocks go forward on Sunday 28 March 2027 and back on Sunday 31 October 2027.
    spring = _meetings(client, auth, reader, huddle, "2027-03-20T00:00:00Z", "2027-04-01T00:00:00Z")
    assert spring == [
        ("2027-03-23T12:30:00Z", "2027-03-23T13:00:00Z"),  # GMT
        ("2027-03-30T11:30:00Z", "2027-03-30T12:00:00Z"),  # BST: 12:30 in London
    ]
    autumn = _meetings(client, auth, reader, huddle, "2027-10-25T00:00:00Z", "2027-11-03T00:00:00Z")
    assert autumn == [
        ("2027-10-26T11:30:00Z", "2027-10-26T12:00:00Z"),
        ("2027-11-02T12:30:00Z", "2027-11-02T13:00:00Z"),
    ]


def test_no_huddles_once_paused_and_none_without_a_rule(client, auth, net, workstream):
    manager = auth(net.admins["pcn1"])
    plain = workstream()
    assert (
        _meetings(
            client, auth, net.admins["pcn1"], plain, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"
        )
        == []
    )
    huddle = workstream(meeting_rule=HUDDLE, meeting_minutes=15)
    url = f"{BASE}/{huddle['id']}"
    paused = client.patch(url, json={"status": "paused"}, headers=manager | {"If-Match": "*"})
    assert paused.status_code == 200
    assert (
        _meetings(
            client, auth, net.admins["pcn1"], huddle, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"
        )
        == []
    )


@pytest.mark.parametrize(
    "rule",
    [
        "hello",
        "FREQ=SOMETIMES;BYHOUR=12",
        "FREQ=MINUTELY;BYHOUR=12",
        "FREQ=WEEKLY;BYDAY=XX;BYHOUR=12",
        "FREQ=WEEKLY;BYDAY=TU",  # no hour
        "FREQ=WEEKLY;BYHOUR=25",
        "DTSTART:20270101T000000\nRRULE:FREQ=WEEKLY;BYHOUR=12",
        "FREQ=WEEKLY;BYHOUR=12;BYSECOND=30",
    ],
)
def test_a_rule_that_is_not_a_huddle_is_422_naming_the_field(client, auth, net, rule):
    response = client.post(
        BASE,
        json={"organisation_id": net.pcn1.id, "title": "T", "purpose": "P", "meeting_rule": rule},
        headers=auth(net.admins["pcn1"]),
    )
    assert response.status_code == 422, rule
    assert "meeting_rule" in str(response.get_json())
    listed = client.get(BASE, headers=auth(net.admins["pcn1"])).get_json()["items"]
    assert listed == []  # nothing stored


def test_a_range_is_at_most_a_year_and_forwards(client, auth, net, workstream):
    huddle = workstream(meeting_rule=HUDDLE)
    headers = auth(net.admins["pcn1"])
    for query in (
        "from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2027-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
    ):
        response = client.get(f"{BASE}/{huddle['id']}/meetings?{query}", headers=headers)
        assert response.status_code == 422 and "to" in str(response.get_json())
    assert client.get(f"{BASE}/{huddle['id']}/meetings", headers=headers).status_code == 200


def test_other_federations_see_no_huddles(client, auth, net, workstream):
    huddle = workstream(meeting_rule=HUDDLE)
    stranger = auth(net.members["practice4"])
    assert client.get(f"{BASE}/{huddle['id']}/meetings", headers=stranger).status_code == 404
