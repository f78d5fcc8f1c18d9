"""People and their memberships of organisations."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from network.organisations.models import Organisation
from network.people.models import Membership, Person, Role, StaffGroup

_seq = itertools.count(1)


def person(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    staff_group: StaffGroup = StaffGroup.other,
    is_superuser: bool = False,
    member_of: Organisation | None = None,
    role: Role = Role.member,
) -> Person:
    n = next(_seq)
    p = Person(
        email=email or f"person{n}@example.org",
        name=name or f"Person {n}",
        staff_group=staff_group,
        is_superuser=is_superuser,
    )
    session.add(p)
    session.flush()
    if member_of is not None:
        membership(session, p, member_of, role)
    return p


def membership(
    session: Session, p: Person, org: Organisation, role: Role = Role.member
) -> Membership:
    m = Membership(person_id=p.id, organisation_id=org.id, role=role)
    session.add(m)
    session.flush()
    return m
