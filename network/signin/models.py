"""The built-in issuer's records: registered clients, authorization codes, refresh tokens and
the single-use links that let a person set their password."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


def digest(token: str) -> str:
    """What is stored of a secret token (`code_hash`, `token_hash`): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class OAuthClient(Base):
    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # argon2 hash; None for public clients (single-page apps), which authenticate with PKCE only.
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(200), default="openid profile email")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None


class AuthorizationCode(Base):
    """A code is exchanged once: the exchange marks it used and names the refresh-token family
    it starts, and the used code is remembered (CODE_MEMORY) so a replay can revoke that family
    (RFC 6749 4.1.2)."""

    __tablename__ = "authorization_code"
    __table_args__ = (Index("ix_authorization_code_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the code: a leaked table holds nothing usable.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(String(255))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set, together, by the one exchange that may use the code.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    family_id: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """One link of a rotating chain. Every token issued from one sign-in shares a family; using a
    rotated token again means it was stolen, and revokes the whole family."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_person_id_revoked_at", "person_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person signed in (the ID token's auth_time), carried along the chain; None for
    # tokens issued before it was recorded.
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountLinkPurpose(enum.StrEnum):
    invitation = "invitation"
    password_reset = "password_reset"  # noqa: S105 - a purpose, not a password


class AccountLink(Base):
    """A single-use, expiring link, emailed, that lets a person set their password."""

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[AccountLinkPurpose] = mapped_column(
        Enum(AccountLinkPurpose, native_enum=False, length=16, validate_strings=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a newer link or a password change made this one void before use.
    voided: Mapped[bool] = mapped_column(Boolean, default=False)


class ExternalIdentity(Base):
    """A person's account at an external OpenID Connect issuer (NHS CIS2, Entra ID)."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    # CIS2 `nhsid_nrbac_roles` as last seen, for administrators to read. They grant nothing.
    roles: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
