"""The operator commands: one-line reasons and non-zero exits on failure."""

import json

from joserfc import jwt
from joserfc.jwk import KeySet

from api.cli import main
from tests import factories


def test_users_create_then_token_for_them(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        main, args=["users", "create", "--email", "Ann@Example.org", "--name", "Ann", "--superuser"]
    )
    assert result.exit_code == 0, result.output
    assert "ann@example.org" in result.output and "superuser" in result.output
    minted = runner.invoke(main, args=["token", "ann@example.org", "--minutes", "5"])
    assert minted.exit_code == 0
    token = minted.output.strip()
    keys = KeySet.import_key_set(app.extensions["commons"].keys.jwks())
    claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
    assert claims["exp"] - claims["iat"] == 300
    assert claims["aud"] == app.extensions["commons"].settings.audience


def test_creating_a_person_twice_fails_with_one_line(app, session):
    factories.person(session, email="dup@example.org")
    result = app.test_cli_runner().invoke(
        main, args=["users", "create", "--email", "dup@example.org", "--name", "D"]
    )
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and "already exists" in result.output


def test_token_for_an_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(main, args=["token", "nobody@example.org"])
    assert result.exit_code != 0
    assert "no active person" in result.output


def test_token_for_several_people_prints_one_line_each_in_order(app, session):
    first = factories.person(session, email="first@example.org")
    second = factories.person(session, email="second@example.org")
    result = app.test_cli_runner().invoke(
        main, args=["token", "second@example.org", "first@example.org", "--minutes", "5"]
    )
    assert result.exit_code == 0, result.output
    keys = KeySet.import_key_set(app.extensions["commons"].keys.jwks())
    subjects = [
        jwt.decode(line, keys, algorithms=["RS256"]).claims["sub"]
        for line in result.output.splitlines()
    ]
    assert subjects == [str(second.id), str(first.id)]


def test_token_prints_nothing_when_one_of_several_emails_is_unknown(app, session):
    factories.person(session, email="known@example.org")
    result = app.test_cli_runner().invoke(
        main, args=["token", "known@example.org", "nobody@example.org"]
    )
    assert result.exit_code != 0
    assert result.output.strip() == "Error: no active person with email nobody@example.org"


def test_the_api_accepts_a_token_from_the_command(app, client, session):
    person = factories.person(session, email="cli@example.org")
    token = app.test_cli_runner().invoke(main, args=["token", "cli@example.org"]).output.strip()
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["id"] == person.id


def _weeks_ago(weeks: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(weeks=weeks)).isoformat()


def test_seed_demo_builds_the_network_once(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(main, args=["seed", "demo"])
    assert first.exit_code == 0 and "seeded the demo network" in first.output
    again = runner.invoke(main, args=["seed", "demo"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    token = runner.invoke(main, args=["token", "amira.patel@demo.example"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert {"pcn": "admin"}.items() <= {
        m["organisation"]["kind"]: m["role"] for m in me["memberships"] if m["role"] == "admin"
    }.items()
    orgs = client.get("/api/v1/organisations?limit=100", headers=headers).get_json()["items"]
    kinds = [o["kind"] for o in orgs]
    assert (
        kinds.count("federation") == 1 and kinds.count("pcn") == 2 and kinds.count("practice") == 5
    )
    # What the network has been doing: shared problems and a Workflow workstream with history.
    workstreams = client.get("/api/v1/workstreams", headers=headers).get_json()["items"]
    assert [(w["title"], w["status"], w["practice_count"]) for w in workstreams] == [
        ("Workflow", "active", 3)
    ]
    url = f"/api/v1/workstreams/{workstreams[0]['id']}"
    huddles = client.get(f"{url}/meetings", headers=headers).get_json()["items"]
    assert len(huddles) == 4  # weekly, over the next four weeks
    week_ago = client.get(
        f"{url}/meetings", query_string={"limit": 100, "from": _weeks_ago(3)}, headers=headers
    )
    written = [m for m in week_ago.get_json()["items"] if m["status"] == "held"]
    assert [len(m["decisions"]) for m in written] == [1, 2]  # the last two huddles
    assert written[1]["decision_actions"][0]["decision"] == 0
    agenda = client.get(f"{url}/agenda", headers=headers).get_json()
    assert agenda["sections"][0]["kind"] == "carried_over"
    actions = client.get(f"{url}/actions", headers=headers).get_json()["items"]
    assert len(actions) == 5  # four planned, one from a decision
    # A measure with 33 weeks of three practices' points; Castle Street improves after the
    # rebase, the others do not.
    measure = client.get(f"{url}/measures", headers=headers).get_json()["items"][0]
    summary = client.get(f"{url}/measures/{measure['id']}/summary", headers=headers).get_json()
    icons = {row["practice"]["name"]: row["variation"] for row in summary["items"]}
    assert icons["Castle Street Surgery"] == "improvement_low"
    assert icons["Millbrook Medical Centre"] == "common_cause"
    assert summary["items"][0]["network"] is True
    assert [a["status"] for a in actions].count("done") == 1
    assert [a["overdue"] for a in actions].count(True) == 1
    assert len(client.get(f"{url}/updates", headers=headers).get_json()["items"]) == 3
    problems = client.get("/api/v1/problems", headers=headers).get_json()["items"]
    assert sorted(p["affected_count"] for p in problems if p["board"]["kind"] == "pcn") == [
        2,
        3,
        3,
    ]


def test_openapi_write_exports_the_document(app, tmp_path):
    target = tmp_path / "spec.json"
    result = app.test_cli_runner().invoke(main, args=["openapi", "write", str(target)])
    assert result.exit_code == 0
    assert json.loads(target.read_text())["openapi"] == "3.1.0"


def test_keys_rotate_publishes_a_new_key_beside_the_old(app, tmp_path):
    from api.auth import keys

    path = tmp_path / "keys.json"
    first = keys.rotate(path)
    second = keys.rotate(path)
    loaded = keys.load(path, generate=False)
    assert [k["kid"] for k in loaded.jwks()["keys"]] == [first, second]
    assert loaded.current.kid == second


def test_only_a_superuser_reveals_an_anonymous_author_and_the_lookup_is_audited(app, session, net):
    from sqlalchemy import select

    from network.access import load_principal
    from network.audit.models import AuditEntry
    from network.problems import services
    from network.uow import UnitOfWork

    author = net.members["practice1"]
    problem = services.create(
        UnitOfWork(lambda: session),
        load_principal(session, author),
        board_id=net.pcn1.id,
        title="A mistake",
        body="Ours",
        anonymity="practice",
    )
    runner = app.test_cli_runner()
    refused = runner.invoke(
        main,
        [
            "problems",
            "reveal-author",
            str(problem.id),
            "--superuser",
            net.admins["fed_a"].email,
            "--reason",
            "x",
        ],
    )
    assert refused.exit_code != 0 and "superuser" in refused.output
    found = runner.invoke(
        main,
        [
            "problems",
            "reveal-author",
            str(problem.id),
            "--superuser",
            "super@example.org",
            "--reason",
            "Abuse report 7",
        ],
    )
    assert found.exit_code == 0 and f"author_email: {author.email}" in found.output
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "moderation.author_revealed")
    )
    assert entry.actor_label == "super@example.org" and entry.details == {
        "reason": "Abuse report 7"
    }
    assert author.email not in str(entry.details)
