"""The unit of work: one transaction, and the jobs to enqueue once it has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("commons.uow")


@dataclass(frozen=True)
class Job:
    """A job to run after commit: a dotted function path and JSON-able arguments (ids, not rows)."""

    func: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None


Dispatcher = Callable[[Job], None]


@dataclass(frozen=True)
class Origin:
    """Where a unit of work comes from, for the audit log: a channel and a client address."""

    channel: str = "system"
    ip: str | None = None


def _discard(_job: Job) -> None:
    return None


class UnitOfWork:
    """`with UnitOfWork(factory) as uow: ...; uow.commit()` — anything not committed rolls back.

    Services only flush; the owner of the unit (a request, a job, a command) commits once, and
    only then are the collected jobs handed to the dispatcher: a rolled-back change sends nothing.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        dispatch: Dispatcher = _discard,
        origin: Origin | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._dispatch = dispatch
        self.origin = origin or Origin()
        self._session: Session | None = None
        self._jobs: list[Job] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def enqueue_after_commit(self, job: Job) -> None:
        self._jobs.append(job)

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            try:
                self._dispatch(job)
            except Exception:
                # The change is committed and must stand; the failure is logged for operators.
                log.exception("could not enqueue %s after commit", job.func)

    def rollback(self) -> None:
        self._jobs.clear()
        if self._session is not None:
            self._session.rollback()

    def close(self) -> None:
        self.rollback()
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
