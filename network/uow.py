"""The unit of work: one transaction, and the jobs to enqueue once it has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.orm import Session, sessionmaker

from network import outbox
from network.content import (
    EVERYTHING,
    ReadCache,
    has_written,
    read_versions,
    read_versions_in_autocommit,
    read_versions_outside_transaction,
)
from network.db import DriverSelect, writer_session

log = logging.getLogger("commons.uow")

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """A job to run after commit: a dotted function path and JSON-able arguments (ids, not rows)."""

    func: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None


# Hands a job to the queue: False when the queue already holds it (waiting, or due a retry).
Dispatcher = Callable[[Job], bool | None]


@dataclass(frozen=True)
class Origin:
    """Where a unit of work comes from, for the audit log: a channel and a client address."""

    channel: str = "system"
    ip: str | None = None


class UnitOfWork:
    """`with UnitOfWork(factory) as uow: ...; uow.commit()` — anything not committed rolls back.

    Services only flush; the owner of the unit (a request, a job, a command) commits once, and
    only then are the collected jobs handed to the dispatcher: a rolled-back change sends nothing.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        dispatch: Dispatcher | None = None,
        origin: Origin | None = None,
        read_cache: ReadCache | None = None,
        *,
        writes: bool = True,
    ) -> None:
        self._session_factory = session_factory
        # Whether the unit means to write: on SQLite its transaction then holds the write lock
        # from the start (`network.db.writer_bind`). Requests that only read say False.
        self.writes = writes
        self._dispatch = dispatch
        self.origin = origin or Origin()
        self._session: Session | None = None
        self._jobs: list[tuple[Job, outbox.OutboxJob]] = []
        self._read_cache = read_cache
        # The content scopes' numbers this unit has read (`network.content`), and those it
        # expects to need, read with the first.
        self._versions: dict[str, int] = {}
        self._expected: set[str] = set()
        # A pooled connection in autocommit for `read` while no session is open (see there).
        self._reader: PoolProxiedConnection | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._close_reader()  # from here on the session's transaction reads
            if self.writes:
                self._session = writer_session(self._session_factory)
            else:
                self._session = self._session_factory()
        return self._session

    def cached(
        self,
        key: Hashable,
        compute: Callable[[], T],
        scopes: Iterable[str] = (EVERYTHING,),
        usable: Callable[[T], bool] | None = None,
    ) -> T:
        """`compute()`, or its result remembered under `key` while the content `scopes` it
        depends on stand (`network.content`; `all` is always among them) and `usable` (when
        given) says so of it. The key must name everything the result depends on, the reader
        included. A unit without a read cache, or one that has written, always computes."""
        if self._read_cache is None or (self._session is not None and has_written(self._session)):
            return compute()
        wanted = {EVERYTHING, *scopes}
        missing = wanted - self._versions.keys()
        if missing:
            # Read before anything that depends on them is computed or reused.
            self._versions.update(
                self._read_versions(missing | (self._expected - self._versions.keys()))
            )
        return self._read_cache.get({s: self._versions[s] for s in wanted}, key, compute, usable)

    def read(self, select: DriverSelect, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
        """The rows of a SELECT (tuples, or Rows: read them by position), as this unit sees the
        database.

        A unit that does not mean to write (a GET) and has not opened its session reads on
        PostgreSQL at READ COMMITTED outside any transaction, on one pooled connection in
        autocommit that it keeps for its later reads (and its content versions): no BEGIN, no
        COMMIT, no session, and the statement handed to the driver as SQLAlchemy compiled it
        (`DriverSelect`). That reads what a transaction would: at READ COMMITTED every
        statement sees the database as committed when it starts, in a transaction or not, and a
        unit with no session has neither written nor locked anything a transaction would keep.
        Once the session is open (anything else read or written), rows come from its
        transaction, after its pending changes are flushed."""
        driver = self._outside_driver() if self._session is None else None
        if driver is not None:
            compiled = select.compiled_for(self._bind_dialect())
            if compiled is not None:
                sql, values = select.expand(compiled, params)
                return driver.execute(sql, values).fetchall()
        self.session.flush()  # Core, past the ORM: pending changes first (free when none)
        return self.session.connection().execute(select.statement, params).all()

    def _bind(self) -> Engine | None:
        bind = getattr(self._session_factory, "kw", {}).get("bind")
        return bind if isinstance(bind, Engine) else None  # tests: one connection

    def _bind_dialect(self):
        bind = self._bind()
        assert bind is not None
        return bind.dialect

    def _outside_driver(self) -> Any | None:
        """The driver connection this unit reads on outside a transaction, checked out on first
        use; None where it reads in its session's transaction only (see `read`)."""
        if self._reader is not None:
            return self._reader.driver_connection
        bind = self._bind()
        if (
            self.writes
            or bind is None
            or bind.dialect.name != "postgresql"  # SQLite: one snapshot per transaction
            # Known once the engine has connected; an engine set to another level keeps it.
            or getattr(bind.dialect, "default_isolation_level", None) != "READ COMMITTED"
            or getattr(bind.dialect, "isolation_level", None) not in (None, "READ COMMITTED")
        ):
            return None
        pooled = bind.raw_connection()
        driver = pooled.driver_connection
        if driver is None:  # only once the pool has invalidated it, never on checkout
            pooled.close()
            raise RuntimeError("a pooled connection just checked out has no driver connection")
        driver.autocommit = True  # each statement its own transaction
        self._reader = pooled
        return driver

    def _close_reader(self) -> None:
        if self._reader is not None:
            pooled, self._reader = self._reader, None
            try:
                if pooled.driver_connection is not None:
                    pooled.driver_connection.autocommit = False  # as the pool hands it out
            finally:
                pooled.close()

    def peek(self, key: Hashable) -> object | None:
        """What is remembered under `key`, current or not: a hint, never a result to serve."""
        return self._read_cache.peek(key) if self._read_cache is not None else None

    def expect_scopes(self, scopes: Iterable[str]) -> None:
        """Scopes later reads of this unit will likely need: read with the first, so a request
        whose reads are all remembered reads its numbers in one round trip."""
        self._expected.update(scopes)

    def _read_versions(self, scopes: set[str]) -> dict[str, int]:
        if self._session is None:
            driver = self._outside_driver()
            if driver is not None:  # the connection later reads of this unit use too
                return read_versions_in_autocommit(driver, scopes)
            bind = self._bind()
            if bind is not None:
                return read_versions_outside_transaction(bind, scopes)
        # A session already open (or bound to one connection, as in tests): read in it.
        return read_versions(self.session, scopes)

    def enqueue_after_commit(self, job: Job) -> None:
        """Record the job in this transaction (`network.outbox`); once it commits, hand it to
        the queue. A job that cannot be handed over waits in the outbox for the relay."""
        row = outbox.record(
            self.session,
            func=job.func,
            args=job.args,
            kwargs=job.kwargs,
            queue=job.queue,
            job_id=job.job_id,
        )
        self._jobs.append((job, row))

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        jobs, self._jobs = self._jobs, []
        if self._dispatch is None:  # no queue at hand: the relay hands the jobs over
            return
        handed: list[int] = []
        for n, (job, row) in enumerate(jobs):
            try:
                self._dispatch(Job(job.func, job.args, job.kwargs, job.queue, row.job_id))
            except Exception as exc:
                # The change is committed and must stand; the relay hands this job and the
                # rest over later (Redis refused one: trying the others would only wait more).
                log.warning("%d jobs left to the relay (%s): %s", len(jobs) - n, job.func, exc)
                break
            handed.append(row.id)
        if handed:
            self._mark_dispatched(handed)

    def _mark_dispatched(self, ids: list[int]) -> None:
        """Mark the outbox rows of jobs now in the queue, in a transaction of their own (each
        job deletes its row when done: `network.outbox`)."""
        try:
            with writer_session(self._session_factory) as session:
                outbox.dispatched(session, ids)
                session.commit()
        except Exception as exc:
            # Harmless: the relay finds them and asks the queue before enqueuing again.
            log.warning("outbox rows %s not marked as handed over: %s", ids, exc)

    def rollback(self) -> None:
        self._jobs.clear()
        if self._session is not None:
            self._session.rollback()

    def close(self) -> None:
        self._close_reader()
        self.rollback()
        if self._session is not None:
            self._session.close()
            self._session = None
        self._versions = {}
        self._expected = set()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
