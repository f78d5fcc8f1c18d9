"""Every non-public route needs a valid RFC 9068 access token from this issuer."""

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from tests import factories


def _get_me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _assert_refused(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert response.get_json()["code"] == 401


def test_a_valid_token_is_accepted(client, app, net):
    assert _get_me(client, factories.token(app, net.members["practice1"])).status_code == 200


def test_no_token_is_401_with_www_authenticate(client):
    _assert_refused(client.get("/api/v1/me"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"audience": "https://elsewhere.example/api"},
        {"issuer": "https://evil.example"},
        {"now": int(time.time()) - 3600, "minutes": 15},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired"],
)
def test_tokens_with_wrong_claims_are_refused(client, app, net, overrides):
    _assert_refused(_get_me(client, factories.token(app, net.members["practice1"], **overrides)))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(app, person):
    settings = app.extensions["commons"].settings
    now = int(time.time())
    return {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": str(person.id),
        "client_id": "tests",
        "jti": "x",
        "iat": now,
        "exp": now + 600,
    }


def test_the_none_algorithm_is_refused(client, app, net):
    header = {"alg": "none", "typ": "at+jwt"}
    token = f"{_b64(header)}.{_b64(_claims(app, net.members['practice1']))}."
    _assert_refused(_get_me(client, token))


def test_an_hmac_token_keyed_with_the_public_key_is_refused(client, app, net):
    public = app.extensions["commons"].keys.jwks()["keys"][0]
    key = OctKey.import_key(json.dumps(public).encode())
    token = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt"}, _claims(app, net.members["practice1"]), key
    )
    _assert_refused(_get_me(client, token))


def test_a_token_signed_by_an_unknown_key_is_refused(client, app, net):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"}, private=True)
    token = jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": "stranger"},
        _claims(app, net.members["practice1"]),
        stranger,
    )
    _assert_refused(_get_me(client, token))


@pytest.mark.parametrize("typ", [None, "JWT"])
def test_a_token_that_is_not_an_access_token_is_refused(client, app, net, typ):
    key = app.extensions["commons"].keys.current
    header = {"alg": "RS256", "kid": key.kid}
    if typ:
        header["typ"] = typ
    token = jwt.encode(header, _claims(app, net.members["practice1"]), key)
    _assert_refused(_get_me(client, token))


def test_garbage_is_refused(client):
    _assert_refused(_get_me(client, "not-a-jwt"))


def test_a_deactivated_person_is_refused(client, app, net, session):
    person = net.members["practice1"]
    token = factories.token(app, person)
    person.is_active = False
    session.flush()
    _assert_refused(_get_me(client, token))


def test_jwks_publishes_the_key_that_verifies_tokens(client, app, net):
    token = factories.token(app, net.members["practice1"])
    jwks = client.get("/oauth/jwks.json").get_json()
    assert all("d" not in key for key in jwks["keys"]), "private material must never be published"
    from joserfc.jwk import KeySet

    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert decoded.claims["sub"] == str(net.members["practice1"].id)
    assert decoded.header["typ"] == "at+jwt"


def test_after_a_key_rotation_tokens_of_both_keys_verify(client, app, net, monkeypatch):
    from api import context
    from api.auth import keys

    monkeypatch.setattr(context, "KEY_FILE_CHECK_SECONDS", 0.0)
    state = app.extensions["commons"]
    person = net.members["practice1"]
    before = factories.token(app, person)
    old_kid = state.keys.current.kid
    new_kid = keys.rotate(state.settings.signing_key_file)
    after = factories.token(app, person)
    assert jwt.decode(after, state.keys.public).header["kid"] == new_kid != old_kid
    published = {k["kid"] for k in client.get("/oauth/jwks.json").get_json()["keys"]}
    assert published >= {old_kid, new_kid}
    for token in (before, after):
        assert _get_me(client, token).status_code == 200


def test_a_token_of_another_port_is_refused_saying_which_issuer_is_expected(client, app, net):
    settings = app.extensions["commons"].settings
    other = "http://127.0.0.1:5055"  # `commons token` run with PORT=5055
    token = factories.token(app, net.members["practice1"], issuer=other)
    response = _get_me(client, token)
    _assert_refused(response)
    message = response.get_json()["message"]
    assert f"issued by {other}" in message and f"tokens issued by {settings.issuer}" in message


def test_a_token_nested_past_any_parser_is_refused_not_500(client):
    deep = base64.urlsafe_b64encode(b'{"iss":' + b"[" * 5000 + b"]" * 5000 + b"}").decode()
    token = f"{_b64({'alg': 'RS256'})}.{deep.rstrip('=')}.sig"
    _assert_refused(_get_me(client, token))
