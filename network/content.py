"""The content version, and read results remembered for as long as it stands.

`content_version` holds one number. The database itself raises it, in the same transaction as
any change to a table that what people read is made of (problems, their tags, organisations,
people and memberships): triggers of migration 0008, so no code path can forget to. On
PostgreSQL the raise runs at commit (deferred constraint triggers) and once per transaction; the
row lock it takes is held only while the transaction commits, so writers queue for it briefly,
one commit at a time. On SQLite, which has one writer at a time anyway, it runs with each change.

Because the raise commits with the change, a number read before a read query proves the query's
result still current for as long as the number has not moved: every committed change that the
query could not see has raised it. `ReadCache` keeps such results per process, each under the
exact key it was computed for (callers put the person and everything the result depends on in
it) and only for the version it was read at; a new version empties it. It never serves a result
to a key it was not computed for, so it cannot widen what anyone reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import BigInteger, CheckConstraint, Engine, Integer, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from network.db import Base

T = TypeVar("T")

# Tables whose rows what people read is made of; each has the version-raising trigger
# (migration 0008; a test checks that every table the remembered reads select from is here).
VERSIONED_TABLES = (
    "problem",
    "problem_tag",
    "affected_practice",
    "organisation",
    "person",
    "membership",
)


class ContentVersion(Base):
    __tablename__ = "content_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


_VERSION_SQL = "SELECT version FROM content_version WHERE id = 1"


def read_version(session: Session) -> int:
    """The version, as the session's transaction sees it."""
    session.flush()  # Core below: pending changes first (free when there are none)
    return session.connection().exec_driver_sql(_VERSION_SQL).scalar_one()


def read_version_outside_transaction(engine: Engine) -> int:
    """The version, on a pooled connection outside any transaction: a request whose reads are
    all remembered then opens no transaction at all (no BEGIN, no COMMIT: one round trip)."""
    pooled = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            driver = pooled.driver_connection
            if driver is None:  # only once the pool has invalidated it, never on checkout
                raise RuntimeError("a pooled connection just checked out has no driver connection")
            driver.autocommit = True  # a single statement is its own transaction
            try:
                return driver.execute(_VERSION_SQL).fetchone()[0]
            finally:
                driver.autocommit = False
        cursor = pooled.cursor()  # SQLite: the connection begins nothing by itself (db.py)
        try:
            return cursor.execute(_VERSION_SQL).fetchone()[0]
        finally:
            cursor.close()
    finally:
        pooled.close()


class ReadCache:
    """Results of read queries for one content version, at most `size` of them per process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._version: int | None = None
        self._entries: dict[Hashable, object] = {}
        self._lock = threading.Lock()

    def get(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for `key` at `version`: remembered, or computed now and remembered."""
        with self._lock:
            if version == self._version and key in self._entries:
                return self._entries[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if version != self._version:
                # Any other number, higher or lower (a restored database): start again.
                self._version, self._entries = version, {}
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = value
        return value


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
