"""Content versions by scope, and read results remembered for as long as theirs stand.

Why a remembered result is never stale
--------------------------------------
`content_scope` holds one number per scope. The database itself raises a scope's number, in the
same transaction as any change to a table that what people read is made of: triggers of
migration 0021, so no code path can forget to. The scopes are as narrow as what reads depend on:

- `b<id>`: board <id>'s content: the problems on it, their tags and their signals ("we have
  this too"), and its organisation's library: entries, their tags, versions and adoptions
  (migration 0022). A problem or an entry moved between boards raises both.
- `w<id>`: workstream <id> and everything of it: the practices taking part, the problems it
  took on, actions, check-ins, huddles, measures and their points, its thread's activity (the
  agenda's signals), and the library entries that came from it (migration 0022).
- `p<id>`: person <id>'s access: their memberships (the boards they read, their roles).
- `all`: everything else a read shows or is decided by: organisations (names, and the tree that
  says which boards a member reads) and people (names, whether they are active). These change
  seldom, and a change to them may show anywhere, so it raises the one scope every remembered
  read depends on.

A read names its scopes with its key (`UnitOfWork.cached`): the hot list and a library search
depend on `all` and the boards their reader reads (their practice's, their PCN's, their
federation's); a principal on `all` and its person's `p`; a workstream's page, its actions, its
agenda and its charts on its `w`, the reader's boards (the problems it took on that they read)
and the reader's `p` (what they may do there). Its result is remembered with the numbers of
those scopes read *before* the query ran. Every committed change the query could not see has
raised one of them (the trigger commits with the change), so while they all still stand the
result is current; a
change on a board the reader does not read raises another number and leaves it alone: a
practice in Kent posting no longer empties Sussex's results, nor a signal on one PCN's board
the results of the federation's other PCNs. On PostgreSQL a raise runs at commit (deferred
constraint triggers) and once per scope per transaction; the row lock it takes is held only
while the transaction commits, so writers on one board queue for it briefly and writers on
different boards never meet. On SQLite, which has one writer at a time anyway, it runs with
each change.

A scope's row is created by its first raise; no row reads as 0. Numbers only grow, but a
restored database may hold lower ones: an entry is served only at exactly the numbers it was
stored with. `ReadCache` keeps results per process, each under the exact key it was computed
for (callers put the person and everything the result depends on in it), evicting the least
recently used past its size. It never serves a result to a key it was not computed for, so it
cannot widen what anyone reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TypeVar

from sqlalchemy import BigInteger, Engine, String, bindparam, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from network.db import Base

T = TypeVar("T")

# Tables whose rows what people read is made of; each has a scope-raising trigger (migrations
# 0021 and 0022; a test checks that every table the remembered reads select from is here).
VERSIONED_TABLES = (
    "problem",
    "problem_tag",
    "affected_practice",
    "organisation",
    "person",
    "membership",
    "workstream",
    "workstream_practice",
    "workstream_problem",
    "workstream_action",
    "workstream_check_in",
    "workstream_meeting",
    "measure",
    "measure_point",
    "library_entry",
    "library_tag",
    "library_version",
    "library_adoption",
    "activity",
)
EVERYTHING = "all"

Versions = tuple[tuple[str, int], ...]


def board(board_id: int) -> str:
    return f"b{board_id}"


def person(person_id: int) -> str:
    return f"p{person_id}"


def workstream(workstream_id: int) -> str:
    return f"w{workstream_id}"


class ContentScope(Base):
    __tablename__ = "content_scope"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


_VERSIONS = select(ContentScope.scope, ContentScope.version).where(
    ContentScope.scope.in_(bindparam("scopes", expanding=True))
)


def read_versions(session: Session, scopes: Iterable[str]) -> dict[str, int]:
    """The scopes' numbers, as the session's transaction sees them (0 for a scope never raised)."""
    wanted = sorted(set(scopes))
    session.flush()  # Core below: pending changes first (free when there are none)
    rows = session.connection().execute(_VERSIONS, {"scopes": wanted}).all()
    found = {scope: version for scope, version in rows}
    return {scope: found.get(scope, 0) for scope in wanted}


def read_versions_outside_transaction(engine: Engine, scopes: Iterable[str]) -> dict[str, int]:
    """The scopes' numbers, on a pooled connection outside any transaction: a request whose
    reads are all remembered then opens no transaction at all (no BEGIN, no COMMIT: one round
    trip)."""
    wanted = sorted(set(scopes))
    pooled = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            driver = pooled.driver_connection
            if driver is None:  # only once the pool has invalidated it, never on checkout
                raise RuntimeError("a pooled connection just checked out has no driver connection")
            driver.autocommit = True  # a single statement is its own transaction
            try:
                return read_versions_in_autocommit(driver, wanted)
            finally:
                driver.autocommit = False
        else:
            cursor = pooled.cursor()  # SQLite: the connection begins nothing by itself (db.py)
            try:
                marks = ", ".join("?" for _ in wanted)
                rows = cursor.execute(
                    f"SELECT scope, version FROM content_scope WHERE scope IN ({marks})",  # noqa: S608 - placeholders only
                    wanted,
                ).fetchall()
            finally:
                cursor.close()
    finally:
        pooled.close()
    found = dict(rows)
    return {scope: found.get(scope, 0) for scope in wanted}


def read_versions_in_autocommit(driver, scopes: Iterable[str]) -> dict[str, int]:
    """The scopes' numbers, on a psycopg connection (PostgreSQL) in autocommit: one statement,
    its own transaction."""
    wanted = sorted(set(scopes))
    rows = driver.execute(
        "SELECT scope, version FROM content_scope WHERE scope = ANY(%s)", (wanted,)
    ).fetchall()
    found = dict(rows)
    return {scope: found.get(scope, 0) for scope in wanted}


class ReadCache:
    """Results of read queries, each kept with the numbers of the scopes it depends on, at most
    `size` of them per process (the least recently used go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Versions, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        versions: Mapping[str, int],
        key: Hashable,
        compute: Callable[[], T],
        usable: Callable[[T], bool] | None = None,
    ) -> T:
        """The result for `key` at the scopes' `versions` (read before `compute` would run):
        remembered at exactly those numbers (and while `usable` says so of it: a result that
        also depends on the time), or computed now and remembered with them."""
        stamp = tuple(sorted(versions.items()))
        with self._lock:
            found = self._entries.get(key)
            if (
                found is not None and found[0] == stamp and (usable is None or usable(found[1]))  # type: ignore[arg-type]
            ):
                self._entries.move_to_end(key)
                return found[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = (stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> object | None:
        """The value remembered under `key`, whatever its numbers (a hint, never served)."""
        with self._lock:
            found = self._entries.get(key)
        return found[1] if found is not None else None

    def clear(self) -> None:
        """Forget everything (what a process just started has)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# A unit that has written reads its own changes, which no version number covers yet. It writes
# by flushing objects, or by executing INSERT, UPDATE or DELETE through the session (counters).
@event.listens_for(Session, "after_flush")
def _mark_flushed(session: Session, _context) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _mark_executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def has_written(session: Session) -> bool:
    return bool(session.info.get("wrote"))
