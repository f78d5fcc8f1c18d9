"""Reading the library: lists and search in a constant number of statements, an entry with its
adoption counts and what the reader's practice did with it, versions and adoptions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.access import library as rules
from network.errors import Invalid, NotFound
from network.library.models import (
    Adoption,
    AdoptionStatus,
    EntryStatus,
    LibraryEntry,
    LibraryTag,
    LibraryVersion,
)
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.people.models import Person
from network.problems import queries as problem_queries
from network.uow import UnitOfWork
from network.workstreams import queries as workstream_queries

_ORG = aliased(Organisation, name="library_org")
_AUTHOR = aliased(Person, name="library_author")

# Written out so PostgreSQL uses the GIN index of migration 0017 (same expression, same literals).
SEARCH_DOCUMENT: ColumnElement[Any] = literal_column(
    "to_tsvector('english', coalesce(library_entry.title, '') || ' ' || "
    "coalesce(library_entry.summary, '') || ' ' || coalesce(library_entry.body, ''))"
)
SORTS = ("updated", "new", "adopted", "relevance")
# Ranks are fractions; the keyset carries them as whole millionths, compared the same way.
_RANK_SCALE = 1_000_000


@dataclass(frozen=True)
class MyAdoption:
    practice_id: int
    status: AdoptionStatus
    version: int
    newer_version: int | None


@dataclass(frozen=True)
class Source:
    type: str  # "problem" | "workstream"
    id: int
    title: str


@dataclass(frozen=True)
class EntryView:
    entry: LibraryEntry
    organisation: Organisation
    author: Person
    rights: rules.Rights
    adoption_counts: dict[str, int] = field(default_factory=dict)
    my_practice_adoption: MyAdoption | None = None
    source: Source | None = None
    # The versions after the one the reader's practice adopted: what changed since.
    changes_since_my_version: Sequence[LibraryVersion] = ()


def _select() -> Select:
    return (
        select(LibraryEntry, _ORG, _AUTHOR)
        .join(_ORG, _ORG.id == LibraryEntry.organisation_id)
        .join(_AUTHOR, _AUTHOR.id == LibraryEntry.author_id)
    )


def get(uow: UnitOfWork, principal: Principal, entry_id: int) -> EntryView:
    """An entry the principal may read (drafts: author and moderators; hidden: moderators)."""
    row = uow.session.execute(
        _select().where(
            LibraryEntry.id == entry_id,
            LibraryEntry.organisation_id.in_(sorted(access.readable_board_ids(principal))),
        )
    ).first()
    if row is None:
        raise NotFound(f"Library entry {entry_id} not found.")
    entry, organisation, author = row
    rights = rules.rights(uow.session, principal, entry)
    if not rights.read:
        raise NotFound(f"Library entry {entry_id} not found.")
    return EntryView(entry, organisation, author, rights)


def detail(uow: UnitOfWork, principal: Principal, entry_id: int) -> EntryView:
    """An entry as its page shows it: counts, the reader's practice's adoption and what changed
    since the version it took, and its source when the reader reads that too."""
    view = get(uow, principal, entry_id)
    counts, mine = _adoptions(uow, principal, [view.entry])
    my = mine.get(view.entry.id)
    changes: Sequence[LibraryVersion] = ()
    if my is not None and my.newer_version is not None:
        changes = uow.session.scalars(
            select(LibraryVersion)
            .where(LibraryVersion.entry_id == view.entry.id, LibraryVersion.number > my.version)
            .order_by(LibraryVersion.number)
        ).all()
    return EntryView(
        view.entry,
        view.organisation,
        view.author,
        view.rights,
        counts.get(view.entry.id, _zero()),
        my,
        _source(uow, principal, view.entry),
        changes,
    )


def _source(uow: UnitOfWork, principal: Principal, entry: LibraryEntry) -> Source | None:
    try:
        if entry.source_problem_id is not None:
            problem = problem_queries.get(uow, principal, entry.source_problem_id).problem
            return Source("problem", problem.id, problem.title)
        if entry.source_workstream_id is not None:
            ws = workstream_queries.get(uow, principal, entry.source_workstream_id).workstream
            return Source("workstream", ws.id, ws.title)
    except NotFound:
        pass  # a source the reader does not read is not named to them
    return None


def _zero() -> dict[str, int]:
    return {s.value: 0 for s in AdoptionStatus}


def _adoptions(
    uow: UnitOfWork, principal: Principal, entries: Sequence[LibraryEntry]
) -> tuple[dict[int, dict[str, int]], dict[int, MyAdoption]]:
    """Adoption counts of a page of entries, and the reader's practices' adoptions of them: two
    statements, whatever the page size."""
    ids = [e.id for e in entries]
    counts: dict[int, dict[str, int]] = {i: _zero() for i in ids}
    mine: dict[int, MyAdoption] = {}
    if not ids:
        return counts, mine
    rows = uow.session.execute(
        select(Adoption.entry_id, Adoption.status, func.count())
        .where(Adoption.entry_id.in_(ids))
        .group_by(Adoption.entry_id, Adoption.status)
    )
    for entry_id, status, n in rows:
        counts[entry_id][AdoptionStatus(status).value] = n
    if principal.practices:
        latest = {e.id: e.latest_version for e in entries}
        own = uow.session.execute(
            select(Adoption.entry_id, Adoption.practice_id, Adoption.status, Adoption.version)
            .where(
                Adoption.entry_id.in_(ids),
                Adoption.practice_id.in_(sorted(principal.practices)),
            )
            .order_by(Adoption.entry_id, Adoption.practice_id)
        )
        for entry_id, practice_id, status, version in own:
            if entry_id in mine:
                continue  # several of the reader's practices: the first one's
            newer = latest[entry_id] if latest[entry_id] > version else None
            mine[entry_id] = MyAdoption(practice_id, AdoptionStatus(status), version, newer)
    return counts, mine


def _keys(sort: str, rank: ColumnElement[Any] | None) -> tuple[tuple, tuple[type, ...]]:
    if sort == "relevance" and rank is not None:
        return (rank, LibraryEntry.id), (int, int)
    if sort == "new":
        return (LibraryEntry.created_at, LibraryEntry.id), (datetime, int)
    if sort == "adopted":
        return (
            (LibraryEntry.adopted_count, LibraryEntry.updated_at, LibraryEntry.id),
            (int, datetime, int),
        )
    return (LibraryEntry.updated_at, LibraryEntry.id), (datetime, int)


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    status: EntryStatus | None = None,
    sort: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[EntryView]:
    """Entries in every library the principal reads: three statements whatever the page size
    (the page, its adoption counts, the reader's practices' adoptions). With `q`, PostgreSQL
    searches its full-text index and ranks (`sort=relevance`, the default with `q`); SQLite
    finds entries holding every word."""
    sort = sort or ("relevance" if q else "updated")
    if sort not in SORTS:
        raise Invalid(f"sort is one of {', '.join(SORTS)}.", field="sort", location="query")
    if sort == "relevance" and not q:
        raise Invalid("sort=relevance needs q.", field="sort", location="query")
    moderated = rules.moderated_boards(uow.session, principal)
    stmt = _select().where(rules.listed(principal, moderated))
    if organisation_id is not None:
        stmt = stmt.where(LibraryEntry.organisation_id == organisation_id)
    if status is not None:
        stmt = stmt.where(LibraryEntry.status == status)
    if tag:
        stmt = stmt.where(
            select(LibraryTag.entry_id)
            .where(LibraryTag.entry_id == LibraryEntry.id, LibraryTag.tag == tag.lower())
            .exists()
        )
    rank = None
    if q:
        if uow.session.get_bind().dialect.name == "postgresql":
            query = func.websearch_to_tsquery(literal_column("'english'"), q)
            stmt = stmt.where(SEARCH_DOCUMENT.op("@@")(query))
            rank = cast(func.ts_rank(SEARCH_DOCUMENT, query) * _RANK_SCALE, Integer)
        else:
            stmt = stmt.where(_words_match(q))
    keys, types = _keys(sort, rank)
    by_rank = sort == "relevance" and rank is not None
    if rank is not None and by_rank:
        stmt = stmt.add_columns(rank.label("rank"))
    after = decode_cursor(cursor, types)
    if after is not None:
        stmt = stmt.where(tuple_(*keys) < tuple_(*after))
    rows = uow.session.execute(stmt.order_by(*(k.desc() for k in keys)).limit(limit + 1)).all()
    counts, mine = _adoptions(uow, principal, [r[0] for r in rows[:limit]])
    reading = rules.Rights(read=True, edit=False, moderate=False)
    views = [
        (
            EntryView(
                row[0], row[1], row[2], reading, counts.get(row[0].id, _zero()), mine.get(row[0].id)
            ),
            row[3] if by_rank else None,
        )
        for row in rows
    ]

    def key(item: tuple[EntryView, int | None]) -> tuple:
        entry, score = item[0].entry, item[1]
        if by_rank:
            return (score, entry.id)
        if sort == "new":
            return (entry.created_at, entry.id)
        if sort == "adopted":
            return (entry.adopted_count, entry.updated_at, entry.id)
        return (entry.updated_at, entry.id)

    page = page_from_rows(views, limit, key)
    return Page([v for v, _ in page.items], page.next_cursor)


def _words_match(q: str) -> ColumnElement[bool]:
    """Search without PostgreSQL: every word must appear in the title, summary or body."""
    words = [w for w in re.split(r"\W+", q.lower()) if w]
    if not words:
        return LibraryEntry.id.is_(None)
    text = func.lower(LibraryEntry.title + " " + LibraryEntry.summary + " " + LibraryEntry.body)
    return and_(*(text.contains(w, autoescape=True) for w in words))


def entries_from(
    uow: UnitOfWork,
    principal: Principal,
    *,
    problem_id: int | None = None,
    workstream_id: int | None = None,
) -> Sequence[Any]:
    """The entries the reader sees that name a problem or workstream as their source (its page
    shows them): rows of id, title, status."""
    moderated = rules.moderated_boards(uow.session, principal)
    source = (
        LibraryEntry.source_problem_id == problem_id
        if problem_id is not None
        else LibraryEntry.source_workstream_id == workstream_id
    )
    return uow.session.execute(
        select(LibraryEntry.id, LibraryEntry.title, LibraryEntry.status)
        .where(source, rules.listed(principal, moderated))
        .order_by(LibraryEntry.id)
    ).all()


@dataclass(frozen=True)
class VersionView:
    version: LibraryVersion
    author: Person


def versions(
    uow: UnitOfWork, principal: Principal, entry_id: int, *, limit: int, cursor: str | None = None
) -> Page[VersionView]:
    """An entry's versions, newest first."""
    get(uow, principal, entry_id)
    stmt = (
        select(LibraryVersion, Person)
        .join(Person, Person.id == LibraryVersion.author_id)
        .where(LibraryVersion.entry_id == entry_id)
    )
    after = decode_cursor(cursor, (int,))
    if after is not None:
        stmt = stmt.where(LibraryVersion.number < after[0])
    rows = uow.session.execute(stmt.order_by(LibraryVersion.number.desc()).limit(limit + 1)).all()
    views = [VersionView(v, p) for v, p in rows]
    return page_from_rows(views, limit, lambda r: (r.version.number,))


def version(uow: UnitOfWork, principal: Principal, entry_id: int, number: int) -> VersionView:
    get(uow, principal, entry_id)
    row = uow.session.execute(
        select(LibraryVersion, Person)
        .join(Person, Person.id == LibraryVersion.author_id)
        .where(LibraryVersion.entry_id == entry_id, LibraryVersion.number == number)
    ).first()
    if row is None:
        raise NotFound(f"Version {number} not found.", field="number")
    return VersionView(row[0], row[1])


def practice(uow: UnitOfWork, practice_id: int) -> Organisation:
    return uow.session.get_one(Organisation, practice_id)


@dataclass(frozen=True)
class AdoptionView:
    adoption: Adoption
    practice: Organisation


def adoptions(
    uow: UnitOfWork, principal: Principal, entry_id: int, *, limit: int, cursor: str | None = None
) -> Page[AdoptionView]:
    """What each practice did with an entry, by practice name."""
    get(uow, principal, entry_id)
    stmt = (
        select(Adoption, Organisation)
        .join(Organisation, Organisation.id == Adoption.practice_id)
        .where(Adoption.entry_id == entry_id)
    )
    after = decode_cursor(cursor, (str, int))
    if after is not None:
        stmt = stmt.where(tuple_(Organisation.name, Organisation.id) > tuple_(*after))
    rows = uow.session.execute(
        stmt.order_by(Organisation.name, Organisation.id).limit(limit + 1)
    ).all()
    views = [AdoptionView(a, o) for a, o in rows]
    return page_from_rows(views, limit, lambda v: (v.practice.name, v.practice.id))
