"""The job outbox: every job a unit of work asks for is a row written in its transaction, and
stays there until the job itself is done. Redis being down when a change commits loses nothing,
and neither does Redis or a worker losing a job it had already taken.

A row's life:
1. `record`: written with the change. The unit that committed it hands it to the queue at once
   and marks it `dispatched_at`; if Redis refuses, the relay (`commons scheduler`, or `commons
   jobs relay`) hands it over once rows are older than `RELAY_GRACE`.
2. `claim`: the job, when a worker runs it (`dispatch.runner`), claims its row until its
   timeout has passed, in a transaction of its own. No row means the job has already been
   done (a second copy of it in the queue): it does nothing. A live claim means another run
   has it: it does nothing either.
3. `settle`: done, the job deletes its row. A failure releases the claim; the last failure RQ
   will not retry marks the row `failed_at` (`commons jobs retry` runs it again).
4. A row handed over more than `RECHECK` ago and neither claimed nor failed is looked at again
   by the relay: if the queue no longer holds the job (Redis lost it, or a worker died with it),
   it is handed over again.

Each row carries the RQ job id it is enqueued under: the feature's own deterministic id
(`digest-<person>-<period>`) or a random one. Delivery is at least once, run at most once per
row: the only repeat left is a job that did its work and died before deleting its row (for mail,
SMTP's own window: accepted, not yet marked), and it repeats under the same id, so a repeated
email carries the same Message-ID."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from network.db import Base, UTCDateTime, utcnow

# Rows younger than this are the committing unit's to enqueue: the relay leaves them alone.
RELAY_GRACE = timedelta(seconds=10)
# A row handed over this long ago and not yet claimed is checked against the queue again.
RECHECK = timedelta(seconds=60)
# Failed rows are kept as long as RQ keeps its failed jobs (the longest `failure_ttl`).
KEEP_FAILED = timedelta(days=30)


class OutboxJob(Base):
    __tablename__ = "job_outbox"
    __table_args__ = (
        Index("ix_job_outbox_created_at", "created_at"),
        Index("ix_job_outbox_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    queue: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Tries that failed to reach the queue, and the last reason: `commons jobs status` shows it.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When the job was last handed to the queue (or found waiting there).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker runs the job until then; a claim past it belongs to a run that died.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last failure RQ does not retry: the relay leaves the row to `commons jobs retry`.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def new_job_id() -> str:
    return f"job-{uuid.uuid4().hex}"


def record(
    session: Session,
    *,
    func: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    queue: str,
    job_id: str | None,
) -> OutboxJob:
    row = OutboxJob(
        func=func,
        args=list(args),
        kwargs=dict(kwargs),
        queue=queue,
        job_id=job_id or new_job_id(),
        created_at=utcnow(),
        attempts=0,
        runs=0,
    )
    session.add(row)
    return row


def take(
    session: Session, *, limit: int, now: datetime | None = None, recheck: timedelta = RECHECK
) -> list[OutboxJob]:
    """The rows the relay may hand over, oldest first, locked: two relays at once take different
    rows (PostgreSQL's SKIP LOCKED; SQLite has one writer at a time). Those never handed over
    and older than the grace period, and those handed over more than `recheck` ago that no
    run holds and that have not failed."""
    now = now or utcnow()
    query = (
        select(OutboxJob)
        .where(
            OutboxJob.failed_at.is_(None),
            or_(OutboxJob.claimed_until.is_(None), OutboxJob.claimed_until < now),
            or_(
                and_(OutboxJob.dispatched_at.is_(None), OutboxJob.created_at <= now - RELAY_GRACE),
                OutboxJob.dispatched_at <= now - recheck,
            ),
        )
        .order_by(OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def dispatched(session: Session, ids: list[int], now: datetime | None = None) -> None:
    """The queue has these rows' jobs (handed over, or found waiting there)."""
    if ids:
        session.execute(
            update(OutboxJob).where(OutboxJob.id.in_(ids)).values(dispatched_at=now or utcnow())
        )


def claim(
    session: Session, job_id: str, *, timeout: timedelta, now: datetime | None = None
) -> bool:
    """Claim the job's rows for one run of `timeout`: False when there is none (the job is done)
    or another run's claim is still live. One conditional UPDATE: of two runs, one wins."""
    now = now or utcnow()
    taken = session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.job_id == job_id,
            or_(OutboxJob.claimed_until.is_(None), OutboxJob.claimed_until < now),
        )
        .values(claimed_until=now + timeout, runs=OutboxJob.runs + 1, failed_at=None)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def settle(session: Session, job_id: str) -> None:
    """The job is done: its rows go."""
    session.execute(delete(OutboxJob).where(OutboxJob.job_id == job_id))


def release(
    session: Session, job_id: str, *, error: str, final: bool, now: datetime | None = None
) -> None:
    """The run failed: a retry may claim the rows again; after the last one they wait, failed."""
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.job_id == job_id)
        .values(
            claimed_until=None,
            last_error=error[:500],
            failed_at=(now or utcnow()) if final else None,
        )
    )


def purge_failed(session: Session, now: datetime | None = None) -> int:
    """Forget rows failed longer ago than RQ keeps failed jobs."""
    gone = session.execute(
        delete(OutboxJob).where(OutboxJob.failed_at < (now or utcnow()) - KEEP_FAILED)
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Backlog:
    jobs: int  # not yet handed to the queue
    oldest: datetime | None
    handed: int = 0  # in the queue or running, not yet done
    failed: int = 0  # failed for good, waiting for `commons jobs retry`

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        age = None
        if self.oldest is not None:
            age = max(0, round(((now or utcnow()) - self.oldest).total_seconds()))
        return {"jobs": self.jobs, "oldest_seconds": age}


def backlog(session: Session) -> Backlog:
    """How many jobs wait to be handed to the queue, and since when; how many are in the
    queue, and how many failed. One query."""
    waiting = OutboxJob.dispatched_at.is_(None)
    handed = and_(OutboxJob.dispatched_at.is_not(None), OutboxJob.failed_at.is_(None))
    row = session.execute(
        select(
            func.count().filter(waiting),
            func.min(OutboxJob.created_at).filter(waiting),
            func.count().filter(handed),
            func.count().filter(OutboxJob.failed_at.is_not(None)),
        )
    ).one()
    return Backlog(row[0], row[1], row[2], row[3])
