"""What every table of the matrix shares: who asks, on what, and how a row is written.

Expectations are written from API.md, not from the code. Everywhere: without a token every
operation that is not public is 401; acting on a visible organisation without the right is 403;
what the caller may not see is 404, like what does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from network.organisations.models import Organisation
from network.people.models import Person
from tests import factories

PRINCIPALS = (
    "anonymous",  # no token
    "other_federation",  # member of practice4, in federation B
    "other_pcn",  # member of practice3: federation A, PCN 2
    "other_practice",  # member of practice2: PCN 1, like practice1
    "member",  # member of the object's organisation
    "admin",  # admin of the object's organisation
    "pcn_admin",  # admin of the object's PCN (PCN 1; for the federation, a PCN below it)
    "superuser",
)

# The object's kind -> the organisation of the `net` fixture that plays it.
OBJECTS = {"practice": "practice1", "pcn": "pcn1", "federation": "fed_a"}
KINDS = tuple(OBJECTS)

Row = tuple[int, int, int]  # expected status on (practice, pcn, federation)
Table = Mapping[str, Row]


def table(**rows: Row) -> Table:
    """An expectation table: one row per principal, one column per object kind."""
    assert set(rows) == set(PRINCIPALS), f"a table needs exactly the rows {PRINCIPALS}"
    assert all(len(row) == len(KINDS) for row in rows.values())
    return rows


def same_for_all(status: int, *, anonymous: int) -> Table:
    return table(**{p: (anonymous if p == "anonymous" else status,) * 3 for p in PRINCIPALS})


def created(statuses: Table) -> Table:
    """The same table with 201 where it has 200: creating where the caller may read."""
    return table(**{p: tuple(201 if c == 200 else c for c in row) for p, row in statuses.items()})


def expected(statuses: Table, principal: str, kind: str) -> int:
    return statuses[principal][KINDS.index(kind)]


# Public operations: 200 for everyone, token or not.
PUBLIC = same_for_all(200, anonymous=200)

# The signed-in person's own things, and lists of what they may see: 200 for anyone signed in.
SIGNED_IN = same_for_all(200, anonymous=401)


@dataclass
class Scene:
    """One case's world: the network, the object, the caller, and the path parameters the row's
    `arrange` provides beside `organisation_id` (the object's)."""

    net: factories.Network
    kind: str
    principal: str
    caller: Person | None
    target: Organisation
    path: dict[str, int | str] = field(default_factory=dict)
    secret: str = ""  # the app's SECRET_KEY (what unsubscribe tokens are made with)

    @property
    def author(self) -> Person:
        """Who posts the object's content: a plain member of the object's organisation."""
        return self.net.members[OBJECTS[self.kind]]


@dataclass(frozen=True)
class Expect:
    """What one operation must answer, and how to build a valid request for a scene."""

    statuses: Table
    body: Callable[[Scene], dict[str, Any]] | None = None
    query: Callable[[Scene], dict[str, Any]] = field(default=lambda scene: {})
    arrange: Callable[[Scene, Session], None] | None = None  # state the request needs first
    check: Callable[[Scene, Any], None] | None = None  # more assertions on a 2xx answer
    headers: Callable[[Scene], dict[str, str]] = field(default=lambda scene: {})


def is_the_caller(scene: Scene, response) -> None:
    """A check: the answer is the caller's own record."""
    assert response.get_json()["id"] == scene.caller.id


def caller_for(net: factories.Network, principal: str, kind: str) -> Person | None:
    target = OBJECTS[kind]
    return {
        "anonymous": None,
        "other_federation": net.members["practice4"],
        "other_pcn": net.members["practice3"],
        "other_practice": net.members["practice2"],
        "member": net.members[target],
        "admin": net.admins[target],
        "pcn_admin": net.admins["pcn1"],
        "superuser": net.superuser,
    }[principal]
