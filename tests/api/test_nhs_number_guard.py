"""The NHS-number guard on every free-text field of every resource, over HTTP: 422 naming the
field, nothing stored. (What counts as an NHS number: tests/unit/test_safety.py.)"""

import pytest
from sqlalchemy import func, select

from network.organisations.models import Organisation
from network.people.models import Person
from network.problems.models import AffectedPractice, Comment, Problem, Report

# Written as people type it: an en dash and a non-breaking space between the groups.
NUMBER = "943\u2013476\u00a05919"


def _refused(response, field):
    body = response.get_json()
    assert response.status_code == 422, body
    assert "NHS number" in body["message"] and field in body["errors"]["json"], body


@pytest.mark.parametrize(
    "field, body",
    [
        ("title", {"title": f"Letters for {NUMBER}", "body": "b"}),
        ("body", {"title": "t", "body": f"Patient _{NUMBER}_"}),
        ("body", {"title": "t", "body": "Patient 943&#8211;476&nbsp;5919"}),
        ("tags", {"title": "t", "body": "b", "tags": ["943 476", "5919"]}),
    ],
)
def test_problems_refuse_it_in_every_field(client, net, auth, session, field, body):
    before = session.scalar(select(func.count()).select_from(Problem))
    response = client.post(
        "/api/v1/problems", json={"board_id": net.pcn1.id} | body, headers=auth(net.members["pcn1"])
    )
    _refused(response, field)
    assert session.scalar(select(func.count()).select_from(Problem)) == before


def test_comments_notes_and_reports_refuse_it(client, net, auth, post, session):
    problem = post(net.members["practice1"], net.pcn1)
    base = f"/api/v1/problems/{problem['id']}"
    reader = auth(net.members["practice2"])
    _refused(client.post(f"{base}/comments", json={"body": NUMBER}, headers=reader), "body")
    _refused(client.put(f"{base}/affected", json={"note": NUMBER}, headers=reader), "note")
    _refused(client.post(f"{base}/reports", json={"reason": NUMBER}, headers=reader), "reason")
    assert session.scalar(select(func.count()).select_from(Comment)) == 0
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    signals = select(func.count()).select_from(AffectedPractice)
    assert session.scalar(signals.where(AffectedPractice.practice_id == net.practice2.id)) == 0


def test_a_name_holding_a_number_is_refused(client, net, auth, session):
    me = net.members["practice1"]
    _refused(client.patch("/api/v1/me", json={"name": f"Dr A {NUMBER}"}, headers=auth(me)), "name")
    assert session.get(Person, me.id).name == "Member of Practice One"
    invite = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "new.person@example.org", "name": f"New {NUMBER}", "role": "member"},
        headers=auth(net.admins["practice1"]),
    )
    _refused(invite, "name")
    assert session.scalar(select(Person).where(Person.email == "new.person@example.org")) is None


def test_an_organisation_name_holding_a_number_is_refused(client, net, auth, session):
    admin = auth(net.admins["pcn1"])
    created = client.post(
        "/api/v1/organisations",
        json={"kind": "practice", "name": f"Surgery {NUMBER}", "parent_id": net.pcn1.id},
        headers=admin,
    )
    _refused(created, "name")
    renamed = client.patch(
        f"/api/v1/organisations/{net.practice1.id}", json={"name": NUMBER}, headers=admin
    )
    _refused(renamed, "name")
    assert session.get(Organisation, net.practice1.id).name == "Practice One"


def test_ordinary_numbers_pass(client, net, auth):
    body = "Call 020 7946 0958 or 07700 900123 before 06/12/2026; ODS A81001; ref 1234567890."
    response = client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "Phone lines on 2026-12-06", "body": body},
        headers=auth(net.members["pcn1"]),
    )
    assert response.status_code == 201, response.get_json()
