"""Signing in with the built-in issuer: clients, passwords, refresh-token families, account links
and two-step sign-in (TOTP)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, exists, select, update
from zxcvbn import zxcvbn

from network.audit import services as audit
from network.db import utcnow
from network.errors import Conflict, Invalid, NotFound
from network.people.models import Person
from network.people.passwords import hash_password, needs_rehash, verify_password
from network.signin.models import (
    AccountLink,
    AccountLinkPurpose,
    AuthorizationCode,
    ExternalIdentity,
    OAuthClient,
    RefreshToken,
)
from network.uow import UnitOfWork

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 "safely unguessable", 4 "very unguessable"
REFRESH_TOKEN_DAYS = 30
AUTHORIZATION_CODE_SECONDS = 60
# How long a code is remembered after it expires, used or not: a replay within it revokes the
# tokens issued from the code; older codes are deleted as new ones are saved.
CODE_MEMORY = timedelta(days=1)
LINK_LIFETIME = {
    AccountLinkPurpose.invitation: timedelta(days=7),
    AccountLinkPurpose.password_reset: timedelta(hours=1),
}
TOTP_ISSUER = "Commons"

# Verified against when the address is unknown, so both answers take as long.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class SignInFailed(Exception):
    """Wrong address, password or code. The message never says which."""

    def __init__(self, message: str = "The email address, password or code is not right.") -> None:
        super().__init__(message)
        self.message = message


def digest(token: str) -> str:
    """What is stored of a secret token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


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


# --- passwords -----------------------------------------------------------------------------


def authenticate(uow: UnitOfWork, email: str, password: str, code: str | None = None) -> Person:
    """The person with this address and password (and TOTP code, when they use one)."""
    address = email.strip().lower()
    person = uow.session.scalar(select(Person).where(Person.email == address))

    def failed(reason: str, message: str | None = None) -> SignInFailed:
        audit.record(
            uow,
            "signin.failed",
            actor_id=person.id if person is not None else None,
            actor_label=address or "(blank)",
            details={"reason": reason},
        )
        return SignInFailed(message) if message else SignInFailed()

    if person is None or not person.is_active or person.password_hash is None:
        verify_password(_DUMMY_HASH, password)
        raise failed("unknown or inactive account")
    if not verify_password(person.password_hash, password):
        raise failed("wrong password")
    if person.totp_enabled:
        if not code or not _totp_matches(person, code):
            raise failed("wrong or missing one-time code")
    elif person.is_superuser:
        raise failed(
            "superuser without two-step sign-in",
            "Superusers must use two-step sign-in: set it up with `commons users mfa EMAIL`.",
        )
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    audit.record(uow, "signin.succeeded", actor_id=person.id, actor_label=person.email)
    return person


def email_verified(uow: UnitOfWork, person: Person) -> bool:
    """Whether the person has shown they receive mail at their address: they followed a link
    emailed to it (an invitation or a password reset), or an external issuer vouched for it
    (the verified email that linked their account). An address set by an operator or the demo
    seed alone is not verified."""
    followed_link = exists().where(
        AccountLink.person_id == person.id, AccountLink.used_at.is_not(None)
    )
    vouched = exists().where(
        ExternalIdentity.person_id == person.id, ExternalIdentity.email == person.email
    )
    return bool(uow.session.scalar(select(followed_link | vouched)))


def check_password_strength(password: str, person: Person) -> None:
    """At least 12 characters, not the person's own name or address, and not guessable (zxcvbn,
    knowing their name and email)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"Use at least {MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.",
            field="password",
        )
    if len(password) > 256:
        raise Invalid("Use at most 256 characters.", field="password")
    local = person.email.split("@")[0]
    personal = {
        part for part in re.split(r"[\s._+-]+", f"{person.name} {local}".lower()) if len(part) >= 4
    }
    squashed = re.sub(r"[^a-z0-9]", "", password.lower())
    if any(part in squashed for part in personal):
        raise Invalid("Leave your name and email address out of your password.", field="password")
    hints = [person.email, local, *person.name.split(), "commons", "nhs"]
    # zxcvbn credits separators as random characters; judge the words run together too.
    results = [zxcvbn(form, user_inputs=hints) for form in {password, "".join(password.split())}]
    weakest = min(results, key=lambda r: r["score"])
    if weakest["score"] < MIN_PASSWORD_SCORE:
        advice = weakest["feedback"].get("warning") or "It would be easy to guess."
        raise Invalid(f"That password is too easy to guess. {advice}".strip(), field="password")


def set_password(uow: UnitOfWork, person: Person, password: str) -> None:
    """Change the password; every session signed in with the old one ends."""
    check_password_strength(password, person)
    person.password_hash = hash_password(password)
    revoke_sessions(uow, person.id)
    audit.record(uow, "password.set", actor_id=person.id, actor_label=person.email)
    uow.session.execute(
        update(AccountLink)
        .where(AccountLink.person_id == person.id, AccountLink.used_at.is_(None))
        .values(voided=True)
    )
    _expire_loaded(uow, AccountLink, lambda link: link.person_id == person.id)
    uow.session.flush()


# --- account links -------------------------------------------------------------------------


def issue_link(uow: UnitOfWork, person: Person, purpose: AccountLinkPurpose) -> str:
    """A new single-use link token; earlier unused links of the same purpose stop working."""
    uow.session.execute(
        update(AccountLink)
        .where(
            AccountLink.person_id == person.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(voided=True)
    )
    _expire_loaded(uow, AccountLink, lambda link: link.person_id == person.id)
    token = secrets.token_urlsafe(32)
    uow.session.add(
        AccountLink(
            token_hash=digest(token),
            person_id=person.id,
            purpose=purpose,
            expires_at=utcnow() + LINK_LIFETIME[purpose],
        )
    )
    uow.session.flush()
    return token


def open_link(uow: UnitOfWork, token: str) -> tuple[AccountLink, Person]:
    """The link and its person, or NotFound when it is unknown, used, void or expired."""
    link = uow.session.scalar(select(AccountLink).where(AccountLink.token_hash == digest(token)))
    if link is None or link.used_at is not None or link.voided or link.expires_at <= utcnow():
        raise NotFound("This link has expired or has already been used. Ask for a new one.")
    person = uow.session.get_one(Person, link.person_id)
    if not person.is_active:
        raise NotFound("This link has expired or has already been used. Ask for a new one.")
    return link, person


def redeem_link(uow: UnitOfWork, token: str, password: str) -> Person:
    link, person = open_link(uow, token)
    # Used up in one statement that checks it is still unused: of two uses at once, one sets
    # the password and the other is told the link has been used.
    claimed = uow.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise NotFound("This link has expired or has already been used. Ask for a new one.")
    uow.session.expire(link, ["used_at"])
    set_password(uow, person, password)
    uow.session.flush()
    return person


# --- authorization codes -------------------------------------------------------------------


def save_authorization_code(
    uow: UnitOfWork,
    *,
    code: str,
    client_id: str,
    person_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    nonce: str | None,
) -> None:
    now = utcnow()
    # Codes expired for longer than CODE_MEMORY go: the table holds about a day of sign-ins.
    uow.session.execute(
        delete(AuthorizationCode)
        .where(AuthorizationCode.expires_at < now - CODE_MEMORY)
        .execution_options(synchronize_session=False)
    )
    uow.session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=client_id,
            person_id=person_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
            auth_time=now,
            expires_at=now + timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
        )
    )
    uow.session.flush()


def claim_authorization_code(
    uow: UnitOfWork, code: str, client_id: str
) -> AuthorizationCode | None:
    """The code, marked used as it is read, in one statement that also checks it still is not
    (UPDATE ... WHERE used_at IS NULL RETURNING): of two exchanges of one code at once, exactly
    one gets it. The same statement names the refresh-token family the exchange starts.

    None when the code is unknown, another client's or expired, or already used. An exchange
    that fails afterwards (a wrong verifier) has used it up too: a code is good for one attempt.
    A used code presented again is a replay (RFC 6749 4.1.2): every token issued from it is
    revoked, and the caller commits that although it refuses the request."""
    code_hash = digest(code)
    claimed = uow.session.scalars(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.code_hash == code_hash,
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.used_at.is_(None),
        )
        .values(used_at=utcnow(), family_id=secrets.token_hex(16))
        .returning(AuthorizationCode)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()
    if claimed is None:
        used = uow.session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_not(None))
            .execution_options(populate_existing=True)
        )
        if used is not None:
            _code_reuse_detected(uow, used, presented_by=client_id)
        return None
    if claimed.expires_at <= utcnow():
        return None
    return claimed


def _code_reuse_detected(uow: UnitOfWork, code: AuthorizationCode, presented_by: str) -> None:
    if code.family_id is not None:
        revoke_family(uow, code.family_id)
    audit.record(
        uow,
        "token.reuse_detected",
        actor_id=code.person_id,
        actor_label=f"client {presented_by}",
        subject_type="authorization_code",
        subject_id=code.id,
        details={
            "family": code.family_id,
            "client_id": code.client_id,
            "outcome": "code refused; every token issued from it revoked",
        },
    )


# --- refresh tokens ------------------------------------------------------------------------


def save_refresh_token(
    uow: UnitOfWork,
    *,
    token: str,
    client_id: str,
    person_id: int,
    scope: str,
    family_id: str | None = None,
    auth_time: datetime | None = None,
) -> RefreshToken:
    row = RefreshToken(
        token_hash=digest(token),
        family_id=family_id or secrets.token_hex(16),
        client_id=client_id,
        person_id=person_id,
        scope=scope,
        auth_time=auth_time,
        expires_at=utcnow() + timedelta(days=REFRESH_TOKEN_DAYS),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def find_refresh_token(uow: UnitOfWork, token: str) -> RefreshToken | None:
    return uow.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))


def usable_refresh_token(uow: UnitOfWork, token: str, client_id: str) -> RefreshToken | None:
    """The token when it may be exchanged. A rotated token used again revokes its family."""
    row = find_refresh_token(uow, token)
    if row is None or row.client_id != client_id:
        return None
    if row.rotated_at is not None:
        _reuse_detected(uow, row)
        return None
    if row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    person = uow.session.get(Person, row.person_id)
    if person is None or not person.is_active:
        return None
    return row


def rotate(uow: UnitOfWork, row: RefreshToken) -> bool:
    """Mark the token used, in one statement that also checks it still is not: False when a
    simultaneous exchange of the same token got there first, which is then a reuse (its family
    is revoked, as for a replay after the fact)."""
    rotated = uow.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == row.id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    uow.session.expire(row, ["rotated_at"])
    if not rotated:
        _reuse_detected(uow, row)
        return False
    audit.record(
        uow,
        "token.refreshed",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        details={"family": row.family_id},
    )
    return True


def _reuse_detected(uow: UnitOfWork, row: RefreshToken) -> None:
    revoke_family(uow, row.family_id)
    audit.record(
        uow,
        "token.reuse_detected",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        subject_type="refresh_token_family",
        details={"family": row.family_id, "outcome": "every token of the sign-in revoked"},
    )


def revoke(uow: UnitOfWork, row: RefreshToken) -> None:
    """Sign out: the token and every other token of its sign-in stop working."""
    revoke_family(uow, row.family_id)
    audit.record(
        uow,
        "token.revoked",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        details={"family": row.family_id},
    )


def revoke_family(uow: UnitOfWork, family_id: str) -> None:
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _expire_loaded(uow, RefreshToken, lambda row: row.family_id == family_id)


def revoke_sessions(uow: UnitOfWork, person_id: int) -> None:
    """End every sign-in of a person: their refresh tokens stop working at once."""
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _expire_loaded(uow, RefreshToken, lambda row: row.person_id == person_id)


def _expire_loaded(uow: UnitOfWork, model: type, matches) -> None:
    """Rows changed by a bulk UPDATE are re-read on next use, not served stale from the session."""
    for row in list(uow.session.identity_map.values()):
        if isinstance(row, model) and matches(row):
            uow.session.expire(row)


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
    if not _totp_matches(person, code):
        raise Invalid("That code is not right; check your device's clock.", field="code")
    person.totp_enabled = True
    uow.session.flush()
    audit.record(uow, "mfa.enabled", actor_id=person.id, actor_label=person.email)


def disable_totp(uow: UnitOfWork, person: Person, code: str) -> None:
    if not person.totp_enabled:
        raise Conflict("Two-step sign-in is not on.")
    if person.is_superuser:
        raise Conflict("Superusers must keep two-step sign-in on.")
    if not _totp_matches(person, code):
        raise Invalid("That code is not right.", field="code")
    person.totp_enabled = False
    person.totp_secret = None
    uow.session.flush()
    audit.record(uow, "mfa.disabled", actor_id=person.id, actor_label=person.email)


def _totp_matches(person: Person, code: str) -> bool:
    if person.totp_secret is None:
        return False
    # One 30-second step either side absorbs clock drift.
    return pyotp.TOTP(person.totp_secret).verify(code.strip().replace(" ", ""), valid_window=1)
