"""A person's two-step sign-in (TOTP): setting it up, turning it off, checking a code."""

from __future__ import annotations

import pyotp

from network.audit import services as audit
from network.errors import Conflict, Invalid
from network.people.models import Person
from network.uow import UnitOfWork

TOTP_ISSUER = "Commons"


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
