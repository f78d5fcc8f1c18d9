"""What an operator or a person sets up before signing in: the clients registered with the
built-in issuer, and a person's two-step sign-in (TOTP)."""

from __future__ import annotations

import secrets

import pyotp
from sqlalchemy import select

from network.audit import services as audit
from network.errors import Conflict, Invalid
from network.people.models import Person
from network.people.passwords import hash_password, verify_password
from network.signin.models import OAuthClient
from network.uow import UnitOfWork

TOTP_ISSUER = "Commons"


# --- clients -------------------------------------------------------------------------------


def create_client(
    uow: UnitOfWork,
    *,
    name: str,
    redirect_uris: list[str],
    confidential: bool,
    client_id: str | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register a client; returns it and, for a confidential client, its secret (shown once)."""
    if not redirect_uris:
        raise Invalid("A client needs at least one redirect URI.", field="redirect_uri")
    for uri in redirect_uris:
        if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Invalid(f"{uri} must be https (or http on loopback).", field="redirect_uri")
    secret = secrets.token_urlsafe(32) if confidential else None
    grants = ["authorization_code", "refresh_token"]
    if confidential:
        grants.append("client_credentials")
    client = OAuthClient(
        client_id=client_id or secrets.token_urlsafe(18),
        name=name,
        secret_hash=hash_password(secret) if secret else None,
        redirect_uris=list(redirect_uris),
        grant_types=grants,
    )
    uow.session.add(client)
    uow.session.flush()
    audit.record(
        uow,
        "client.created",
        actor_id=None,
        actor_label="operator",
        subject_type="oauth_client",
        subject_id=client.id,
        details={"client_id": client.client_id, "name": name, "confidential": confidential},
    )
    return client, secret


def find_client(uow: UnitOfWork, client_id: str) -> OAuthClient | None:
    return uow.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def client_secret_matches(client: OAuthClient, secret: str) -> bool:
    return client.secret_hash is not None and verify_password(client.secret_hash, secret)


# --- two-step sign-in ----------------------------------------------------------------------


def start_totp(uow: UnitOfWork, person: Person) -> tuple[str, str]:
    """A new secret, pending until confirmed with a code. Returns (secret, otpauth URI)."""
    if person.totp_enabled:
        raise Conflict("Two-step sign-in is already on; turn it off first to change it.")
    secret = pyotp.random_base32()
    person.totp_secret = secret
    uow.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=person.email, issuer_name=TOTP_ISSUER)
    return secret, uri


def confirm_totp(uow: UnitOfWork, person: Person, code: str) -> None:
    if person.totp_secret is None:
        raise Conflict("Start setting up two-step sign-in first.")
    if not totp_matches(person, code):
        raise Invalid("That code is not right; check your device's clock.", field="code")
    person.totp_enabled = True
    uow.session.flush()
    audit.record(uow, "mfa.enabled", actor_id=person.id, actor_label=person.email)


def disable_totp(uow: UnitOfWork, person: Person, code: str) -> None:
    if not person.totp_enabled:
        raise Conflict("Two-step sign-in is not on.")
    if person.is_superuser:
        raise Conflict("Superusers must keep two-step sign-in on.")
    if not totp_matches(person, code):
        raise Invalid("That code is not right.", field="code")
    person.totp_enabled = False
    person.totp_secret = None
    uow.session.flush()
    audit.record(uow, "mfa.disabled", actor_id=person.id, actor_label=person.email)


def totp_matches(person: Person, code: str) -> bool:
    """Whether the code is the person's current one-time code (when they have a secret)."""
    if person.totp_secret is None:
        return False
    # One 30-second step either side absorbs clock drift.
    return pyotp.TOTP(person.totp_secret).verify(code.strip().replace(" ", ""), valid_window=1)
