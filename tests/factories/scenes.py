"""The network most tests act in: organisations of every kind and people of every standing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from network.organisations.models import Organisation
from network.people.models import Person, Role
from tests.factories.organisations import organisation
from tests.factories.people import person


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
