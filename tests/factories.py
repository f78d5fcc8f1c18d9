"""Test data, in one place. Factories flush, never commit."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.auth.tokens import mint_access_token
from network.organisations.models import Organisation, OrganisationKind
from network.people.models import Membership, Person, Role, StaffGroup

_seq = itertools.count(1)


@contextmanager
def fresh_database(server_url: str, name: str, *, timezone: str | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database called `name` on `server_url`'s server (one a crashed
    run left behind is dropped first), dropped afterwards; yields its URL. `timezone` sets the
    database's default session time zone."""
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            if timezone:
                conn.execute(text(f"ALTER DATABASE \"{name}\" SET TimeZone = '{timezone}'"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(drop)
    finally:
        admin.dispose()


def organisation(
    session: Session,
    kind: OrganisationKind | str,
    parent: Organisation | None = None,
    *,
    name: str | None = None,
    ods_code: str | None = None,
) -> Organisation:
    kind = OrganisationKind(kind)
    org = Organisation(
        kind=kind,
        name=name or f"{kind.value.title()} {next(_seq)}",
        parent_id=parent.id if parent else None,
        ods_code=ods_code,
    )
    session.add(org)
    session.flush()
    return org


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


def token(app, p: Person, **overrides) -> str:
    """A valid access token for a person, as the built-in issuer mints it."""
    state = app.extensions["commons"]
    return _mint(state.keys, state.settings, p, overrides)


def token_for_settings(settings, p: Person, **overrides) -> str:
    """The same, for a server started elsewhere with these settings (same key file)."""
    from api.auth.keys import load

    return _mint(load(settings.signing_key_file, generate=True), settings, p, overrides)


def _mint(keys, settings, p: Person, overrides: dict) -> str:
    kwargs = {
        "issuer": settings.issuer,
        "audience": settings.audience,
        "subject": str(p.id),
        "client_id": "tests",
    }
    kwargs.update(overrides)
    return mint_access_token(keys, **kwargs)


@dataclass
class Network:
    """Two federations. A has PCN 1 (practices 1 and 2) and PCN 2 (practice 3); B has PCN 3
    (practice 4). People: a member and an admin of every organisation, and a superuser."""

    fed_a: Organisation
    pcn1: Organisation
    practice1: Organisation
    practice2: Organisation
    pcn2: Organisation
    practice3: Organisation
    fed_b: Organisation
    pcn3: Organisation
    practice4: Organisation
    members: dict[str, Person]
    admins: dict[str, Person]
    superuser: Person

    def org(self, name: str) -> Organisation:
        return getattr(self, name)


ORG_NAMES = (
    "fed_a",
    "pcn1",
    "practice1",
    "practice2",
    "pcn2",
    "practice3",
    "fed_b",
    "pcn3",
    "practice4",
)


def network(session: Session) -> Network:
    fed_a = organisation(session, "federation", name="Federation A")
    pcn1 = organisation(session, "pcn", fed_a, name="PCN One")
    practice1 = organisation(session, "practice", pcn1, name="Practice One", ods_code="P10001")
    practice2 = organisation(session, "practice", pcn1, name="Practice Two", ods_code="P10002")
    pcn2 = organisation(session, "pcn", fed_a, name="PCN Two")
    practice3 = organisation(session, "practice", pcn2, name="Practice Three")
    fed_b = organisation(session, "federation", name="Federation B")
    pcn3 = organisation(session, "pcn", fed_b, name="PCN Three")
    practice4 = organisation(session, "practice", pcn3, name="Practice Four")
    orgs = dict(
        fed_a=fed_a,
        pcn1=pcn1,
        practice1=practice1,
        practice2=practice2,
        pcn2=pcn2,
        practice3=practice3,
        fed_b=fed_b,
        pcn3=pcn3,
        practice4=practice4,
    )
    members = {
        key: person(
            session, name=f"Member of {org.name}", email=f"member.{key}@example.org", member_of=org
        )
        for key, org in orgs.items()
    }
    admins = {
        key: person(
            session,
            name=f"Admin of {org.name}",
            email=f"admin.{key}@example.org",
            member_of=org,
            role=Role.admin,
        )
        for key, org in orgs.items()
    }
    superuser = person(session, name="Super User", email="super@example.org", is_superuser=True)
    return Network(**orgs, members=members, admins=admins, superuser=superuser)
