"""RFC 9068 access tokens: minting for the built-in issuer and validation for the API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
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


class AccessTokenValidator(JWTBearerTokenValidator):
    """authlib's RFC 9068 validator, stricter: one algorithm, and `typ` must be present."""

    def __init__(self, keys: Callable[[], SigningKeys], *, issuer: str, audience: str) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self._keys = keys

    def get_jwks(self):
        return self._keys().public

    def authenticate_token(self, token_string):
        try:
            header = jws.extract_compact(token_string.encode()).protected
        except (JoseError, ValueError):
            raise InvalidTokenError(realm=self.realm) from None
        if header.get("alg") != ALGORITHM or str(header.get("typ", "")).lower() not in TOKEN_TYPES:
            raise InvalidTokenError(realm=self.realm)
        return super().authenticate_token(token_string)
