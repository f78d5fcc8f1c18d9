"""Passwords at the built-in issuer: signing in with one, choosing and setting one, and the
single-use links emailed to a person (an invitation, a reset) that let them set it. Following
such a link also shows the address is theirs (`email_verified`)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import exists, select, update

# zxcvbn ships no type hints, and the locked dev dependencies carry no stubs for it.
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from network.audit import services as audit
from network.db import changed_rows, utcnow
from network.errors import Invalid, NotFound
from network.people.models import Person
from network.people.passwords import hash_password, needs_rehash, verify_password
from network.signin.models import AccountLink, AccountLinkPurpose, ExternalIdentity, digest
from network.signin.refresh_tokens import revoke_sessions
from network.signin.totp import totp_matches
from network.uow import UnitOfWork

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 "safely unguessable", 4 "very unguessable"
LINK_LIFETIME = {
    AccountLinkPurpose.invitation: timedelta(days=7),
    AccountLinkPurpose.password_reset: timedelta(hours=1),
}

# Verified against when the address is unknown, so both answers take as long.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class SignInFailed(Exception):
    """Wrong address, password or code. The message never says which."""

    def __init__(self, message: str = "The email address, password or code is not right.") -> None:
        super().__init__(message)
        self.message = message


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
        if not code or not totp_matches(person, code):
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
    _expire_loaded_links(uow, person.id)
    uow.session.flush()


# --- emailed links -------------------------------------------------------------------------


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
    _expire_loaded_links(uow, person.id)
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
    claimed = changed_rows(
        uow.session,
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if not claimed:
        raise NotFound("This link has expired or has already been used. Ask for a new one.")
    uow.session.expire(link, ["used_at"])
    set_password(uow, person, password)
    uow.session.flush()
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


def _expire_loaded_links(uow: UnitOfWork, person_id: int) -> None:
    """Rows changed by a bulk UPDATE are re-read on next use, not served stale from the session."""
    for row in list(uow.session.identity_map.values()):
        if isinstance(row, AccountLink) and row.person_id == person_id:
            uow.session.expire(row)
