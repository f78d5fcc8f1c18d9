"""The built-in OAuth 2 authorization server (authlib): authorization code with PKCE (S256
only), rotating refresh tokens whose reuse revokes the family, client credentials, revocation."""

from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask

from api.auth.tokens import ACCESS_TOKEN_MINUTES, mint_access_token
from api.context import commons, uow
from network.people.models import Person
from network.signin import services as signin
from network.signin.models import AuthorizationCode, OAuthClient, RefreshToken

SCOPES = ("openid", "profile", "email")
PUBLIC_AUTH = "none"
SECRET_AUTH = ("client_secret_basic", "client_secret_post")


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


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        signin.save_authorization_code(
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
        row = signin.claim_authorization_code(uow(), code, client.get_client_id())
        return Code(row) if row else None

    def delete_authorization_code(self, authorization_code):
        """Nothing left to do: the code was taken out when it was read (one exchange each)."""

    def authenticate_user(self, authorization_code):
        person = uow().session.get(Person, authorization_code.row.person_id)
        return person if person is not None and person.is_active else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        client_id = self.request.client.get_client_id()
        row = signin.usable_refresh_token(uow(), refresh_token, client_id)
        return Refresh(row) if row else None

    def authenticate_user(self, refresh_token):
        return uow().session.get(Person, refresh_token.row.person_id)

    def revoke_old_credential(self, refresh_token):
        if not signin.rotate(uow(), refresh_token.row):
            # Exchanged by a simultaneous request: a reuse. The family, the token just made
            # included, is revoked, and the endpoint commits that.
            raise InvalidGrantError("The refresh token has already been used.")


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(SECRET_AUTH)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [PUBLIC_AUTH, *SECRET_AUTH]

    def query_token(self, token_string, token_type_hint):
        if token_type_hint == "access_token":  # noqa: S105 - a hint name, not a secret
            return None  # JWTs cannot be recalled; they expire within 15 minutes
        row = signin.find_refresh_token(uow(), token_string)
        return Refresh(row) if row else None

    def revoke_token(self, token, request):
        # Revoking one refresh token ends the whole sign-in it belongs to.
        signin.revoke(uow(), token.row)


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
    previous = getattr(request, "refresh_token", None)
    signin.save_refresh_token(
        uow(),
        token=refresh,
        client_id=request.client.get_client_id(),
        person_id=request.user.id,
        scope=token.get("scope") or "",
        family_id=previous.row.family_id if isinstance(previous, Refresh) else None,
    )


def make_server(app: Flask) -> AuthorizationServer:
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
    server.register_grant(CodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentials)
    server.register_endpoint(Revocation)
    return server
