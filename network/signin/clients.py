"""The clients registered with the built-in issuer: what an operator sets up before anyone
signs in."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from network.audit import services as audit
from network.errors import Invalid
from network.people.passwords import hash_password, verify_password
from network.signin.models import OAuthClient
from network.uow import UnitOfWork


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
