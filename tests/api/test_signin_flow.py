"""The SPA's sign-in, over real HTTP against a live server on loopback: authorize → sign in →
code → token (PKCE) → /api/v1/me → refresh → revoke, and every refusal on the way."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import re
import secrets
import threading
import uuid
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from api.app import create_app
from network.signin import clients as signin
from network.uow import UnitOfWork
from tests import factories

PASSWORD = "correct horse battery staple"
TIMEOUT = 10
REDIRECT = "http://127.0.0.1:5173/callback"


@contextmanager
def serving(settings, session_factory):
    """The app on a free loopback port, in a thread, for as long as the block lasts."""
    app = create_app(
        settings, session_factory=session_factory, config={"RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    )
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def live(settings, session_factory):
    with serving(settings, session_factory) as base:
        yield base


def http_get(url, **kwargs):
    return requests.get(url, timeout=TIMEOUT, **kwargs)


def http_post(url, **kwargs):
    return requests.post(url, timeout=TIMEOUT, **kwargs)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    return verifier, challenge


def authorize_params(client_id: str, challenge: str | None, redirect_uri: str = REDIRECT) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": "s-123",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params


def sign_in(live, client_id, email, password=PASSWORD, browser=None, challenge=None):
    browser = browser or requests.Session()
    params = authorize_params(client_id, challenge or pkce()[1])
    page = browser.get(f"{live}/oauth/authorize", params=params, timeout=TIMEOUT)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser.post(
        f"{live}/oauth/authorize",
        params=params,
        data={"email": email, "password": password, "csrf": csrf},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def code_from(response) -> str:
    assert response.status_code == 302, response.text[:300]
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def exchange(live, client_id, code, verifier):
    return http_post(
        f"{live}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )


def refresh(live, client_id, token):
    return http_post(
        f"{live}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id},
    )


def test_the_whole_flow_as_the_spa_does_it(live, spa, nurse):
    verifier, challenge = pkce()
    code = code_from(sign_in(live, spa, nurse.email, challenge=challenge))
    tokens = exchange(live, spa, code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] == 900
    me = http_get(f"{live}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == nurse.email

    renewed = refresh(live, spa, body["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    new = renewed.json()
    assert new["refresh_token"] != body["refresh_token"]
    me = http_get(f"{live}/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert me.status_code == 200

    revoked = http_post(
        f"{live}/oauth/revoke", data={"token": new["refresh_token"], "client_id": spa}
    )
    assert revoked.status_code == 200
    assert refresh(live, spa, new["refresh_token"]).status_code == 400


def test_a_reused_refresh_token_revokes_the_whole_family(live, spa, nurse):
    verifier, challenge = pkce()
    first = exchange(
        live, spa, code_from(sign_in(live, spa, nurse.email, challenge=challenge)), verifier
    ).json()
    second = refresh(live, spa, first["refresh_token"]).json()
    reuse = refresh(live, spa, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # The thief's replay ended the legitimate chain too.
    assert refresh(live, spa, second["refresh_token"]).status_code == 400


def test_a_wrong_verifier_is_invalid_grant(live, spa, nurse):
    _, challenge = pkce()
    code = code_from(sign_in(live, spa, nurse.email, challenge=challenge))
    response = exchange(live, spa, code, pkce()[0])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_works_once(live, spa, nurse):
    verifier, challenge = pkce()
    code = code_from(sign_in(live, spa, nurse.email, challenge=challenge))
    assert exchange(live, spa, code, verifier).status_code == 200
    again = exchange(live, spa, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_an_authorization_request_without_pkce_is_refused_at_authorize(live, spa):
    response = http_get(
        f"{live}/oauth/authorize", params=authorize_params(spa, None), allow_redirects=False
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"] and "code" not in query


def test_the_plain_pkce_method_is_refused(live, spa):
    params = authorize_params(spa, pkce()[1]) | {"code_challenge_method": "plain"}
    response = http_get(f"{live}/oauth/authorize", params=params, allow_redirects=False)
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


def test_an_unregistered_redirect_uri_is_an_error_page_never_a_redirect(live, spa):
    for uri in ("https://evil.example/callback", REDIRECT + "/extra", REDIRECT + "?x=1"):
        response = http_get(
            f"{live}/oauth/authorize",
            params=authorize_params(spa, pkce()[1], redirect_uri=uri),
            allow_redirects=False,
        )
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_unknown_client_is_an_error_page(live):
    response = http_get(
        f"{live}/oauth/authorize", params=authorize_params("nope", pkce()[1]), allow_redirects=False
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_wrong_password_signs_no_one_in_and_does_not_say_which_part_was_wrong(live, spa, nurse):
    response = sign_in(live, spa, nurse.email, password="wrong password entirely")
    assert response.status_code == 200 and "Location" not in response.headers
    unknown = sign_in(live, spa, "nobody@example.org", password="wrong password entirely")
    message = "The email address, password or code is not right."
    assert message in response.text and message in unknown.text


def test_a_post_without_the_csrf_token_is_refused(live, spa, nurse):
    params = authorize_params(spa, pkce()[1])
    response = http_post(
        f"{live}/oauth/authorize",
        params=params,
        data={"email": nurse.email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_the_eleventh_failed_password_gets_429(live, spa, nurse):
    browser = requests.Session()
    statuses = [
        sign_in(live, spa, nurse.email, "not the password!", browser).status_code for _ in range(10)
    ]
    assert statuses == [200] * 10
    eleventh = sign_in(live, spa, nurse.email, PASSWORD, browser)
    assert eleventh.status_code == 429, "even the right password waits out the window"


def test_sign_in_pages_carry_strict_headers_and_a_secure_cookie_policy(live, spa):
    page = http_get(f"{live}/oauth/authorize", params=authorize_params(spa, pkce()[1]))
    csp = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    )
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert 'name="email"' in page.text and 'name="password"' in page.text
    assert '<label for="email">' in page.text and '<label for="password">' in page.text
    assert http_get(f"{live}/static/commons.css").status_code == 200


def test_discovery_names_the_endpoints_and_only_s256(live):
    meta = http_get(f"{live}/.well-known/openid-configuration").json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint"):
        assert meta[key].startswith(meta["issuer"])


def test_client_credentials_for_a_confidential_client(live, session_factory):
    with UnitOfWork(session_factory) as uow:
        client, secret = signin.create_client(
            uow, name="Reporting", redirect_uris=["https://reports.example/cb"], confidential=True
        )
        uow.commit()
    ok = http_post(
        f"{live}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, secret),
    )
    assert ok.status_code == 200 and ok.json()["access_token"].count(".") == 2
    bad = http_post(
        f"{live}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, "wrong"),
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_a_public_client_may_not_use_client_credentials(live, spa):
    response = http_post(
        f"{live}/oauth/token", data={"grant_type": "client_credentials", "client_id": spa}
    )
    assert response.status_code in (400, 401)


def test_an_invited_person_sets_a_password_from_the_emailed_link_and_signs_in(
    settings, session_factory, spa, net, tmp_path
):
    inline = replace(settings, redis_url=None, instance_path=tmp_path / "instance")
    with serving(inline, session_factory) as live:
        admin_token = factories.token_for_settings(inline, net.admins["practice1"])
        invited = http_post(
            f"{live}/api/v1/organisations/{net.practice1.id}/members",
            json={"email": "new.starter@example.org", "name": "New Starter", "role": "member"},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert invited.status_code == 201
        [eml] = (inline.outbox_path).glob("*.eml")
        body = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_content()
        link = re.search(r"(http://\S+/account/set-password\?token=\S+)", body).group(1)
        link = live + link[link.index("/account/") :]
        browser = requests.Session()
        page = browser.get(link, timeout=TIMEOUT)
        assert page.status_code == 200 and "new.starter@example.org" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        weak = browser.post(
            link,
            data={"csrf": csrf, "password": "password1234", "password_again": "password1234"},
            timeout=TIMEOUT,
        )
        assert weak.status_code == 422 and "too easy to guess" in weak.text
        done = browser.post(
            link,
            data={"csrf": csrf, "password": PASSWORD, "password_again": PASSWORD},
            timeout=TIMEOUT,
        )
        assert done.status_code == 200 and "Your password is set" in done.text
        # It says what to do next, and where: the app's address (here, the API's own pages).
        next_step = re.search(r'<a href="([^"]+)">Open Commons</a>', done.text).group(1)
        path = urlsplit(next_step).path  # PUBLIC_URL: this test's server has another port
        assert browser.get(f"{live}{path}", timeout=TIMEOUT).status_code == 200
        assert browser.get(link, timeout=TIMEOUT).status_code == 404, "the link works once"
        verifier, challenge = pkce()
        code = code_from(sign_in(live, spa, "new.starter@example.org", challenge=challenge))
        assert exchange(live, spa, code, verifier).status_code == 200


def test_forgot_password_says_the_same_for_known_and_unknown_addresses(
    settings, session_factory, nurse, tmp_path
):
    inline = replace(settings, redis_url=None, instance_path=tmp_path / "instance")
    with serving(inline, session_factory) as live:
        answers = []
        for address in (nurse.email, "stranger@example.org"):
            browser = requests.Session()
            page = browser.get(f"{live}/account/forgot-password", timeout=TIMEOUT)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            answer = browser.post(
                f"{live}/account/forgot-password",
                data={"csrf": csrf, "email": address},
                timeout=TIMEOUT,
            )
            answers.append((answer.status_code, answer.text))
        assert answers[0] == answers[1]
        [eml] = inline.outbox_path.glob("*.eml")
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["To"] == nurse.email
        assert "/account/set-password?token=" in message.get_content()


def test_the_live_api_refuses_none_algorithm_and_expired_tokens(live, nurse, settings):
    import json as _json
    import time

    def b64(data):
        return base64.urlsafe_b64encode(_json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": settings.issuer, "aud": settings.audience, "sub": str(nurse.id),
        "client_id": "x", "jti": "j", "iat": now, "exp": now + 300,
    }  # fmt: skip
    forged = f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{b64(claims)}."
    expired = factories.token_for_settings(settings, nurse, now=now - 3600, minutes=15)
    for token in (forged, expired):
        response = http_get(f"{live}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
