"""People, their profiles and their memberships of organisations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload

from network import access
from network.access import Principal
from network.audit import services as audit
from network.db import changed_rows, insert_or_get
from network.errors import Conflict, Forbidden, Invalid, NotFound
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.people.models import Membership, Person, Role, StaffGroup
from network.people.passwords import hash_password
from network.signin.models import ExternalIdentity
from network.signin.refresh_tokens import revoke_sessions
from network.text import clean_name
from network.uow import Job, UnitOfWork

# Deliberately loose: one @, something either side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise Invalid(f"{email!r} is not an email address.", field="email")
    return cleaned


def find_by_email(uow: UnitOfWork, email: str) -> Person | None:
    return uow.session.scalar(select(Person).where(Person.email == normalise_email(email)))


def get(uow: UnitOfWork, person_id: int) -> Person:
    person = uow.session.get(Person, person_id)
    if person is None:
        raise NotFound(f"Person {person_id} not found.")
    return person


def memberships_of(uow: UnitOfWork, person_id: int) -> list[Membership]:
    """A person's memberships with their organisations, ordered by organisation name."""
    return list(
        uow.session.scalars(
            select(Membership)
            .join(Membership.organisation)
            .options(contains_eager(Membership.organisation))
            .where(Membership.person_id == person_id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def create(
    uow: UnitOfWork,
    *,
    email: str,
    name: str,
    staff_group: StaffGroup = StaffGroup.other,
    password: str | None = None,
    is_superuser: bool = False,
) -> Person:
    """Create a person (operators: `commons users create`)."""
    email = normalise_email(email)
    person, created = insert_or_get(
        uow.session,
        Person(
            email=email,
            name=clean_name(name),
            staff_group=staff_group,
            password_hash=hash_password(password) if password else None,
            is_superuser=is_superuser,
        ),
        lambda: find_by_email(uow, email),
    )
    if not created:
        raise Conflict(f"A person with email {email} already exists.", field="email")
    if is_superuser:
        audit.record(
            uow,
            "person.created_superuser",
            actor_id=None,
            actor_label="operator",
            subject_type="person",
            subject_id=person.id,
            details={"email": email},
        )
    return person


def update_profile(uow: UnitOfWork, principal: Principal, **changes: object) -> Person:
    """A person changes their own name or staff group."""
    person = get(uow, principal.person_id)
    if "name" in changes:
        person.name = clean_name(str(changes["name"]))
    if "staff_group" in changes:
        person.staff_group = StaffGroup(str(changes["staff_group"]))
    uow.session.flush()
    return person


def list_members(
    uow: UnitOfWork,
    principal: Principal,
    organisation_id: int,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page[MemberView]:
    """An organisation's members, by name (its own members and its administrators may look)."""
    chain = access.visible_chain(uow.session, principal, organisation_id)
    if not access.can_list_members(principal, chain):
        raise Forbidden("Only the organisation's members and administrators may list its members.")
    stmt = (
        select(Membership)
        .join(Membership.person)
        .options(contains_eager(Membership.person))
        .where(Membership.organisation_id == organisation_id)
    )
    after = decode_cursor(cursor, (str, int))
    if after is not None:
        stmt = stmt.where(tuple_(Person.name, Person.id) > tuple_(*after))
    memberships = list(uow.session.scalars(stmt.order_by(Person.name, Person.id).limit(limit + 1)))
    page = page_from_rows(memberships, limit, lambda m: (m.person.name, m.person.id))
    identities: dict[int, list[ExternalIdentity]] = {}
    if access.can_administer(principal, chain) and page.items:
        # NHS identities (CIS2 roles) are for administrators to see; one more statement.
        rows = uow.session.scalars(
            select(ExternalIdentity)
            .where(ExternalIdentity.person_id.in_([m.person_id for m in page.items]))
            .order_by(ExternalIdentity.id)
        )
        for row in rows:
            identities.setdefault(row.person_id, []).append(row)
    items = [MemberView(m, identities.get(m.person_id, [])) for m in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@dataclass(frozen=True)
class MemberView:
    membership: Membership
    identities: list[ExternalIdentity]

    @property
    def person(self) -> Person:
        return self.membership.person

    @property
    def role(self) -> Role:
        return self.membership.role


def add_member(
    uow: UnitOfWork,
    principal: Principal,
    organisation_id: int,
    *,
    email: str,
    role: Role,
    name: str | None = None,
    staff_group: StaffGroup | None = None,
) -> tuple[Membership, bool]:
    """Invite a person to an organisation, creating them when new. Returns (membership, created).

    Idempotent for the same email: an existing membership is returned unchanged.
    """
    chain = access.visible_chain(uow.session, principal, organisation_id)
    _require_admin(principal, chain)
    email = normalise_email(email)
    known = find_by_email(uow, email)
    if known is not None:
        person = known
    else:
        # The same email invited twice at once, here or elsewhere: one person either way.
        person, _ = insert_or_get(
            uow.session,
            Person(
                email=email,
                name=clean_name(name or email.split("@", 1)[0][:200]),
                staff_group=staff_group or StaffGroup.other,
            ),
            lambda: find_by_email(uow, email),
        )
    existing = _membership(uow, organisation_id, person.id)
    if existing is not None:
        return existing, False
    membership, created = insert_or_get(
        uow.session,
        Membership(person_id=person.id, organisation_id=organisation_id, role=role),
        lambda: _membership(uow, organisation_id, person.id),
    )
    if not created:
        return membership, False
    membership.person = person
    uow.enqueue_after_commit(
        Job("workers.jobs.send_invitation", (person.id, organisation_id), queue="mail")
    )
    audit.record_by(
        uow,
        principal,
        "member.invited",
        organisation_id=organisation_id,
        subject_type="person",
        subject_id=person.id,
        details={"email": person.email, "role": role.value},
    )
    return membership, True


def update_member(
    uow: UnitOfWork, principal: Principal, organisation_id: int, person_id: int, *, role: Role
) -> Membership:
    """Change a member's role (the organisation's administrators)."""
    membership = _membership_to_manage(uow, principal, organisation_id, person_id)
    previous = membership.role
    membership.role = role
    uow.session.flush()
    if previous is not role:
        audit.record_by(
            uow,
            principal,
            "member.role_changed",
            organisation_id=organisation_id,
            subject_type="person",
            subject_id=person_id,
            details={"from": previous.value, "to": role.value},
        )
    return membership


def remove_member(
    uow: UnitOfWork, principal: Principal, organisation_id: int, person_id: int
) -> None:
    """End a membership (the organisation's administrators)."""
    membership = _membership_to_manage(uow, principal, organisation_id, person_id)
    removed = changed_rows(
        uow.session,
        delete(Membership)
        .where(Membership.organisation_id == organisation_id, Membership.person_id == person_id)
        .execution_options(synchronize_session=False),
    )
    if not removed:  # removed by a simultaneous request
        raise NotFound(f"Person {person_id} is not a member of organisation {organisation_id}.")
    uow.session.expunge(membership)
    audit.record_by(
        uow,
        principal,
        "member.removed",
        organisation_id=organisation_id,
        subject_type="person",
        subject_id=person_id,
        details={"email": membership.person.email, "role": membership.role.value},
    )
    remaining = uow.session.scalar(
        select(Membership.organisation_id).where(Membership.person_id == person_id).limit(1)
    )
    if remaining is None:
        # Someone who belongs nowhere any more is signed out everywhere, at once.
        revoke_sessions(uow, person_id)


def deactivate(uow: UnitOfWork, email: str, *, actor_label: str = "operator") -> Person:
    """Stop a person signing in or using any token; their content stays."""
    person = find_by_email(uow, email)
    if person is None:
        raise NotFound(f"No person with email {email}.")
    person.is_active = False
    revoke_sessions(uow, person.id)
    uow.session.flush()
    audit.record(
        uow,
        "person.deactivated",
        actor_id=None,
        actor_label=actor_label,
        subject_type="person",
        subject_id=person.id,
        details={"email": person.email},
    )
    return person


def _membership_to_manage(
    uow: UnitOfWork, principal: Principal, organisation_id: int, person_id: int
) -> Membership:
    chain = access.visible_chain(uow.session, principal, organisation_id)
    _require_admin(principal, chain)
    membership = _membership(uow, organisation_id, person_id)
    if membership is None:
        raise NotFound(f"Person {person_id} is not a member of organisation {organisation_id}.")
    return membership


def _membership(uow: UnitOfWork, organisation_id: int, person_id: int) -> Membership | None:
    return uow.session.scalar(
        select(Membership)
        .options(joinedload(Membership.person))
        .where(Membership.organisation_id == organisation_id, Membership.person_id == person_id)
    )


def _require_admin(principal: Principal, chain: list[int]) -> None:
    if not access.can_administer(principal, chain):
        raise Forbidden("Only the organisation's administrators may manage its members.")
