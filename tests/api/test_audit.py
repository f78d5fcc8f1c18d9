"""The audit log: written in the change's own transaction, read by those who administer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from network.audit.models import AuditEntry
from network.signin import passwords as signin
from network.uow import Origin, UnitOfWork
from tests import factories


def _invite(client, auth, admin, org, email):
    return client.post(
        f"/api/v1/organisations/{org.id}/members",
        json={"email": email, "role": "member"},
        headers=auth(admin),
    )


def _actions(client, auth, viewer, query=""):
    response = client.get(f"/api/v1/audit?limit=100{query}", headers=auth(viewer))
    assert response.status_code == 200, response.get_json()
    return [(e["action"], e["organisation_id"]) for e in response.get_json()["items"]]


def test_an_invitation_is_audited_with_who_what_when_and_where(client, net, auth):
    assert (
        _invite(client, auth, net.admins["practice1"], net.practice1, "a@example.org").status_code
        == 201
    )
    [entry] = client.get("/api/v1/audit", headers=auth(net.admins["practice1"])).get_json()["items"]
    assert entry["action"] == "member.invited"
    assert entry["actor"] == {
        "id": net.admins["practice1"].id,
        "label": "admin.practice1@example.org",
    }
    assert entry["organisation_id"] == net.practice1.id
    assert entry["details"] == {"email": "a@example.org", "role": "member"}
    assert entry["ip"] == "127.0.0.1" and entry["channel"] == "api"
    assert datetime.fromisoformat(entry["at"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_a_refused_change_leaves_no_entry(client, net, auth, session):
    assert (
        _invite(client, auth, net.members["practice1"], net.practice1, "b@example.org").status_code
        == 403
    )
    assert session.query(AuditEntry).count() == 0


def test_administrators_read_their_organisations_and_those_below_only(client, net, auth):
    _invite(client, auth, net.admins["practice1"], net.practice1, "c@example.org")
    _invite(client, auth, net.admins["practice3"], net.practice3, "d@example.org")
    _invite(client, auth, net.admins["practice4"], net.practice4, "e@example.org")
    assert _actions(client, auth, net.admins["practice1"]) == [("member.invited", net.practice1.id)]
    assert _actions(client, auth, net.admins["pcn1"]) == [("member.invited", net.practice1.id)]
    assert len(_actions(client, auth, net.admins["fed_a"])) == 2
    assert len(_actions(client, auth, net.superuser)) == 3
    only = _actions(client, auth, net.admins["fed_a"], f"&organisation_id={net.practice3.id}")
    assert only == [("member.invited", net.practice3.id)]


def test_members_who_administer_nothing_get_403(client, net, auth):
    assert client.get("/api/v1/audit", headers=auth(net.members["practice1"])).status_code == 403


def test_since_and_pages(client, net, auth):
    for n in range(3):
        _invite(client, auth, net.admins["practice1"], net.practice1, f"p{n}@example.org")
    headers = auth(net.admins["practice1"])
    first = client.get("/api/v1/audit?limit=2", headers=headers).get_json()
    rest = client.get(
        f"/api/v1/audit?limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    emails = [e["details"]["email"] for e in first["items"] + rest["items"]]
    assert emails == ["p2@example.org", "p1@example.org", "p0@example.org"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/v1/audit", query_string={"since": future}, headers=headers).get_json()[
            "items"
        ]
        == []
    )


def test_sign_ins_and_failures_are_audited_and_visible_to_the_persons_administrators(
    client, net, auth, session
):
    person = net.members["practice1"]
    person.password_hash = signin.hash_password("a long and quiet river")
    uow = UnitOfWork(lambda: session, origin=Origin("oauth", "203.0.113.9"))
    signin.authenticate(uow, person.email, "a long and quiet river")
    with pytest.raises(signin.SignInFailed):
        signin.authenticate(uow, person.email, "not it at all")
    with pytest.raises(signin.SignInFailed):
        signin.authenticate(uow, "ghost@example.org", "whatever it is")
    session.flush()
    seen = client.get("/api/v1/audit", headers=auth(net.admins["practice1"])).get_json()["items"]
    assert [(e["action"], e["ip"]) for e in seen] == [
        ("signin.failed", "203.0.113.9"),
        ("signin.succeeded", "203.0.113.9"),
    ]
    everything = client.get("/api/v1/audit", headers=auth(net.superuser)).get_json()["items"]
    ghost = [e for e in everything if e["actor"]["label"] == "ghost@example.org"]
    assert ghost and ghost[0]["actor"]["id"] is None
    assert (
        client.get("/api/v1/audit", headers=auth(net.admins["practice4"])).get_json()["items"] == []
    )


def test_membership_role_changes_and_removals_are_audited(client, net, auth, session):
    colleague = factories.person(session, member_of=net.practice1)
    url = f"/api/v1/organisations/{net.practice1.id}/members/{colleague.id}"
    client.patch(url, json={"role": "admin"}, headers=auth(net.admins["pcn1"]))
    client.delete(url, headers=auth(net.admins["pcn1"]))
    entries = client.get("/api/v1/audit", headers=auth(net.admins["practice1"])).get_json()["items"]
    assert [e["action"] for e in entries] == ["member.removed", "member.role_changed"]
    assert entries[1]["details"] == {"from": "member", "to": "admin"}


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"]
)
def test_entries_cannot_be_changed_even_in_sql(client, net, auth, connection, statement):
    _invite(client, auth, net.admins["practice1"], net.practice1, "f@example.org")
    nested = connection.begin_nested()
    with pytest.raises(DatabaseError, match="cannot be changed"):
        connection.execute(text(statement))
    nested.rollback()
