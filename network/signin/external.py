"""People signing in with an external OpenID Connect issuer (NHS CIS2, Microsoft Entra ID):
matched by a stored (issuer, subject) link or, the first time, by the verified email address of
a person who has been invited."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from network.audit import services as audit
from network.db import insert_or_get, utcnow
from network.errors import Forbidden
from network.people.models import Membership, Person
from network.signin.models import ExternalIdentity
from network.uow import UnitOfWork


class NotInvited(Forbidden):
    """A valid external identity that maps to no invited, active person."""


@dataclass(frozen=True)
class ExternalClaims:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    roles: list = field(default_factory=list)


def person_for(uow: UnitOfWork, claims: ExternalClaims) -> Person:
    """The person these verified claims belong to, linking them on first sight."""
    link = _link_of(uow, claims)
    if link is not None:
        linked = uow.session.get_one(Person, link.person_id)
        if not linked.is_active:
            raise NotInvited("This account has been deactivated.")
        link.last_seen_at = utcnow()
        if claims.roles != link.roles:
            link.roles = claims.roles
        return linked
    email = (claims.email or "").strip().lower()
    person: Person | None = None
    if email and claims.email_verified:
        person = uow.session.scalar(select(Person).where(Person.email == email))
    if (
        person is None
        or not person.is_active
        or uow.session.scalar(
            select(Membership.organisation_id).where(Membership.person_id == person.id).limit(1)
        )
        is None
    ):
        raise NotInvited(
            "You have not been invited to Commons: ask an administrator of your practice or PCN "
            "to invite the email address your NHS account uses."
        )
    identity, created = insert_or_get(
        uow.session,
        ExternalIdentity(
            person_id=person.id,
            issuer=claims.issuer,
            subject=claims.subject,
            email=email,
            roles=claims.roles,
        ),
        lambda: _link_of(uow, claims),
    )
    if not created:  # the same first sign-in, twice at once: linked by the other request
        return uow.session.get_one(Person, identity.person_id)
    audit.record(
        uow,
        "signin.external_linked",
        actor_id=person.id,
        actor_label=email,
        details={"issuer": claims.issuer, "roles": claims.roles},
    )
    uow.session.flush()
    return person


def _link_of(uow: UnitOfWork, claims: ExternalClaims) -> ExternalIdentity | None:
    return uow.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == claims.issuer, ExternalIdentity.subject == claims.subject
        )
    )


def record_refusal(uow: UnitOfWork, claims: ExternalClaims, reason: str) -> None:
    audit.record(
        uow,
        "signin.external_refused",
        actor_id=None,
        actor_label=(claims.email or claims.subject)[:254],
        details={"issuer": claims.issuer, "reason": reason},
    )
