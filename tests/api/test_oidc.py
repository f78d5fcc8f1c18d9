"""OpenID Connect against a live server, as a standard client does it: discovery → authorize
(PKCE, nonce, state, the sign-in form) → token → the ID token checked against the published
keys → UserInfo; refreshed ID tokens, a replayed code revoking what it gave, what discovery
promises, and CORS for the demo app in the embedded default."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from network.audit.models import AuditEntry
from network.people.passwords import hash_password
from network.seed import demo as seed
from network.signin import authorization_codes, passwords
from network.signin import clients as signin
from network.signin.models import (
    AccountLinkPurpose,
    AuthorizationCode,
    RefreshToken,
    digest,
)
from network.uow import UnitOfWork
from tests import factories
from tests.api.test_signin_flow import PASSWORD, REDIRECT, TIMEOUT, http_get, http_post, pkce

ROOT = Path(__file__).resolve().parents[2]
DEMO_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")


@contextmanager
def serving_as_issuer(settings, session_factory):
    """The app on a free loopback port, as `serving` does, with that server's URL as its
    API_URL: the discovery document's URLs and the tokens' issuer are the live server's."""
    server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=False)
    base = f"http://127.0.0.1:{server.server_port}"
    served = replace(settings, api_url=base)
    server.app = create_app(
        served, session_factory=session_factory, config={"RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, served
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def served(settings, session_factory):
    with serving_as_issuer(settings, session_factory) as pair:
        yield pair


@pytest.fixture
def live(served) -> str:
    return served[0]


@pytest.fixture
def live_settings(served):
    return served[1]


# --- a standard client, step by step --------------------------------------------------------


class Client:
    """What an OpenID Connect client library does (oidc-client-ts, authlib's client), by hand."""

    def __init__(self, live: str, client_id: str, redirect_uri: str = REDIRECT) -> None:
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.meta = http_get(f"{live}/.well-known/openid-configuration").json()
        self.jwks = KeySet.import_key_set(http_get(self.meta["jwks_uri"]).json())
        self.browser = requests.Session()

    def authorize(self, email: str, password: str = PASSWORD, scope="openid profile email"):
        """Sign in through the form; returns (code, verifier, nonce)."""
        verifier, challenge = pkce()
        nonce, state = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = self.meta["authorization_endpoint"]
        page = self.browser.get(endpoint, params=params, timeout=TIMEOUT)
        assert page.status_code == 200, page.text[:300]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = self.browser.post(
            endpoint,
            params=params,
            data={"email": email, "password": password, "csrf": csrf},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert done.status_code == 302, done.text[:300]
        location = urlsplit(done.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.redirect_uri
        query = parse_qs(location.query)
        assert query["state"] == [state]
        return query["code"][0], verifier, nonce

    def exchange(self, code: str, verifier: str):
        return http_post(
            self.meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "client_id": self.client_id,
                "code_verifier": verifier,
            },
        )

    def refresh(self, refresh_token: str):
        return http_post(
            self.meta["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
            },
        )

    def verify_id_token(self, id_token: str, access_token: str, nonce: str | None) -> dict:
        """Signature against the published keys, then the claims as OpenID Connect Core 3.1.3.7
        has a client check them (authlib's CodeIDToken: iss, aud, exp, iat, nonce, at_hash)."""
        decoded = jwt.decode(
            id_token, self.jwks, algorithms=self.meta["id_token_signing_alg_values_supported"]
        )
        assert decoded.header["alg"] == "RS256"
        assert decoded.header["kid"] in {key.kid for key in self.jwks.keys}
        params = {"access_token": access_token} | ({"nonce": nonce} if nonce else {})
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": self.meta["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
            },
            params=params,
        )
        claims.validate()
        return dict(decoded.claims)


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def test_a_standard_client_signs_in_and_verifies_the_id_token(live, spa, nurse):
    client = Client(live, spa)
    before = int(time.time())
    code, verifier, nonce = client.authorize(nurse.email)
    response = client.exchange(code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= tokens.keys()

    claims = client.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)
    assert claims["iss"] == client.meta["issuer"] == live
    assert claims["aud"] == spa
    assert claims["sub"] == str(nurse.id)
    assert claims["nonce"] == nonce
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert before - 1 <= claims["auth_time"] <= claims["iat"] <= int(time.time()) + 1
    assert claims["exp"] == claims["iat"] + 900
    # The granted profile and email scopes' claims, as UserInfo answers them.
    assert claims["name"] == "Nia Nurse" and claims["email"] == nurse.email
    assert claims["email_verified"] is False  # a password set by hand proves no address

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = http_get(client.meta["userinfo_endpoint"], headers=bearer)
    assert info.status_code == 200, info.text
    assert info.headers["Content-Type"].startswith("application/json")
    assert info.json() == {
        "sub": str(nurse.id),
        "name": "Nia Nurse",
        "email": nurse.email,
        "email_verified": False,
    }
    assert http_post(client.meta["userinfo_endpoint"], headers=bearer).json() == info.json()

    # The API takes the access token; the ID token is no access token.
    me = http_get(f"{live}/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json()["id"] == nurse.id
    as_access = http_get(
        f"{live}/api/v1/me", headers={"Authorization": f"Bearer {tokens['id_token']}"}
    )
    assert as_access.status_code == 401


def test_userinfo_releases_only_the_granted_scopes_claims(live, spa, nurse):
    client = Client(live, spa)
    code, verifier, nonce = client.authorize(nurse.email, scope="openid")
    tokens = client.exchange(code, verifier).json()
    claims = client.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)
    assert not {"email", "email_verified", "name"} & claims.keys()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert http_get(client.meta["userinfo_endpoint"], headers=bearer).json() == {
        "sub": str(nurse.id)
    }

    code, verifier, _ = client.authorize(nurse.email, scope="openid email")
    tokens = client.exchange(code, verifier).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = http_get(client.meta["userinfo_endpoint"], headers=bearer).json()
    assert info == {"sub": str(nurse.id), "email": nurse.email, "email_verified": False}


def test_without_openid_there_is_no_id_token_and_no_userinfo(live, spa, nurse):
    client = Client(live, spa)
    code, verifier, _ = client.authorize(nurse.email, scope="profile email")
    tokens = client.exchange(code, verifier).json()
    assert "id_token" not in tokens
    info = http_get(
        client.meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info.status_code == 403
    assert 'error="insufficient_scope"' in info.headers["WWW-Authenticate"]


def test_an_address_proven_by_an_emailed_link_is_verified(live, spa, nurse, session):
    token = passwords.issue_link(UnitOfWork(lambda: session), nurse, AccountLinkPurpose.invitation)
    passwords.redeem_link(UnitOfWork(lambda: session), token, "a new and unguessable passphrase")
    session.flush()
    client = Client(live, spa)
    code, verifier, nonce = client.authorize(nurse.email, "a new and unguessable passphrase")
    tokens = client.exchange(code, verifier).json()
    assert client.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)[
        "email_verified"
    ]


def test_a_refreshed_response_carries_a_new_id_token_of_the_same_sign_in(live, spa, nurse):
    client = Client(live, spa)
    code, verifier, nonce = client.authorize(nurse.email)
    first = client.exchange(code, verifier).json()
    original = client.verify_id_token(first["id_token"], first["access_token"], nonce)
    time.sleep(1.1)  # a later iat
    renewed = client.refresh(first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    claims = client.verify_id_token(second["id_token"], second["access_token"], None)
    for same in ("iss", "sub", "aud", "auth_time", "email", "name"):
        assert claims[same] == original[same], same
    assert "nonce" not in claims  # OpenID Connect Core 12.2: SHOULD NOT
    assert claims["iat"] > original["iat"]
    assert claims["at_hash"] == at_hash(second["access_token"])
    # Rotation is as before: the old refresh token used again ends the sign-in.
    assert client.refresh(first["refresh_token"]).status_code == 400
    assert client.refresh(second["refresh_token"]).status_code == 400


# --- a code used twice ----------------------------------------------------------------------


def test_a_replayed_code_is_refused_and_revokes_the_tokens_issued_from_it(
    live, spa, nurse, session
):
    client = Client(live, spa)
    code, verifier, _ = client.authorize(nurse.email)
    tokens = client.exchange(code, verifier).json()

    replay = client.exchange(code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    refused = client.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

    session.expire_all()
    row = session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
    )
    assert row.used_at is not None, "a used code is remembered, not deleted"
    family = session.scalars(select(RefreshToken).where(RefreshToken.family_id == row.family_id))
    assert [token.revoked_at is not None for token in family] == [True]
    [entry] = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "token.reuse_detected",
            AuditEntry.subject_type == "authorization_code",
            AuditEntry.subject_id == row.id,
        )
    )
    assert entry.actor_id == nurse.id and entry.details["family"] == row.family_id


def test_a_replay_after_a_refresh_ends_the_whole_chain(live, spa, nurse):
    client = Client(live, spa)
    code, verifier, _ = client.authorize(nurse.email)
    first = client.exchange(code, verifier).json()
    second = client.refresh(first["refresh_token"]).json()
    assert client.exchange(code, verifier).status_code == 400
    assert client.refresh(second["refresh_token"]).status_code == 400


def test_a_replay_by_another_client_is_refused_too(live, spa, nurse, session_factory):
    with UnitOfWork(session_factory) as uow:
        other, _ = signin.create_client(
            uow, name="Other", redirect_uris=[REDIRECT], confidential=False
        )
        uow.commit()
    client = Client(live, spa)
    code, verifier, _ = client.authorize(nurse.email)
    tokens = client.exchange(code, verifier).json()
    stolen = Client(live, other.client_id).exchange(code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert client.refresh(tokens["refresh_token"]).status_code == 400


def test_expired_codes_are_purged_when_a_new_one_is_saved(session, spa, nurse):
    uow = UnitOfWork(lambda: session)

    def save(code: str) -> None:
        authorization_codes.save_authorization_code(
            uow,
            code=code,
            client_id=spa,
            person_id=nurse.id,
            redirect_uri=REDIRECT,
            scope="openid",
            code_challenge="x" * 43,
            code_challenge_method="S256",
            nonce=None,
        )

    save("old")
    save("recent")
    old = session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == digest("old"))
    )
    old.expires_at -= authorization_codes.CODE_MEMORY + authorization_codes.CODE_MEMORY / 24
    assert authorization_codes.claim_authorization_code(uow, "recent", spa) is not None
    session.flush()
    save("new")
    left = set(session.scalars(select(AuthorizationCode.code_hash)))
    assert digest("old") not in left
    assert {digest("recent"), digest("new")} <= left


# --- refusals ---------------------------------------------------------------------------------


def test_userinfo_without_a_valid_token_is_401_with_a_bearer_challenge(live, nurse, live_settings):
    url = f"{live}/oauth/userinfo"
    missing = http_get(url)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"] == "invalid_token"
    for header in ("Bearer not-a-token", "Basic dXNlcjpwYXNz"):
        bad = http_get(url, headers={"Authorization": header})
        assert bad.status_code == 401, header
        assert bad.headers["WWW-Authenticate"].startswith("Bearer"), header
    expired = factories.token_for_settings(
        live_settings, nurse, scope="openid", now=int(time.time()) - 3600
    )
    response = http_post(url, headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_userinfo_refuses_a_token_of_no_active_person(live, spa, nurse, live_settings, session):
    machine = factories.token_for_settings(
        live_settings, nurse, subject="client:reporting", scope="openid", client_id=spa
    )
    refused = http_get(f"{live}/oauth/userinfo", headers={"Authorization": f"Bearer {machine}"})
    assert refused.status_code == 401
    token = factories.token_for_settings(live_settings, nurse, scope="openid", client_id=spa)
    assert http_get(f"{live}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).ok
    nurse.is_active = False
    session.flush()
    refused = http_get(f"{live}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_a_double_submitted_sign_in_form_still_signs_in(live, spa, nurse):
    """Both submissions make a code; the browser follows the last, and the nonce, passed
    through unmodified, is in its ID token (the server does not refuse a nonce seen before)."""
    client = Client(live, spa)
    verifier, challenge = pkce()
    nonce = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": spa,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    endpoint = client.meta["authorization_endpoint"]
    page = client.browser.get(endpoint, params=params, timeout=TIMEOUT)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"email": nurse.email, "password": PASSWORD, "csrf": csrf}
    submissions = [
        requests.post(
            endpoint,
            params=params,
            data=form,
            cookies=client.browser.cookies,
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        for _ in range(2)
    ]
    assert [s.status_code for s in submissions] == [302, 302]
    code = parse_qs(urlsplit(submissions[-1].headers["Location"]).query)["code"][0]
    tokens = client.exchange(code, verifier).json()
    claims = client.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)
    assert claims["nonce"] == nonce


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"response_mode": "form_post"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
)
def test_what_is_not_supported_is_refused_by_redirect(live, spa, extra, error):
    params = {
        "response_type": "code",
        "client_id": spa,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    } | extra
    response = http_get(f"{live}/oauth/authorize", params=params, allow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert not location.fragment
    query = parse_qs(location.query)
    assert query["error"] == [error] and "code" not in query


def test_login_hint_fills_in_the_address(live, spa):
    params = {
        "response_type": "code",
        "client_id": spa,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        "login_hint": 'nia@example.org"><script>',
    }
    page = http_get(f"{live}/oauth/authorize", params=params)
    assert 'value="nia@example.org&#34;&gt;&lt;script&gt;"' in page.text


# --- discovery --------------------------------------------------------------------------------


def test_discovery_lists_exactly_what_is_supported(live):
    meta = http_get(f"{live}/.well-known/openid-configuration").json()
    assert meta == {
        "issuer": live,
        "authorization_endpoint": f"{live}/oauth/authorize",
        "token_endpoint": f"{live}/oauth/token",
        "userinfo_endpoint": f"{live}/oauth/userinfo",
        "jwks_uri": f"{live}/oauth/jwks.json",
        "revocation_endpoint": f"{live}/oauth/revoke",
        "scopes_supported": ["openid", "profile", "email"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "name",
            "email",
            "email_verified",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "access_token_format": "RFC 9068 JWT (typ at+jwt), 15 minutes",
    }
    # Every endpoint it names answers (a 404 would be a promise not kept).
    assert http_get(meta["authorization_endpoint"]).status_code == 400  # no parameters
    assert http_post(meta["token_endpoint"]).status_code == 400
    assert http_get(meta["userinfo_endpoint"]).status_code == 401
    assert http_post(meta["revocation_endpoint"]).status_code in (400, 401)
    assert http_get(meta["jwks_uri"]).json()["keys"]


def test_the_authlib_metadata_model_accepts_the_document(live):
    from authlib.oidc.discovery import OpenIDProviderMetadata

    meta = OpenIDProviderMetadata(http_get(f"{live}/.well-known/openid-configuration").json())
    meta.validate()


# --- the demo app, with no configuration -----------------------------------------------------


def _preflight(client, path: str, origin: str, method: str = "POST", headers: str = ""):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_the_embedded_default_lets_the_demo_app_origins_call(app, client):
    settings = app.extensions["commons"].settings
    assert not settings.cors_origins and settings.secret_key is None  # the embedded default
    for origin in DEMO_ORIGINS:
        token = _preflight(client, "/oauth/token", origin, headers="Content-Type")
        assert token.status_code == 200
        assert token.headers["Access-Control-Allow-Origin"] == origin
        userinfo = _preflight(client, "/oauth/userinfo", origin, "GET", "Authorization")
        assert userinfo.headers["Access-Control-Allow-Origin"] == origin
        assert "authorization" in userinfo.headers["Access-Control-Allow-Headers"].lower()
        api = _preflight(client, "/api/v1/me", origin, "PATCH", "Authorization, If-Match")
        assert api.headers["Access-Control-Allow-Origin"] == origin
        meta = client.get("/.well-known/openid-configuration", headers={"Origin": origin})
        assert meta.headers["Access-Control-Allow-Origin"] == origin
        jwks = client.get("/oauth/jwks.json", headers={"Origin": origin})
        assert jwks.headers["Access-Control-Allow-Origin"] == origin
    other = _preflight(client, "/oauth/token", "http://localhost:3000")
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(
    "production",
    [
        {"secret_key": "s" * 48},
        {"generate_signing_key": False},
        {"cors_origins": ("https://app.example",)},
    ],
)
def test_a_configured_deployment_allows_only_what_it_says(settings, session_factory, production):
    app = create_app(replace(settings, **production), session_factory=session_factory)
    client = app.test_client()
    for origin in DEMO_ORIGINS:
        response = _preflight(client, "/oauth/token", origin)
        assert "Access-Control-Allow-Origin" not in response.headers
    configured = _preflight(client, "/oauth/token", "https://app.example")
    allowed = configured.headers.get("Access-Control-Allow-Origin")
    assert allowed == ("https://app.example" if "cors_origins" in production else None)


def test_a_demo_person_signs_in_to_the_demo_app_with_the_demo_password(live, session_factory):
    with UnitOfWork(session_factory) as uow:
        seed.seed_demo(uow)
        uow.commit()
    client = Client(live, seed.DEMO_CLIENT_ID, redirect_uri=seed.DEMO_REDIRECT_URIS[0])
    code, verifier, nonce = client.authorize("amira.patel@demo.example", seed.DEMO_PASSWORD)
    tokens = client.exchange(code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    claims = client.verify_id_token(body["id_token"], body["access_token"], nonce)
    assert claims["email"] == "amira.patel@demo.example" and claims["name"] == "Dr Amira Patel"


def test_a_demo_network_seeded_before_demo_passwords_gets_them(session, session_factory):
    with UnitOfWork(session_factory) as uow:
        seed.seed_demo(uow)
        uow.commit()
    from network.people.models import Person

    people = session.scalars(select(Person).where(Person.email.like("%@demo.example"))).all()
    chosen = people[0]
    for person in people:
        person.password_hash = None
    chosen.password_hash = hash_password(PASSWORD)  # someone chose their own: it stays
    session.flush()
    with UnitOfWork(session_factory) as uow:
        assert seed.seed_demo(uow).created is False
        uow.commit()
    session.expire_all()
    with UnitOfWork(lambda: session) as uow:
        assert passwords.authenticate(uow, people[1].email, seed.DEMO_PASSWORD).id == people[1].id
        assert passwords.authenticate(uow, chosen.email, PASSWORD).id == chosen.id


def test_the_demo_password_is_printed_by_make_run_and_documented():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile[makefile.index("\nrun:") : makefile.index("\ntest:")]
    assert seed.DEMO_PASSWORD in run and seed.DEMO_CLIENT_ID in run
    readme = (ROOT / "README.md").read_text()
    signing_in = readme[readme.index("## Signing in") :]
    assert seed.DEMO_PASSWORD in signing_in[: signing_in.index("\n## ", 5)]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_a_nul_in_an_oauth_parameter_is_an_invalid_request(client, path):
    # Found by schemathesis: a client_id with NUL reached PostgreSQL (which refuses it) and
    # came back as an undocumented 422.
    response = client.post(path, data={"token": "x", "client_id": "a\x00b", "grant_type": "x"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
