"""Tokens from an external OpenID Connect issuer: a small issuer runs on loopback with its own
keys and discovery document, as NHS CIS2 or Entra ID would."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from network.audit.models import AuditEntry
from network.signin.models import ExternalIdentity
from tests import factories

AUDIENCE = "api://commons"
CIS2_ROLES = [
    {"org_code": "A81001", "role_code": "S8000:G8000:R8000", "role_name": "Clinical Practitioner"}
]


class Issuer:
    """A minimal OpenID Connect provider: discovery, JWKS, and tokens it signs."""

    def __init__(self) -> None:
        self.keys = [self._key("first")]
        self.jwks_fetches = 0
        provider = Flask("issuer")

        @provider.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(issuer=self.url, jwks_uri=f"{self.url}/jwks")

        @provider.get("/jwks")
        def jwks():
            self.jwks_fetches += 1
            return jsonify(KeySet(self.keys).as_dict(private=False))

        self.server = make_server("127.0.0.1", 0, provider)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def _key(kid: str) -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256"}, private=True)

    def rotate(self, kid: str) -> None:
        self.keys = [self._key(kid)]

    def token(self, key: RSAKey | None = None, **claims) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        body = {"iss": self.url, "aud": AUDIENCE, "sub": "cis2-uid-1", "iat": now, "exp": now + 300}
        body |= claims
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, body, key)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def idp():
    issuer = Issuer()
    yield issuer
    issuer.stop()


@pytest.fixture
def ext_app(settings, session_factory, idp):
    configured = replace(
        settings, oidc_issuers=json.dumps([{"issuer": idp.url, "audience": AUDIENCE}])
    )
    return create_app(configured, session_factory=session_factory)


@pytest.fixture
def ext_client(ext_app):
    return ext_app.test_client()


def me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def verified(idp, email, **claims):
    return idp.token(email=email, email_verified=True, **claims)


def test_an_invited_person_signs_in_and_is_linked_with_their_roles(ext_client, idp, net, session):
    person = net.members["practice1"]
    response = me(ext_client, verified(idp, person.email.upper(), nhsid_nrbac_roles=CIS2_ROLES))
    assert response.status_code == 200 and response.get_json()["id"] == person.id
    link = session.scalar(select(ExternalIdentity).where(ExternalIdentity.person_id == person.id))
    assert (link.issuer, link.subject, link.roles) == (idp.url, "cis2-uid-1", CIS2_ROLES)
    # Later tokens match on the stored link, whatever email they carry.
    assert me(ext_client, idp.token(email="changed@nhs.net")).get_json()["id"] == person.id
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_id == person.id)
    ).all()
    assert "signin.external_linked" in actions


def test_the_roles_grant_nothing(ext_client, idp, net):
    token = verified(idp, net.members["practice1"].email, nhsid_nrbac_roles=CIS2_ROLES)
    response = ext_client.get(
        f"/api/v1/organisations/{net.practice2.id}/members",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "case",
    ["stranger", "not_verified", "no_membership"],
)
def test_someone_not_invited_is_refused_with_403_and_the_refusal_is_audited(
    ext_client, idp, net, session, case
):
    email = {"stranger": "stranger@nhs.net", "not_verified": net.members["practice1"].email}.get(
        case
    )
    if case == "no_membership":
        email = factories.person(session, email="orphan@nhs.net").email
    token = idp.token(email=email, email_verified=case != "not_verified")
    response = me(ext_client, token)
    assert response.status_code == 403
    assert "not been invited" in response.get_json()["message"]
    assert session.scalar(select(ExternalIdentity.id)) is None
    refusal = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "signin.external_refused")
    )
    assert refusal is not None and refusal.details["issuer"] == idp.url


def _refused(response):
    assert response.status_code == 401, response.get_json()
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_wrong_audience_is_401(ext_client, idp, net):
    _refused(
        me(ext_client, verified(idp, net.members["practice1"].email, aud="api://someone-else"))
    )


def test_expired_is_401(ext_client, idp, net):
    past = int(time.time()) - 3600
    _refused(me(ext_client, verified(idp, net.members["practice1"].email, iat=past, exp=past + 60)))


def test_an_issuer_not_configured_is_401(ext_client, idp, net):
    _refused(
        me(
            ext_client,
            verified(idp, net.members["practice1"].email, iss="https://elsewhere.example"),
        )
    )


def test_the_none_algorithm_is_401(ext_client, idp, net):
    import base64

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"iss": idp.url, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}
    _refused(me(ext_client, f"{b64({'alg': 'none'})}.{b64(claims)}."))


def test_a_key_the_issuer_does_not_publish_is_401(ext_client, idp, net):
    stranger = Issuer._key("not-published")
    _refused(
        me(
            ext_client,
            idp.token(key=stranger, email=net.members["practice1"].email, email_verified=True),
        )
    )


def test_a_key_rotation_at_the_provider_is_picked_up_and_refetching_is_rate_limited(
    ext_app, ext_client, idp, net
):
    email = net.members["practice1"].email
    assert me(ext_client, verified(idp, email)).status_code == 200
    assert idp.jwks_fetches == 1
    idp.rotate("second")
    # Within the minute of the last fetch an unknown key does not make us fetch again.
    _refused(me(ext_client, verified(idp, email)))
    assert idp.jwks_fetches == 1
    issuer = ext_app.extensions["commons_external_issuers"][idp.url]
    issuer._fetched_at -= 61  # a minute later
    assert me(ext_client, verified(idp, email)).status_code == 200
    assert idp.jwks_fetches == 2
    assert me(ext_client, verified(idp, email)).status_code == 200
    assert idp.jwks_fetches == 2, "known keys are served from the cache"


def test_own_tokens_still_work_beside_external_ones(ext_app, ext_client, net):
    assert me(ext_client, factories.token(ext_app, net.members["practice1"])).status_code == 200


def test_a_malformed_oidc_issuers_setting_fails_at_start(settings, session_factory):
    from api.auth.external import ConfigurationError

    with pytest.raises(ConfigurationError, match="audience"):
        create_app(
            replace(settings, oidc_issuers='[{"issuer": "https://x.example"}]'),
            session_factory=session_factory,
        )


def test_administrators_see_the_cis2_roles_on_the_member_list_and_others_do_not(
    ext_app, ext_client, idp, net
):
    person = net.members["practice1"]
    me(ext_client, verified(idp, person.email, nhsid_nrbac_roles=CIS2_ROLES))
    url = f"/api/v1/organisations/{net.practice1.id}/members"

    def identities(viewer):
        token = factories.token(ext_app, viewer)
        items = ext_client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()[
            "items"
        ]
        return {item["person"]["id"]: item["identities"] for item in items}

    seen_by_admin = identities(net.admins["practice1"])[person.id]
    assert [(i["issuer"], i["roles"]) for i in seen_by_admin] == [(idp.url, CIS2_ROLES)]
    assert identities(net.members["practice1"])[person.id] == []
