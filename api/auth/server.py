"""The built-in OAuth 2 authorization server and OpenID Connect provider (authlib):
authorization code with PKCE (S256 only) and ID tokens, rotating refresh tokens whose reuse
revokes the family, a code whose replay revokes the tokens issued from it, client credentials,
revocation and the UserInfo endpoint."""

from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    MissingAuthorizationError,
    UnsupportedTokenTypeError,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from flask import Flask, g, request
from joserfc.jwk import RSAKey

from api.auth.keys import ALGORITHM
from api.auth.protect import Protector
from api.auth.tokens import ACCESS_TOKEN_MINUTES, mint_access_token
from api.context import commons, uow
from network.people.models import Person
from network.signin import authorization_codes, passwords, refresh_tokens
from network.signin import clients as signin
from network.signin.models import AuthorizationCode, OAuthClient, RefreshToken

SCOPES = ("openid", "profile", "email")
PUBLIC_AUTH = "none"
SECRET_AUTH = ("client_secret_basic", "client_secret_post")
# The one response mode: the code comes back in the redirect URI's query.
RESPONSE_MODES = ("query",)
# What an ID token and the UserInfo response may hold (the discovery document lists these).
CLAIMS = (
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
)
ID_TOKEN_SECONDS = ACCESS_TOKEN_MINUTES * 60


class Client(ClientMixin):
    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.row.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        # Exact match only: no prefixes, no wildcards.
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret):
        return signin.client_secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.row.is_public:
            return method == PUBLIC_AUTH
        return method in SECRET_AUTH

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.row.grant_types

    @property
    def client_metadata(self):
        # No client registers signed UserInfo responses or other ID token algorithms.
        return {}


class Code:
    """authlib's view of a stored authorization code."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return int(self.row.auth_time.timestamp())

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class Refresh:
    """authlib's view of a stored refresh token."""

    def __init__(self, row: RefreshToken) -> None:
        self.row = row

    def check_client(self, client):
        return self.row.client_id == client.get_client_id()

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return 0

    def is_revoked(self):
        return self.row.revoked_at is not None

    def is_expired(self):
        return False


class S256Only(CodeChallenge):
    """PKCE is required of every authorization request, and only with S256; refused at the
    authorize step itself, not only when the code is exchanged."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)
        # Said here, with the other checks of the request's parameters: a client that asked
        # for the code in a fragment or a form post must not receive it in the query.
        if payload.get("response_mode", "query") not in RESPONSE_MODES:
            raise InvalidRequestError("'response_mode' must be query (or left out).")


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        authorization_codes.save_authorization_code(
            uow(),
            code=code,
            client_id=request.client.get_client_id(),
            person_id=request.user.id,
            redirect_uri=payload.get("redirect_uri") or request.client.get_default_redirect_uri(),
            scope=request.scope or "",
            code_challenge=payload["code_challenge"],
            code_challenge_method=payload["code_challenge_method"],
            nonce=payload.get("nonce"),
        )

    def query_authorization_code(self, code, client):
        # Marked used as it is read (one exchange each); a used code presented again revokes
        # the tokens issued from it, which the token endpoint commits although it refuses.
        row = authorization_codes.claim_authorization_code(uow(), code, client.get_client_id())
        return Code(row) if row else None

    def delete_authorization_code(self, authorization_code):
        """Nothing left to do: the code was marked used when it was read, and is remembered
        (for replays) until it is purged."""

    def authenticate_user(self, authorization_code):
        person = uow().session.get(Person, authorization_code.row.person_id)
        return person if person is not None and person.is_active else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        client_id = self.request.client.get_client_id()
        row = refresh_tokens.usable_refresh_token(uow(), refresh_token, client_id)
        return Refresh(row) if row else None

    def authenticate_user(self, refresh_token):
        return uow().session.get(Person, refresh_token.row.person_id)

    def revoke_old_credential(self, refresh_token):
        if not refresh_tokens.rotate(uow(), refresh_token.row):
            # Exchanged by a simultaneous request: a reuse. The family, the token just made
            # included, is revoked, and the endpoint commits that.
            raise InvalidGrantError("The refresh token has already been used.")


def _signing_key() -> RSAKey:
    """The issuer's current key, the same one for everything a request signs (the key file
    may be re-read, after a rotation, between two reads)."""
    if "commons_signing_key" not in g:
        g.commons_signing_key = commons().keys.current
    return g.commons_signing_key


def user_info(person: Person, scope: str) -> UserInfo:
    """The person's claims that the granted scopes release (OpenID Connect Core 5.4): `sub`
    with openid, `name` with profile, `email` and `email_verified` with email."""
    granted = set(scope.split())
    claims = UserInfo(sub=str(person.id))
    if "profile" in granted:
        claims["name"] = person.name
    if "email" in granted:
        claims["email"] = person.email
        claims["email_verified"] = passwords.email_verified(uow(), person)
    return claims.filter(scope)


class IDTokens(OpenIDToken):
    """The ID token of a token response: RS256 with the issuer's current key (kid in the
    header), for the client (aud), as long-lived as the access token it comes with.

    Besides the registered claims it carries the person's claims of the granted scopes, which
    the UserInfo endpoint also answers: OpenID Connect allows both, and a client that does
    not call UserInfo (oidc-client-ts by default) still has the name and address."""

    DEFAULT_EXPIRES_IN = ID_TOKEN_SECONDS

    def resolve_client_private_key(self, client):
        return _signing_key()

    def get_client_algorithm(self, client):
        return ALGORITHM

    def get_encode_header(self, client):
        return {"alg": ALGORITHM, "typ": "JWT", "kid": _signing_key().kid}

    def get_client_claims(self, client):
        return {"iss": commons().settings.issuer, "aud": client.get_client_id()}

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


class OpenIDCodeFlow(IDTokens, OpenIDCode):
    """authlib's OpenID Connect extension of the code grant: an `id_token` in the token
    response when `openid` was granted, with the authentication request's `nonce` (stored
    with the code), `auth_time` (the sign-in) and `at_hash`; `prompt=none` is answered
    login_required (there is no session to sign in silently with)."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce, request):
        """Never refused as seen before. The nonce is the client's check, passed through
        unmodified (OpenID Connect Core 2: servers SHOULD perform no other processing on it);
        refusing a repeated one would turn a double-submitted sign-in form into an error."""
        return False


class RefreshedIDTokens(IDTokens):
    """A refreshed token response carries a new ID token too (OpenID Connect Core 12.2): the
    same iss, sub and aud, the original sign-in's auth_time, a new iat and at_hash, and no
    nonce."""

    def get_compatible_claims(self, request):
        claims = super().get_compatible_claims(request)
        auth_time = request.refresh_token.row.auth_time
        if auth_time is None:
            claims.pop("auth_time", None)  # issued before sign-in times were recorded
        else:
            claims["auth_time"] = int(auth_time.timestamp())
        return claims


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(SECRET_AUTH)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]

    def query_token(self, token_string, token_type_hint):
        if token_type_hint == "access_token":  # noqa: S105 - a hint name, not a secret
            return None  # JWTs cannot be recalled; they expire within 15 minutes
        row = refresh_tokens.find_refresh_token(uow(), token_string)
        return Refresh(row) if row else None

    def revoke_token(self, token, request):
        # Revoking one refresh token ends the whole sign-in it belongs to.
        refresh_tokens.revoke(uow(), token.row)


class Bearer:
    """An access token as authlib's UserInfo endpoint reads it: its scope, person and client."""

    def __init__(self, claims, person: Person, client: Client) -> None:
        self.scope = claims.get("scope") or ""
        self._person = person
        self._client = client

    def get_user(self):
        return self._person

    def get_client(self):
        return self._client


class _Headers:
    __slots__ = ("headers",)

    def __init__(self, headers) -> None:
        self.headers = headers


class Unauthenticated(OAuth2Error):
    """No access token at all: RFC 6750 3.1 asks for the challenge without an error code."""

    error = "invalid_token"
    description = "A bearer access token is required."
    status_code = 401

    def get_headers(self):
        return [*super().get_headers(), ("WWW-Authenticate", "Bearer")]


class OpenIDScopeMissing(InsufficientScopeError):
    def get_headers(self):
        challenge = 'Bearer error="insufficient_scope", scope="openid"'
        return [*super().get_headers(), ("WWW-Authenticate", challenge)]


class UserInfoTokens:
    """What authlib's UserInfo endpoint acquires its token from: a valid access token of this
    issuer (the API's own validator), granted `openid`, whose subject is an active person and
    whose client is still registered."""

    def __init__(self, protector: Protector) -> None:
        self.protector = protector

    def acquire_token(self, scopes):
        try:
            claims = self.protector.validate_request(
                scopes=[scopes] if isinstance(scopes, str) else scopes,
                request=_Headers(request.headers),
            )
        except (MissingAuthorizationError, UnsupportedTokenTypeError):
            raise Unauthenticated() from None
        except InsufficientScopeError:
            raise OpenIDScopeMissing() from None
        sub = claims.get("sub")
        person = None
        if isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 10:
            person = uow().session.get(Person, int(sub))
        client = _query_client(str(claims.get("client_id", "")))
        if person is None or not person.is_active or client is None:
            raise InvalidTokenError("The token's subject is not an active person.")
        return Bearer(claims, person, client)


class UserInfoAnswers(UserInfoEndpoint):
    def get_issuer(self):
        return commons().settings.issuer

    def generate_user_info(self, user, scope):
        return user_info(user, scope)

    def resolve_private_key(self):
        return _signing_key()


def _access_token(client, grant_type, user, scope):
    settings = commons().settings
    return mint_access_token(
        commons().keys,
        issuer=settings.issuer,
        audience=settings.audience,
        subject=str(user.id) if user is not None else f"client:{client.get_client_id()}",
        client_id=client.get_client_id(),
        scope=scope or "",
    )


def _refresh_token(client, grant_type, user, scope):
    return secrets.token_urlsafe(32)


def _query_client(client_id):
    row = signin.find_client(uow(), client_id)
    return Client(row) if row else None


def _save_token(token, request):
    refresh = token.get("refresh_token")
    if not refresh or request.user is None:
        return
    # The family was named when the code was claimed (a replay of the code revokes it), and
    # is carried along by each rotation, with the time the person signed in.
    previous = getattr(request, "refresh_token", None)
    code = getattr(request, "authorization_code", None)
    if isinstance(previous, Refresh):
        family_id, auth_time = previous.row.family_id, previous.row.auth_time
    elif isinstance(code, Code):
        family_id, auth_time = code.row.family_id, code.row.auth_time
    else:
        family_id, auth_time = None, None
    refresh_tokens.save_refresh_token(
        uow(),
        token=refresh,
        client_id=request.client.get_client_id(),
        person_id=request.user.id,
        scope=token.get("scope") or "",
        family_id=family_id,
        auth_time=auth_time,
    )


def make_server(app: Flask) -> AuthorizationServer:
    """The server, on the app's access-token protector (for UserInfo)."""
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=_access_token,
            refresh_token_generator=_refresh_token,
            expires_generator=lambda client, grant_type: ACCESS_TOKEN_MINUTES * 60,
        ),
    )
    server.register_grant(CodeGrant, [S256Only(required=True), OpenIDCodeFlow()])
    server.register_grant(RefreshGrant, [RefreshedIDTokens()])
    server.register_grant(ClientCredentials)
    server.register_endpoint(Revocation)
    server.register_endpoint(
        UserInfoAnswers(resource_protector=UserInfoTokens(app.extensions["commons_protector"]))
    )
    return server
