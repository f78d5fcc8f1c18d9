"""The signing keys of the built-in issuer: a private JWK set on disk, newest key last."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


class SigningKeyError(RuntimeError):
    """The key file is missing or unreadable where it must be provided."""


@dataclass(frozen=True)
class SigningKeys:
    private: KeySet
    public: KeySet

    @property
    def current(self) -> RSAKey:
        return self.private.keys[-1]  # type: ignore[return-value]

    def jwks(self) -> dict:
        return self.public.as_dict(private=False)


def new_key() -> RSAKey:
    kid = secrets.token_urlsafe(12)
    return RSAKey.generate_key(
        2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
    )


def _from_dict(data: dict) -> SigningKeys:
    private = KeySet.import_key_set(data)
    if not private.keys:
        raise SigningKeyError("the signing key file holds no keys")
    public = KeySet.import_key_set(private.as_dict(private=False))
    return SigningKeys(private=private, public=public)


def load(path: Path, *, generate: bool) -> SigningKeys:
    """Read the key file; with `generate`, create it (once, race-free) when it is missing."""
    try:
        return _from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        if not generate:
            raise SigningKeyError(
                f"signing key file {path} does not exist (create it with `commons keys rotate`)"
            ) from None
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot read signing key file {path}: {exc}") from None
    keys = KeySet([new_key()])
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process generated it first: use theirs.
        return load(path, generate=False)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys.as_dict(private=True), handle)
    return _from_dict(keys.as_dict(private=True))


def rotate(path: Path) -> str:
    """Append a new key to the file (creating it when missing) and return its id."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        data = {"keys": []}
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot read signing key file {path}: {exc}") from None
    key = new_key()
    data["keys"].append(key.as_dict(private=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    tmp.replace(path)
    return key.kid
