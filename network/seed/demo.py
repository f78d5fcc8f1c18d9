"""The demo network: a federation, two PCNs, five practices and their people, and what they
have been doing (`demo_content`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from network.db import changed_rows
from network.organisations.models import Organisation, OrganisationKind
from network.people.models import Membership, Person, Role, StaffGroup
from network.people.passwords import hash_password
from network.seed.demo_content import DEMO_PCN, seed_demo_content
from network.signin import clients as signin
from network.uow import UnitOfWork

DEMO_FEDERATION = "Riverside Health Federation"
DEMO_DOMAIN = "demo.example"

# PCN name -> practices; each practice gets a practice manager (admin) and staff of several groups.
_PCNS = {
    "North Riverside PCN": [
        "Castle Street Surgery",
        "Millbrook Medical Centre",
        "Oakfield Practice",
    ],
    "South Riverside PCN": ["Harbour View Surgery", "Stonebridge Health Centre"],
}
_CLINICAL_DIRECTORS = {
    "North Riverside PCN": ("Dr Amira Patel", "amira.patel"),
    "South Riverside PCN": ("Dr Tom Okafor", "tom.okafor"),
}
# (staff group, job title, role); the practice manager administers the practice.
_PRACTICE_STAFF = [
    (StaffGroup.management, "Practice Manager", Role.admin),
    (StaffGroup.gp, "GP", Role.member),
    (StaffGroup.nurse, "Practice Nurse", Role.member),
    (StaffGroup.reception, "Receptionist", Role.member),
]
_EXTRA = {
    "Castle Street Surgery": [
        (StaffGroup.billing, "Billing Lead"),
        (StaffGroup.pharmacist, "Clinical Pharmacist"),
    ],
    "Harbour View Surgery": [
        (StaffGroup.hca, "Healthcare Assistant"),
        (StaffGroup.administration, "Administrator"),
    ],
}
_NAMES = [
    ("Amy", "Fletcher"),
    ("Tariq", "Malik"),
    ("Lucy", "Dunn"),
    ("Sam", "Hughes"),
    ("Priya", "Shah"),
    ("Owen", "Price"),
    ("Grace", "Adeyemi"),
    ("Ravi", "Kumar"),
    ("Ellen", "Walsh"),
    ("Kwame", "Mensah"),
    ("Niamh", "Byrne"),
    ("Leah", "Cohen"),
    ("Idris", "Khan"),
    ("Maya", "Green"),
    ("Joe", "Turner"),
    ("Hannah", "Lewis"),
    ("Yusuf", "Ali"),
    ("Carys", "Evans"),
    ("Ben", "Wright"),
    ("Zara", "Hussain"),
    ("Callum", "Reid"),
    ("Aisha", "Begum"),
    ("Rhys", "Morgan"),
    ("Ola", "Nowak"),
    ("Kate", "Brennan"),
    ("Dev", "Mistry"),
]


DEMO_CLIENT_ID = "commons-demo-spa"
DEMO_REDIRECT_URIS = ["http://127.0.0.1:5173/callback", "http://localhost:5173/callback"]
# Every demo person's password, published in the README and by `make run`: for the seeded demo
# network on a developer's machine only (never seed the demo into a real deployment).
DEMO_PASSWORD = "riverside-demo-password"  # noqa: S105 - public on purpose


def _demo_emails() -> list[str]:
    """The addresses the seed gives its people (a person invited later keeps their own)."""
    locals_ = ["fiona.reid", *(local for _name, local in _CLINICAL_DIRECTORS.values())]
    locals_ += [f"{first}.{last}".lower() for first, last in _NAMES]
    return [f"{local}@{DEMO_DOMAIN}" for local in locals_]


def ensure_demo_passwords(uow: UnitOfWork) -> int:
    """Give the seeded demo people who have none the demo password (a network seeded before
    there was one); a password someone chose stays. Returns how many were given it."""
    without = (Person.email.in_(_demo_emails()), Person.password_hash.is_(None))
    if uow.session.scalar(select(Person.id).where(*without).limit(1)) is None:
        return 0
    return changed_rows(
        uow.session,
        update(Person)
        .where(*without)
        .values(password_hash=hash_password(DEMO_PASSWORD))
        .execution_options(synchronize_session=False),
    )


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    federation_id: int
    people: int
    sample_email: str
    client_id: str


def ensure_demo_client(uow: UnitOfWork) -> str:
    """The demo single-page app's public client (PKCE), registered once."""
    if signin.find_client(uow, DEMO_CLIENT_ID) is None:
        signin.create_client(
            uow,
            name="Commons (demo app)",
            redirect_uris=DEMO_REDIRECT_URIS,
            confidential=False,
            client_id=DEMO_CLIENT_ID,
        )
    return DEMO_CLIENT_ID


def seed_demo(uow: UnitOfWork, progress: Callable[[str], None] = lambda _m: None) -> DemoSummary:
    """Create the demo network once, every person with the demo password; a second run finds
    it and changes nothing (but gives a network seeded before there was a demo password that
    password)."""
    session = uow.session
    client_id = ensure_demo_client(uow)
    director_email = f"{_CLINICAL_DIRECTORS['North Riverside PCN'][1]}@{DEMO_DOMAIN}"
    existing = session.scalar(
        select(Organisation).where(
            Organisation.kind == OrganisationKind.federation, Organisation.name == DEMO_FEDERATION
        )
    )
    if existing is not None:
        ensure_demo_passwords(uow)
        count = len(
            session.scalars(select(Person.id).where(Person.email.like(f"%@{DEMO_DOMAIN}"))).all()
        )
        return DemoSummary(False, existing.id, count, director_email, client_id)

    federation = Organisation(kind=OrganisationKind.federation, name=DEMO_FEDERATION)
    session.add(federation)
    session.flush()
    people: list[Person] = []
    password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose

    def person(name: str, local: str, group: StaffGroup, org: Organisation, role: Role) -> Person:
        p = Person(
            email=f"{local}@{DEMO_DOMAIN}",
            name=name,
            staff_group=group,
            password_hash=password_hash,
        )
        session.add(p)
        session.flush()
        session.add(Membership(person_id=p.id, organisation_id=org.id, role=role))
        people.append(p)
        return p

    person("Fiona Reid", "fiona.reid", StaffGroup.management, federation, Role.admin)
    names = iter(_NAMES)
    pcns: dict[str, Organisation] = {}
    practices: dict[str, Organisation] = {}
    for pcn_name, practice_names in _PCNS.items():
        pcn = Organisation(kind=OrganisationKind.pcn, name=pcn_name, parent_id=federation.id)
        session.add(pcn)
        session.flush()
        pcns[pcn_name] = pcn
        progress(f"  {pcn_name}")
        director, local = _CLINICAL_DIRECTORS[pcn_name]
        cd = person(director, local, StaffGroup.gp, pcn, Role.admin)
        for practice_name in practice_names:
            practice = Organisation(
                kind=OrganisationKind.practice, name=practice_name, parent_id=pcn.id
            )
            session.add(practice)
            session.flush()
            practices[practice_name] = practice
            progress(f"    {practice_name}")
            # The clinical director also works at the first practice of their PCN.
            if practice_name == practice_names[0]:
                session.add(
                    Membership(person_id=cd.id, organisation_id=practice.id, role=Role.member)
                )
            staff = [(g, t, r) for g, t, r in _PRACTICE_STAFF] + [
                (g, t, Role.member) for g, t in _EXTRA.get(practice_name, [])
            ]
            for group, _title, role in staff:
                first, last = next(names)
                person(f"{first} {last}", f"{first}.{last}".lower(), group, practice, role)
    session.flush()
    progress("  shared problems and the Workflow workstream")
    seed_demo_content(uow, practices, pcns[DEMO_PCN], director_email)
    return DemoSummary(True, federation.id, len(people), director_email, client_id)
