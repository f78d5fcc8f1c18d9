"""Who may read and act on what: the one place the visibility rules live.

A person *belongs* to the organisations they are a member of and to their ancestors. They read
the boards of the organisations they belong to; a practice's board is therefore for that
practice's people only. They administer the organisations they are an admin of and those
organisations' descendants. Superusers see and administer every organisation, but read content
only where they belong, like everyone else.

Rules that belong to one feature live beside this module, one module per feature
(`network/access/problems.py`); a feature whose content forms threads of activity registers how
to tell whether a reader may still see one (`register_thread`), so the activity feed, digests and
the agenda ask here and never import the features.
"""

from __future__ import annotations

import enum
import importlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    event,
    false,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import SQLCoreOperations

from network.db import DriverSelect
from network.errors import Forbidden, Invalid, NotFound
from network.organisations.models import Organisation, OrganisationKind
from network.people.models import Membership, Person, Role

# An organisation's id followed by its ancestors' ids, nearest first (the tree is at most 3 deep).
Chain = Sequence[int]


class Anonymity(enum.StrEnum):
    """Who a post or an action shows: beside the shown-identity rule that applies it."""

    none = "none"
    person = "person"  # the author is hidden, their practice is shown
    practice = "practice"  # both are hidden: "a practice in this network"


# Built once: making aliases per request costs more than the queries that use them.
_ORG = aliased(Organisation, name="org")
_PARENT = aliased(Organisation, name="parent")
_GRANDPARENT = aliased(Organisation, name="grandparent")


@dataclass(frozen=True)
class Principal:
    person_id: int
    label: str = ""  # how the audit log names them: their email
    is_superuser: bool = False
    roles: dict[int, Role] = field(default_factory=dict)
    belongs: frozenset[int] = frozenset()
    federations: frozenset[int] = frozenset()
    # The practices they are a member of: "my practice" in reads (`my_practice_affected`).
    practices: frozenset[int] = frozenset()
    # Each organisation they belong to with its ancestors (itself, parent, grandparent), from
    # the same rows: the chain of a board they read or a practice of theirs, without a query
    # (`known_chain`).
    chains: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @property
    def admin_of(self) -> frozenset[int]:
        return frozenset(org for org, role in self.roles.items() if role is Role.admin)


# A person and their memberships with each organisation's parent and grandparent, in one
# statement built once (its compiled form is cached; authentication runs it on every request:
# `principal_from` its rows, with the person's id as `person_id`).
# Role and kind are read as their text (no conversion on the way out): the driver runs it as
# it is (`DriverSelect`).
_MEMBERSHIPS = (
    select(
        Person.email,
        Person.is_superuser,
        Person.is_active,
        Membership.organisation_id,
        type_coerce(Membership.role, String).label("role"),
        type_coerce(_ORG.kind, String).label("kind"),
        _ORG.parent_id,
        _PARENT.parent_id,
    )
    .outerjoin(Membership, Membership.person_id == Person.id)
    .outerjoin(_ORG, _ORG.id == Membership.organisation_id)
    .outerjoin(_PARENT, _PARENT.id == _ORG.parent_id)
)
PRINCIPAL = DriverSelect(_MEMBERSHIPS.where(Person.id == bindparam("person_id")))


def principal_of(session: Session, person_id: int, *, active: bool = True) -> Principal | None:
    """The principal of a person, from the person and their memberships in one query; None when
    there is no such person (or, unless `active` is False, when they are deactivated)."""
    session.flush()  # Core below, past the ORM: pending changes first (free when there are none)
    rows = session.connection().execute(PRINCIPAL.statement, {"person_id": person_id}).all()
    return principal_from(rows, person_id, active=active)


def principal_from(rows: Sequence[Any], person_id: int, *, active: bool = True) -> Principal | None:
    """The principal from the rows of `PRINCIPAL` for `person_id` (see `principal_of`)."""
    if not rows or (active and not rows[0][2]):
        return None
    return _principal(person_id, rows)


# The same for many people at once (a digest run's batch): one statement, whatever their number.
_PRINCIPALS = _MEMBERSHIPS.add_columns(Person.id).where(
    Person.id.in_(bindparam("person_ids", expanding=True))
)


def principals_of(session: Session, person_ids: Sequence[int]) -> dict[int, Principal]:
    """The principals of these people, active or not, in one statement; missing ids are left
    out."""
    session.flush()
    by_person: dict[int, list] = {}
    if person_ids:
        found = session.connection().execute(_PRINCIPALS, {"person_ids": sorted(set(person_ids))})
        for *row, person_id in found:
            by_person.setdefault(person_id, []).append(row)
    return {person_id: _principal(person_id, rows) for person_id, rows in by_person.items()}


def _principal(person_id: int, rows: Sequence) -> Principal:
    roles: dict[int, Role] = {}
    practices: set[int] = set()
    chains: dict[int, tuple[int, ...]] = {}
    for _email, _superuser, _active, org_id, role, kind, parent_id, grandparent_id in rows:
        if org_id is None:
            continue  # no memberships: the outer join's single empty row
        chain = [i for i in (org_id, parent_id, grandparent_id) if i is not None]
        roles[org_id] = Role(role)
        for i, organisation_id in enumerate(chain):
            chains[organisation_id] = tuple(chain[i:])
        if kind == OrganisationKind.practice:
            practices.add(org_id)
    # What they belong to is every organisation with a chain; their federations, the chains' tops.
    return Principal(
        person_id=person_id,
        label=rows[0][0],
        is_superuser=rows[0][1],
        roles=roles,
        belongs=frozenset(chains),
        federations=frozenset(chain[-1] for chain in chains.values()),
        practices=frozenset(practices),
        chains=chains,
    )


def load_principal(session: Session, person: Person) -> Principal:
    """The principal of a loaded person, active or not (tests and commands)."""
    principal = principal_of(session, person.id, active=False)
    if principal is None:
        raise LookupError(f"person {person.id} is not in this database")
    return principal


_CHAINS = "access.chains"  # session.info: the chains looked up in this transaction
_CHAIN = (
    select(Organisation.id, _PARENT.id, _GRANDPARENT.id)
    .outerjoin(_PARENT, _PARENT.id == Organisation.parent_id)
    .outerjoin(_GRANDPARENT, _GRANDPARENT.id == _PARENT.parent_id)
    .where(Organisation.id == bindparam("organisation_id"))
)


def chain_of(session: Session, organisation_id: int) -> list[int] | None:
    """The organisation's id and its ancestors' ids, or None when it does not exist: looked up
    once per transaction (a request asks it for moderation rights, the acting practice, ...);
    forgotten when an organisation changes or the transaction ends."""
    chains = session.info.setdefault(_CHAINS, {})
    if organisation_id not in chains:
        row = session.execute(_CHAIN, {"organisation_id": organisation_id}).first()
        chains[organisation_id] = None if row is None else [i for i in row if i is not None]
    chain = chains[organisation_id]
    return None if chain is None else list(chain)


@event.listens_for(Session, "after_flush")
def _forget_chains_when_organisations_change(session: Session, _context) -> None:
    changed = itertools.chain(session.new, session.dirty, session.deleted)
    if any(isinstance(obj, Organisation) for obj in changed):
        session.info.pop(_CHAINS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_chains_with_the_transaction(session: Session, _transaction) -> None:
    session.info.pop(_CHAINS, None)


def known_chain(session: Session, principal: Principal, organisation_id: int) -> list[int] | None:
    """`chain_of`, answered from the principal's own rows for an organisation they belong to
    (a board they read, a practice of theirs): read with their memberships, it is as current as
    what they may read."""
    chain = principal.chains.get(organisation_id)
    return list(chain) if chain is not None else chain_of(session, organisation_id)


def visible_chain(
    session: Session,
    principal: Principal,
    organisation_id: int,
    *,
    what: str = "Organisation",
    field: str | None = None,
) -> list[int]:
    """The chain of an organisation the principal may see, or NotFound (one that does not
    exist and one they may not know of read the same)."""
    chain = chain_of(session, organisation_id)
    if chain is None or not can_see_organisation(principal, chain):
        raise NotFound(f"{what} {organisation_id} not found.", field=field)
    return chain


def can_see_organisation(principal: Principal, chain: Chain) -> bool:
    """Organisations are reference data for everyone in their federation."""
    return principal.is_superuser or chain[-1] in principal.federations


def can_administer(principal: Principal, chain: Chain) -> bool:
    return principal.is_superuser or any(i in principal.admin_of for i in chain)


def can_list_members(principal: Principal, chain: Chain) -> bool:
    """An organisation's own members see each other; so do its administrators."""
    return chain[0] in principal.roles or can_administer(principal, chain)


def can_create_organisation(
    principal: Principal, kind: OrganisationKind, parent_chain: Chain | None
) -> bool:
    if kind is OrganisationKind.federation:
        return principal.is_superuser
    return parent_chain is not None and can_administer(principal, parent_chain)


def can_read_board(principal: Principal, organisation_id: int) -> bool:
    """Content on a board is for the people who belong to its organisation — superusers too."""
    return organisation_id in principal.belongs


def can_post_on_board(principal: Principal, organisation_id: int) -> bool:
    """Posting on a board needs being able to read it, nothing more."""
    return can_read_board(principal, organisation_id)


def can_moderate(session: Session, principal: Principal, board_id: int) -> bool:
    """Administrators of a board who can also read it (a PCN's admins do not read, so do not
    moderate, a practice's board unless they belong to that practice)."""
    if not can_read_board(principal, board_id):
        return False
    chain = known_chain(session, principal, board_id)
    return chain is not None and can_administer(principal, chain)


def acting_practice(session: Session, principal: Principal, board_id: int) -> int | None:
    """The practice a person acts for on a board: the board itself when it is their practice,
    else their practice under it, else their first practice (by id); None without one."""
    practices = sorted(principal.practices)
    if board_id in principal.practices:
        return board_id
    for practice_id in practices:
        if board_id in (known_chain(session, principal, practice_id) or []):
            return practice_id
    return practices[0] if practices else None


def practice_for_write(principal: Principal, practice_id: int | None) -> int:
    """The practice a write is on behalf of ("my practice", API.md): the one named, which must
    be theirs; unnamed, their only practice. Several and none named: Invalid; none: Forbidden."""
    if practice_id is not None:
        if practice_id not in principal.practices:
            raise Forbidden(f"You are not a member of practice {practice_id}.")
        return practice_id
    if not principal.practices:
        raise Forbidden("Only people of a practice act for one.")
    if len(principal.practices) > 1:
        raise Invalid(
            "You belong to several practices: say which one (practice_id).", field="practice_id"
        )
    return next(iter(principal.practices))


def readable_board_ids(principal: Principal) -> frozenset[int]:
    return principal.belongs


def visible_organisations(principal: Principal) -> tuple[ColumnElement[bool], tuple]:
    """A filter on `Organisation` for the organisations the principal may see.

    Returns the condition and the outer joins it needs (parent, grandparent aliases).
    """
    if principal.is_superuser:
        return true(), ()
    if not principal.federations:
        return false(), ()
    parent, grandparent = _PARENT, _GRANDPARENT
    feds = principal.federations
    condition = or_(Organisation.id.in_(feds), parent.id.in_(feds), grandparent.id.in_(feds))
    joins = (
        (parent, parent.id == Organisation.parent_id),
        (grandparent, grandparent.id == parent.parent_id),
    )
    return condition, joins


def administered_organisations(principal: Principal):
    """A SELECT of the ids of the organisations the principal administers (not for superusers)."""
    admin_of = principal.admin_of
    parent = _PARENT
    return (
        select(Organisation.id)
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .where(
            or_(
                Organisation.id.in_(admin_of),
                Organisation.parent_id.in_(admin_of),
                parent.parent_id.in_(admin_of),
            )
        )
    )


# The practice shown beside an author or actor, when their anonymity allows.
SHOWN_PRACTICE = aliased(Organisation, name="shown_practice")


def join_shown_identity(stmt: Select, *, anonymity, person_id, practice_id) -> Select:
    """Outer-join the author (or actor) as `Person` and their practice as `SHOWN_PRACTICE`, only
    where anonymity shows them: a hidden identity is never even loaded, so no response, list or
    digest built from the row can reveal it. `person`: the author hidden, the practice shown;
    `practice`: both hidden."""
    return stmt.outerjoin(
        Person, and_(Person.id == person_id, anonymity == Anonymity.none)
    ).outerjoin(
        SHOWN_PRACTICE,
        and_(SHOWN_PRACTICE.id == practice_id, anonymity != Anonymity.practice),
    )


@dataclass(frozen=True)
class ThreadKind:
    """What the activity feed needs to know of one kind of thread (a problem; later a workstream
    or a library entry), as SQL on the activity row's thread id, so a page is one statement."""

    name: str
    # The thread still shows to readers of its board (not hidden, not deleted, ...).
    still_shown: Callable[[SQLCoreOperations[int]], ColumnElement[bool]]
    # Its current title, as a scalar subquery (joined when read, never stored with the activity).
    title: Callable[[SQLCoreOperations[int]], ColumnElement[str]]
    # The organisation whose people read it (its board, owner or library), as a scalar subquery.
    board: Callable[[SQLCoreOperations[int]], ColumnElement[int]]


_THREADS: dict[str, ThreadKind] = {}
# The per-feature rule modules that register threads: a new feature adds its module here.
_FEATURE_RULES = (
    "network.access.problems",
    "network.access.workstreams",
    "network.access.library",
)


def register_thread(kind: ThreadKind) -> None:
    _THREADS[kind.name] = kind


def thread_kinds() -> Mapping[str, ThreadKind]:
    """Every registered kind of thread (the feature rule modules are loaded on first use)."""
    for module in _FEATURE_RULES:
        importlib.import_module(module)
    return _THREADS


def thread_board(session: Session, principal: Principal, kind: str, thread_id: int) -> int | None:
    """The board of a thread the principal reads and that shows to its readers; None when there
    is no such thread for them (it does not exist, is hidden or a draft, or is not theirs)."""
    thread = thread_kinds().get(kind)
    if thread is None:
        return None
    board = session.scalar(
        select(thread.board(literal(thread_id))).where(thread.still_shown(literal(thread_id)))
    )
    return board if board is not None and can_read_board(principal, board) else None


def thread_columns(
    thread_type: SQLCoreOperations[str], thread_id: SQLCoreOperations[int]
) -> tuple[ColumnElement[bool], ColumnElement[str], ColumnElement[int]]:
    """For rows naming a thread by type and id (activity, follows): whether it still shows to
    its readers, its current title and its board, by the rules each kind registered."""
    kinds = thread_kinds().values()
    shown = or_(*(and_(thread_type == k.name, k.still_shown(thread_id)) for k in kinds))
    title = case({k.name: k.title(thread_id) for k in kinds}, value=thread_type, else_=literal(""))
    board = case({k.name: k.board(thread_id) for k in kinds}, value=thread_type, else_=null())
    return shown, title, board
