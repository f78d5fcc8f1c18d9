"""API.md "General": error bodies, limits, headers, CORS and request logs."""

import json
import logging

import pytest

from api.app import create_app


def test_unknown_routes_answer_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_a_wrong_method_is_405_json(client, net, auth):
    response = client.delete("/api/v1/me", headers=auth(net.members["practice1"]))
    assert response.status_code == 405
    assert response.get_json()["status"] == "Method Not Allowed"


def test_malformed_json_is_refused(client, net, auth):
    response = client.patch(
        "/api/v1/me",
        data="{not json",
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] == response.status_code


def test_bodies_over_one_mebibyte_are_413(client, net, auth):
    body = json.dumps({"name": "x" * (1024 * 1024)})
    response = client.patch(
        "/api/v1/me",
        data=body,
        content_type="application/json",
        headers=auth(net.members["practice1"]),
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_an_unexpected_error_is_a_500_without_a_stack_trace(
    settings, session_factory, net, monkeypatch
):
    from tests import factories

    app = create_app(settings, session_factory=session_factory)
    client = app.test_client()

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("network.people.services.memberships_of", explode)
    token = factories.token(app, net.members["practice1"])
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internals" not in text
    assert response.get_json()["code"] == 500


def test_security_headers_are_on_every_response(client):
    headers = client.get("/healthz").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_authenticated_responses_are_not_cached(client, net, auth):
    assert (
        client.get("/api/v1/me", headers=auth(net.members["practice1"])).headers["Cache-Control"]
        == "no-store"
    )


def test_a_request_id_is_echoed_or_made(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123-def"}).headers["X-Request-ID"]
        == "abc-123-def"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers[
        "X-Request-ID"
    ]
    assert len(made) == 32


@pytest.fixture
def cors_client(settings, session_factory):
    from dataclasses import replace

    app = create_app(
        replace(settings, cors_origins=("https://spa.example",)), session_factory=session_factory
    )
    return app.test_client()


def test_cors_allows_the_configured_origin_only(cors_client):
    preflight = cors_client.options(
        "/api/v1/me",
        headers={
            "Origin": "https://spa.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://spa.example"
    assert "if-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    other = cors_client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_headers_answer_only_a_request_that_names_its_origin(cors_client):
    """No Origin header, no cross-origin request: nothing names an allowed origin (flask-cors's
    `always_send` would), on a public endpoint, an API error or a preflight-shaped request."""
    for response in (
        cors_client.get("/.well-known/openid-configuration"),
        cors_client.get("/api/v1/me"),
        cors_client.options("/api/v1/me", headers={"Access-Control-Request-Method": "GET"}),
    ):
        assert not [k for k in response.headers.keys() if k.startswith("Access-Control-")]  # noqa: SIM118
        assert response.headers["Vary"] == "Origin"  # a cache keeps the two apart
    for path in ("/.well-known/openid-configuration", "/api/v1/me", "/api/v1/nowhere"):
        response = cors_client.get(path, headers={"Origin": "https://spa.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://spa.example"
        assert response.headers["Vary"] == "Origin"


def test_request_logs_are_structured_and_carry_no_token(client, net, auth, caplog):
    headers = auth(net.members["practice1"])
    token = headers["Authorization"].split()[1]
    with caplog.at_level(logging.INFO, logger="commons.request"):
        client.get("/api/v1/me", headers=headers | {"X-Request-ID": "req-12345678"})
    records = [r for r in caplog.records if r.name == "commons.request"]
    assert records, "a request must be logged"
    fields = records[-1].fields
    assert fields["request_id"] == "req-12345678"
    assert fields["route"] == "/api/v1/me" and fields["status"] == 200
    assert fields["person_id"] == net.members["practice1"].id
    assert token not in json.dumps(fields) and token not in caplog.text


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["relay_backlog"] == {"jobs": 0, "oldest_seconds": None}


def test_readyz_names_the_database_when_it_does_not_answer(settings):
    from dataclasses import replace

    from network.db import make_engine, make_session_factory

    broken = make_session_factory(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    app = create_app(replace(settings, redis_url=None), session_factory=broken)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "database" in response.get_json()["message"]


def test_readyz_reports_redis_down_without_failing(settings, session_factory):
    from dataclasses import replace

    app = create_app(
        replace(settings, redis_url="redis://127.0.0.1:1/0"), session_factory=session_factory
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["redis"] == "down" and body["workers"] is None


def test_list_requests_issue_a_constant_number_of_statements(client, net, auth, count_statements):
    headers = auth(net.admins["pcn1"])
    client.get("/api/v1/me", headers=headers)  # their principal remembered for both sizes alike
    counts = {}
    for limit in (1, 100):
        with count_statements() as counter:
            client.get(f"/api/v1/organisations?limit={limit}", headers=headers)
            client.get(
                f"/api/v1/organisations/{net.practice1.id}/members?limit={limit}", headers=headers
            )
        counts[limit] = counter.count
    assert counts[1] == counts[100]


def test_a_write_without_a_body_is_422_but_an_empty_object_is_fine(client, net, auth):
    headers = auth(net.members["practice1"])
    missing = client.patch("/api/v1/me", headers=headers)
    assert missing.status_code == 422
    assert "body" in str(missing.get_json()["errors"])
    assert client.patch("/api/v1/me", json={}, headers=headers).status_code == 200


def test_a_wrong_method_names_the_allowed_ones(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_nul_characters_are_refused_everywhere(client, net, auth):
    headers = auth(net.members["practice1"])
    assert client.patch("/api/v1/me", json={"name": "a\x00b"}, headers=headers).status_code == 422
    assert client.get("/api/v1/organisations?q=a%00b", headers=headers).status_code == 422


def test_cursors_with_huge_numbers_or_bad_times_are_422(client, net, auth):
    import base64

    def cursor(key):
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    headers = auth(net.admins["fed_a"])
    big = cursor(["A", 2**63])
    assert client.get(f"/api/v1/organisations?cursor={big}", headers=headers).status_code == 422
    bad_time = cursor(["not a date", 1])
    assert client.get(f"/api/v1/audit?cursor={bad_time}", headers=headers).status_code == 422


def test_a_long_email_without_a_name_is_invited_with_a_short_name(client, net, auth):
    email = "a" * 230 + "@example.org"
    response = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": email, "role": "member"},
        headers=auth(net.admins["practice1"]),
    )
    assert response.status_code == 201
    assert response.get_json()["person"]["name"] == "a" * 200


def test_behind_trusted_proxies_the_client_address_comes_from_x_forwarded_for(
    settings, session_factory, net
):
    from dataclasses import replace

    from network.audit.models import AuditEntry
    from tests import factories

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        app = create_app(
            replace(settings, trusted_proxies=proxies), session_factory=session_factory
        )
        token = factories.token(app, net.admins["practice1"])
        app.test_client().post(
            f"/api/v1/organisations/{net.practice1.id}/members",
            json={"email": f"via{proxies}@example.org", "role": "member"},
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.7"},
        )
        session = session_factory()
        entry = (
            session.query(AuditEntry)
            .filter(AuditEntry.details["email"].as_string() == f"via{proxies}@example.org")
            .one()
        )
        assert entry.ip == expected


def test_a_forged_forwarded_address_longer_than_an_address_is_recorded_cut_not_refused(
    settings, session_factory, net
):
    from dataclasses import replace

    from network.audit.models import AuditEntry
    from tests import factories

    app = create_app(replace(settings, trusted_proxies=1), session_factory=session_factory)
    token = factories.token(app, net.admins["practice1"])
    forged = "x" * 300
    response = app.test_client().post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "forged@example.org", "role": "member"},
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forged},
    )
    assert response.status_code == 201, response.get_json()
    entry = (
        session_factory()
        .query(AuditEntry)
        .filter(AuditEntry.details["email"].as_string() == "forged@example.org")
        .one()
    )
    assert entry.ip == forged[:64]


@pytest.mark.parametrize("sub", ["²", "١٢", "99999999999", "2147483648", "-1", " 1", ""])
def test_a_token_whose_subject_is_no_person_id_is_refused(client, app, net, sub):
    from tests import factories

    token = factories.token(app, net.members["practice1"], subject=sub)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.get_json()


def test_validation_errors_name_the_field_and_the_rule_in_the_message_too(client, net, auth):
    response = client.post(
        "/api/v1/problems",
        json={"board_id": "one", "title": "", "body": "b", "colour": "red"},
        headers=auth(net.members["pcn1"]),
    )
    body = response.get_json()
    assert response.status_code == 422
    assert body["errors"]["json"]["title"] == ["Length must be between 1 and 200."]
    for part in (
        "board_id: Not a valid integer.",
        "title: Length must be between 1 and 200.",
        "colour: Unknown field.",
    ):
        assert part in body["message"]
    listed = client.get("/api/v1/problems?limit=500", headers=auth(net.members["pcn1"]))
    assert listed.get_json()["message"].startswith("limit: Must be greater than or equal to 1")


def test_the_wsgi_module_leaves_what_it_loaded_out_of_garbage_collection(frozen_after):
    """A full collection would walk every object the app loaded (some 250,000, ~120 ms) while
    requests wait; `api.wsgi` freezes them once the app is made."""
    assert frozen_after("import api.wsgi") > 100_000


def test_the_app_leaves_the_processs_other_log_records_whole(client, caplog):
    """The app configures its own JSON lines only: a record of another logger still carries the
    process, thread and caller that formats such as gunicorn's (`[%(process)d]`) print."""
    gunicorn_format = logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(message)s")
    record = logging.getLogger("gunicorn.error").makeRecord(
        "gunicorn.error", logging.INFO, __file__, 1, "Worker exiting (pid: %s)", (1,), None
    )
    assert "] [INFO] Worker exiting (pid: 1)" in gunicorn_format.format(record)
    assert isinstance(record.process, int) and isinstance(record.thread, int)
    with caplog.at_level(logging.INFO, logger="tests.callers"):
        logging.getLogger("tests.callers").info("from here")
    (logged,) = [r for r in caplog.records if r.name == "tests.callers"]
    assert logged.funcName == "test_the_app_leaves_the_processs_other_log_records_whole"
    assert isinstance(logged.process, int) and isinstance(logged.thread, int)


def test_hsts_follows_the_clients_scheme_behind_a_trusted_proxy(settings, session_factory):
    """The headers are added inside ProxyFix: behind a TLS-terminating proxy (X-Forwarded-Proto:
    https) the answer carries Strict-Transport-Security; a forged header from a client that no
    trusted proxy stands in front of does not."""
    from dataclasses import replace

    https = {"X-Forwarded-Proto": "https"}
    behind = create_app(replace(settings, trusted_proxies=1), session_factory=session_factory)
    assert (
        "max-age="
        in behind.test_client().get("/healthz", headers=https).headers["Strict-Transport-Security"]
    )
    assert "Strict-Transport-Security" not in behind.test_client().get("/healthz").headers
    direct = create_app(replace(settings, trusted_proxies=0), session_factory=session_factory)
    forged = direct.test_client().get("/healthz", headers=https)
    assert "Strict-Transport-Security" not in forged.headers
