"""Access tokens from external OpenID Connect issuers, configured by `OIDC_ISSUERS`.

`OIDC_ISSUERS` is a JSON list; each item: `{"issuer": URL, "audience": "...", "claims":
{"email": "email", "email_verified": "email_verified", "roles": "nhsid_nrbac_roles"},
"trust_email": false}` (`claims` and `trust_email` optional). Each issuer's keys come from its
discovery document, are cached, and are fetched again when a token names an unknown key — at
most once a minute per issuer."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field

import requests
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from network.signin.external import ExternalClaims

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
REFETCH_SECONDS = 60.0
HTTP_TIMEOUT = 5.0
DEFAULT_CLAIMS = {
    "email": "email",
    "email_verified": "email_verified",
    "roles": "nhsid_nrbac_roles",
}


class ConfigurationError(ValueError):
    """OIDC_ISSUERS is not valid."""


class ExternalTokenError(Exception):
    """The token is not valid for this API (audience, expiry, signature, key...)."""


@dataclass
class ExternalIssuer:
    issuer: str
    audience: str
    claims: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    trust_email: bool = False
    _keys: KeySet | None = field(default=None, repr=False)
    _fetched_at: float = field(default=float("-inf"), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _fetch_keys(self) -> KeySet:
        discovery = requests.get(
            self.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT
        )
        discovery.raise_for_status()
        jwks_uri = discovery.json()["jwks_uri"]
        response = requests.get(jwks_uri, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())

    def keys(self, *, refresh: bool = False) -> KeySet | None:
        """The cached keys; with `refresh`, fetched again unless fetched within the minute."""
        with self._lock:
            due = time.monotonic() - self._fetched_at >= REFETCH_SECONDS
            if (self._keys is None or refresh) and due:
                self._fetched_at = time.monotonic()
                # On failure keep what we had: a token no key verifies is refused anyway.
                with contextlib.suppress(
                    requests.RequestException, ValueError, KeyError, JoseError
                ):
                    self._keys = self._fetch_keys()
            return self._keys

    def verify(self, token: str) -> ExternalClaims:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError):
            raise ExternalTokenError("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise ExternalTokenError("algorithm not accepted")
        keys = self.keys()
        kid = header.get("kid")
        if keys is None or (kid and not any(k.kid == kid for k in keys.keys)):
            keys = self.keys(refresh=True)
        if keys is None:
            raise ExternalTokenError("the issuer's keys cannot be fetched")
        try:
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ExternalTokenError(str(exc) or exc.__class__.__name__) from None
        claims = decoded.claims
        roles = claims.get(self.claims.get("roles", "nhsid_nrbac_roles")) or []
        verified = claims.get(self.claims.get("email_verified", "email_verified"))
        return ExternalClaims(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=claims.get(self.claims.get("email", "email")),
            email_verified=self.trust_email or verified is True or verified == "true",
            roles=roles if isinstance(roles, list) else [roles],
        )


def parse(raw: str | None) -> dict[str, ExternalIssuer]:
    """The configured issuers by issuer URL; a clear error for a malformed OIDC_ISSUERS."""
    if not raw:
        return {}
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"OIDC_ISSUERS is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise ConfigurationError("OIDC_ISSUERS must be a JSON list of issuers")
    issuers = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("issuer") or not item.get("audience"):
            raise ConfigurationError("each OIDC_ISSUERS item needs an issuer and an audience")
        unknown = set(item) - {"issuer", "audience", "claims", "trust_email"}
        if unknown:
            raise ConfigurationError(f"OIDC_ISSUERS: unknown keys {sorted(unknown)}")
        issuers[item["issuer"]] = ExternalIssuer(
            issuer=item["issuer"],
            audience=item["audience"],
            claims=DEFAULT_CLAIMS | dict(item.get("claims") or {}),
            trust_email=bool(item.get("trust_email", False)),
        )
    return issuers


def unverified_issuer(token: str) -> str | None:
    """The `iss` a token claims, before anything is verified: only to choose the verifier."""
    try:
        payload = jws.extract_compact(token.encode()).payload
        iss = json.loads(payload).get("iss")
    except (JoseError, ValueError, AttributeError, RecursionError):
        return None  # RecursionError: a payload nested past the parser's depth
    return iss if isinstance(iss, str) else None
