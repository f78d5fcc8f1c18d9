"""The bench network's organisations and people: a federation, its PCNs, practices spread
unevenly over them, and staff of varied size and mix, each practice led by its manager.

Generated rows only (by column name); `bench` writes them. Draws come from the caller's seeded
random generator, in a fixed order: changing that order changes the whole data set."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from network.errors import Invalid
from network.organisations.models import OrganisationKind
from network.people.models import Role, StaffGroup
from network.seed.bulk import Row
from network.seed.chance import Weighted

DOMAIN = "bench.example"

_STAFF = Weighted(
    (StaffGroup.gp, 16),
    (StaffGroup.nurse, 14),
    (StaffGroup.reception, 20),
    (StaffGroup.administration, 14),
    (StaffGroup.hca, 8),
    (StaffGroup.pharmacist, 5),
    (StaffGroup.allied_health, 6),
    (StaffGroup.billing, 4),
    (StaffGroup.management, 5),
    (StaffGroup.other, 8),
)
_FIRST = [
    "Amy",
    "Tariq",
    "Lucy",
    "Sam",
    "Priya",
    "Owen",
    "Grace",
    "Ravi",
    "Ellen",
    "Kwame",
    "Niamh",
    "Leah",
    "Idris",
    "Maya",
    "Joe",
    "Hannah",
    "Yusuf",
    "Carys",
    "Ben",
    "Zara",
    "Callum",
    "Aisha",
    "Rhys",
    "Ola",
    "Kate",
    "Dev",
    "Fiona",
    "Tom",
    "Amira",
    "Sian",
    "Marek",
    "Chloe",
    "Imran",
    "Ruth",
]
_LAST = [
    "Fletcher",
    "Malik",
    "Dunn",
    "Hughes",
    "Shah",
    "Price",
    "Adeyemi",
    "Kumar",
    "Walsh",
    "Mensah",
    "Byrne",
    "Cohen",
    "Khan",
    "Green",
    "Turner",
    "Lewis",
    "Ali",
    "Evans",
    "Wright",
    "Hussain",
    "Reid",
    "Begum",
    "Morgan",
    "Nowak",
    "Brennan",
    "Mistry",
    "Patel",
    "Okafor",
]
_PLACES = [
    "Castle Street",
    "Millbrook",
    "Oakfield",
    "Harbour View",
    "Stonebridge",
    "Riverside",
    "Park Lane",
    "Hillside",
    "Market Square",
    "Abbey Road",
    "Station Road",
    "Church Lane",
    "Orchard",
    "Meadowbank",
    "Valley",
    "Greenway",
    "Bridge End",
    "Westgate",
    "Northfield",
    "Southmead",
]
_KINDS = ["Surgery", "Medical Centre", "Practice", "Health Centre", "Family Practice"]


@dataclass(frozen=True)
class Organisations:
    """The federation, its PCNs and practices, and the rows that create them."""

    federation_id: int
    pcn_ids: list[int]
    practice_ids: list[int]
    pcn_of: dict[int, int]  # practice -> its PCN
    practices_of: dict[int, list[int]]  # PCN -> its practices, the first one first
    rows: list[Row]


@dataclass(frozen=True)
class Staff:
    """The people of each practice, and the rows that create them and their memberships."""

    people_of: dict[int, list[int]]  # practice -> its people, the practice manager first
    member_email: str  # a plain member of the first practice: the benchmark user
    people: list[Row]
    memberships: list[Row]


def organisations(
    rng: random.Random,
    *,
    scale: str,
    federation: str,
    pcns: int,
    practices: int,
    first_id: int,
    founded: datetime,
) -> Organisations:
    """A federation named `federation`, `pcns` PCNs and `practices` practices spread unevenly
    over them (every PCN has at least one), with ids from `first_id`."""
    federation_id = first_id
    pcn_ids = list(range(federation_id + 1, federation_id + 1 + pcns))
    practice_ids = list(range(pcn_ids[-1] + 1, pcn_ids[-1] + 1 + practices))
    pcn_of: dict[int, int] = {}
    for i, practice in enumerate(practice_ids):
        pcn_of[practice] = pcn_ids[i] if i < len(pcn_ids) else rng.choice(pcn_ids)
    practices_of: dict[int, list[int]] = {pcn: [] for pcn in pcn_ids}
    for practice in practice_ids:
        practices_of[pcn_of[practice]].append(practice)

    def organisation(id_: int, kind: OrganisationKind, name: str, parent: int | None) -> Row:
        return {
            "id": id_,
            "kind": kind.value,
            "name": name,
            "parent_id": parent,
            "active": True,
            "created_at": founded,
            "updated_at": founded,
        }

    rows = [organisation(federation_id, OrganisationKind.federation, federation, None)]
    for n, pcn in enumerate(pcn_ids, 1):
        name = f"{rng.choice(_PLACES)} PCN {scale}-{n:03}"
        rows.append(organisation(pcn, OrganisationKind.pcn, name, federation_id))
    for n, practice in enumerate(practice_ids, 1):
        name = f"{rng.choice(_PLACES)} {rng.choice(_KINDS)} {scale}-{n:04}"
        rows.append(organisation(practice, OrganisationKind.practice, name, pcn_of[practice]))
    return Organisations(federation_id, pcn_ids, practice_ids, pcn_of, practices_of, rows)


def staff(
    rng: random.Random,
    orgs: Organisations,
    *,
    scale: str,
    people: int,
    first_id: int,
    founded: datetime,
) -> Staff:
    """`people` people over the practices, sized log-normally, each practice with at least its
    manager (who administers it) and one more. The clinical directors administer their PCN
    (staying members of their practice); the first practice manager administers the federation."""
    practice_ids = orgs.practice_ids
    sizes = [rng.lognormvariate(0, 0.5) for _ in practice_ids]
    total = sum(sizes)
    spare = people - 2 * len(practice_ids)
    if spare < 0:
        raise Invalid("a scale needs at least two people per practice.")
    counts = [2 + int(spare * s / total) for s in sizes]
    counts[0] += people - sum(counts)
    person_id = first_id
    people_of: dict[int, list[int]] = {}
    person_rows: list[Row] = []
    member_rows: list[Row] = []
    member_email = ""
    for practice, count in zip(practice_ids, counts, strict=True):
        people_of[practice] = []
        for k in range(count):
            group = StaffGroup.management if k == 0 else _STAFF.draw(rng)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}.{scale}{person_id}@{DOMAIN}".lower()
            joined = founded + timedelta(days=rng.uniform(0, 200))
            person_rows.append(
                {
                    "id": person_id,
                    "email": email,
                    "name": f"{first} {last}",
                    "staff_group": str(group),
                    "is_superuser": False,
                    "is_active": True,
                    "totp_enabled": False,
                    "created_at": joined,
                }
            )
            role = Role.admin if k == 0 else Role.member
            member_rows.append(_membership(person_id, practice, role, joined))
            if practice == practice_ids[0] and k == 1:
                member_email = email
            people_of[practice].append(person_id)
            person_id += 1
    for pcn in orgs.pcn_ids:
        director = people_of[orgs.practices_of[pcn][0]][0]
        member_rows.append(_membership(director, pcn, Role.admin, founded))
    manager = people_of[practice_ids[0]][0]
    member_rows.append(_membership(manager, orgs.federation_id, Role.admin, founded))
    return Staff(people_of, member_email, person_rows, member_rows)


def _membership(person: int, organisation: int, role: Role, at: datetime) -> Row:
    return {
        "person_id": person,
        "organisation_id": organisation,
        "role": str(role),
        "created_at": at,
    }
