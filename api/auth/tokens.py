"""RFC 9068 access tokens: minting for the built-in issuer and validation for the API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from authlib.oauth2.rfc6750.errors import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jws, jwt
from joserfc.errors import JoseError

from api.auth.keys import ALGORITHM, SigningKeys

ACCESS_TOKEN_MINUTES = 15
TOKEN_TYPES = ("at+jwt", "application/at+jwt")


def mint_access_token(
    keys: SigningKeys,
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    scope: str = "",
    minutes: int = ACCESS_TOKEN_MINUTES,
    now: int | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    key = keys.current
    header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + minutes * 60,
    }
    if scope:
        claims["scope"] = scope
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


# Tokens whose signature has been checked, per process (a client sends the same token for up to
# ACCESS_TOKEN_MINUTES): bounded, and emptied whenever the signing keys change.
VERIFIED_TOKENS_MAX = 4096


class AccessTokenValidator(JWTBearerTokenValidator):
    """authlib's RFC 9068 validator, stricter: one algorithm, and `typ` must be present.

    A token's signature is checked once per process and remembered with its claims (keyed by
    the whole token, so a changed byte is a new token); its claims (expiry, issuer, audience)
    are validated again on every use, and who the subject is and may see is loaded afresh by
    every request. A change of signing keys (rotation, removal) forgets every checked token."""

    def __init__(self, keys: Callable[[], SigningKeys], *, issuer: str, audience: str) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self._keys = keys
        self._verified: dict[str, JWTAccessTokenClaims] = {}
        self._verified_with: SigningKeys | None = None

    def get_jwks(self):
        return self._keys().public

    def authenticate_token(self, token_string):
        keys = self._keys()
        if keys is not self._verified_with:
            self._verified = {}
            self._verified_with = keys
        claims = self._verified.get(token_string)
        if claims is not None:
            return claims
        try:
            header = jws.extract_compact(token_string.encode()).protected
        except (JoseError, ValueError):
            raise InvalidTokenError(realm=self.realm) from None
        if header.get("alg") != ALGORITHM or str(header.get("typ", "")).lower() not in TOKEN_TYPES:
            raise InvalidTokenError(realm=self.realm)
        claims = super().authenticate_token(token_string)
        if len(self._verified) >= VERIFIED_TOKENS_MAX:
            self._verified.clear()
        self._verified[token_string] = claims
        return claims

    def validate_token(self, token, scopes, request, **kwargs):
        # Claims validated once stay valid until they expire (issuer, audience and the times
        # they were issued at or become valid do not change). Expired on or after `exp`
        # (RFC 7519), in whole seconds as joserfc counts. The scopes asked for differ from one
        # endpoint to the next (UserInfo needs openid): they are checked every time.
        if getattr(token, "validated", False) and int(time.time()) < token["exp"]:
            if self.scope_insufficient(token.get("scope", []), scopes):
                raise InsufficientScopeError()
            return
        super().validate_token(token, scopes, request, **kwargs)
        token.validated = True
