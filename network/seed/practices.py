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
from network.organisations.ods.names import display_name
from network.organisations.ods.parsing import PracticeRecord, PracticeStatus
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
    """The federations, their PCNs and practices, and the rows that create them."""

    federation_id: int  # the first federation: the benchmark's own
    pcn_ids: list[int]
    practice_ids: list[int]
    pcn_of: dict[int, int]  # practice -> its PCN
    practices_of: dict[int, list[int]]  # PCN -> its practices, the first one first
    rows: list[Row]
    federation_of: dict[int, int]  # PCN -> its federation
    practices_in: dict[int, list[int]]  # federation -> its practices, the first one first

    @property
    def federation_ids(self) -> list[int]:
        return list(self.practices_in)


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

    kinds = OrganisationKind
    rows = [_organisation(federation_id, kinds.federation, federation, None, founded)]
    for n, pcn in enumerate(pcn_ids, 1):
        name = f"{rng.choice(_PLACES)} PCN {scale}-{n:03}"
        rows.append(_organisation(pcn, kinds.pcn, name, federation_id, founded))
    for n, practice in enumerate(practice_ids, 1):
        name = f"{rng.choice(_PLACES)} {rng.choice(_KINDS)} {scale}-{n:04}"
        rows.append(_organisation(practice, kinds.practice, name, pcn_of[practice], founded))
    return Organisations(
        federation_id,
        pcn_ids,
        practice_ids,
        pcn_of,
        practices_of,
        rows,
        federation_of={pcn: federation_id for pcn in pcn_ids},
        practices_in={federation_id: practice_ids},
    )


def national(
    rng: random.Random,
    records: list[PracticeRecord],
    *,
    federation: str,
    federations: int,
    first_id: int,
    founded: datetime,
) -> Organisations:
    """The country's active GP practices from an epraccur file, real codes, names and
    addresses, grouped into synthetic PCNs of realistic size (neighbours by postcode within
    their commissioner, 2 to about 15 practices, 5.5 on average) under `federations`
    federations of about equal size (whole commissioners, in the file's regional order). The
    first federation is named `federation`, the others `federation` and a number."""
    active = [r for r in records if r.is_gp_practice and r.status == PracticeStatus.active]
    if len(active) < 2 * federations:
        raise Invalid(f"the file has {len(active)} active GP practices: too few to group.")
    by_commissioner: dict[str, list[PracticeRecord]] = {}
    for record in sorted(active, key=lambda r: (r.region, r.commissioner, r.postcode, r.code)):
        by_commissioner.setdefault(record.commissioner, []).append(record)
    groups = _split_evenly(list(by_commissioner.values()), federations)

    next_id = first_id
    rows: list[Row] = []
    pcn_ids: list[int] = []
    practice_ids: list[int] = []
    pcn_of: dict[int, int] = {}
    practices_of: dict[int, list[int]] = {}
    federation_of: dict[int, int] = {}
    practices_in: dict[int, list[int]] = {}
    pcn_number = 0
    for k, commissioners in enumerate(groups, 1):
        federation_id = next_id
        next_id += 1
        name = federation if k == 1 else f"{federation}-{k:02}"
        rows.append(_organisation(federation_id, OrganisationKind.federation, name, None, founded))
        practices_in[federation_id] = []
        for members in commissioners:
            for chunk in _pcn_chunks(rng, members):
                pcn_id = next_id
                next_id += 1
                pcn_number += 1
                lines = chunk[0].address_lines  # ..., town, county: the town names the PCN
                town = display_name(lines[-2] if len(lines) > 2 else lines[-1]) if lines else ""
                pcn_name = f"{town or 'Central'} PCN {pcn_number:04}"
                rows.append(
                    _organisation(pcn_id, OrganisationKind.pcn, pcn_name, federation_id, founded)
                )
                pcn_ids.append(pcn_id)
                federation_of[pcn_id] = federation_id
                practices_of[pcn_id] = []
                for record in chunk:
                    practice_id = next_id
                    next_id += 1
                    row = _organisation(
                        practice_id,
                        OrganisationKind.practice,
                        display_name(record.name),
                        pcn_id,
                        founded,
                    )
                    row["ods_code"] = record.code
                    row["source_name"] = record.name.strip()
                    row["address"] = (
                        ", ".join(display_name(line) for line in record.address_lines) or None
                    )
                    row["postcode"] = record.postcode or None
                    rows.append(row)
                    practice_ids.append(practice_id)
                    pcn_of[practice_id] = pcn_id
                    practices_of[pcn_id].append(practice_id)
                    practices_in[federation_id].append(practice_id)
    return Organisations(
        first_id,
        pcn_ids,
        practice_ids,
        pcn_of,
        practices_of,
        _alike_columns(rows),
        federation_of=federation_of,
        practices_in=practices_in,
    )


def _split_evenly(
    commissioners: list[list[PracticeRecord]], parts: int
) -> list[list[list[PracticeRecord]]]:
    """Consecutive commissioners into `parts` groups of about equal practice counts (each
    group at least one commissioner; a large commissioner may make its group larger)."""
    if len(commissioners) < parts:
        # Fewer commissioners than federations (a small file): split by practices instead.
        flat = [r for group in commissioners for r in group]
        size = -(-len(flat) // parts)
        return [[flat[i : i + size]] for i in range(0, len(flat), size)]
    total = sum(len(c) for c in commissioners)
    groups: list[list[list[PracticeRecord]]] = [[]]
    before = 0  # practices in the groups closed so far
    current = 0  # practices in the open group
    for i, members in enumerate(commissioners):
        still_to_open = parts - len(groups)
        if groups[-1] and still_to_open > 0:
            fair = (total - before) / (still_to_open + 1)
            # Close the group when this commissioner would take it further past its fair
            # share than it now falls short.
            if current + len(members) / 2 > fair or len(commissioners) - i <= still_to_open:
                groups.append([])
                before += current
                current = 0
        groups[-1].append(members)
        current += len(members)
    return groups


def _pcn_chunks(rng: random.Random, members: list[PracticeRecord]) -> list[list[PracticeRecord]]:
    """Neighbouring practices (the list is in postcode order) in PCNs of 2 or more, 5.5 on
    average; a commissioner with one practice gives a PCN of one."""
    chunks: list[list[PracticeRecord]] = []
    i = 0
    while i < len(members):
        size = 2 + int(rng.gammavariate(2.0, 2.2))
        chunks.append(members[i : i + size])
        i += size
    if len(chunks) > 1 and len(chunks[-1]) < 2:
        chunks[-2].extend(chunks.pop())
    return chunks


def _organisation(
    id_: int, kind: OrganisationKind, name: str, parent: int | None, at: datetime
) -> Row:
    return {
        "id": id_,
        "kind": kind.value,
        "name": name,
        "parent_id": parent,
        "active": True,
        "created_at": at,
        "updated_at": at,
    }


def _alike_columns(rows: list[Row]) -> list[Row]:
    """Every row with every column (the bulk writer takes the first row's columns)."""
    extra = {"ods_code": None, "source_name": None, "address": None, "postcode": None}
    return [{**extra, **row} for row in rows]


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
    for federation, members in orgs.practices_in.items():
        manager = people_of[members[0]][0]
        member_rows.append(_membership(manager, federation, Role.admin, founded))
    return Staff(people_of, member_email, person_rows, member_rows)


def _membership(person: int, organisation: int, role: Role, at: datetime) -> Row:
    return {
        "person_id": person,
        "organisation_id": organisation,
        "role": str(role),
        "created_at": at,
    }
