"""The job outbox: every job a unit of work asks for is a row written in its transaction, and
a relay hands the rows to the queue after commit. Redis being down when a change commits loses
nothing: the row waits, and the relay (`commons scheduler`, or `commons jobs relay`) delivers it
once Redis answers.

Each row carries the RQ job id it is enqueued under: the feature's own deterministic id
(`digest-<person>-<period>`) or a random one. The unit that committed a row tries it at once;
the relay only takes rows older than `RELAY_GRACE`, so the two seldom meet, and when they do (a
process that enqueued and died before deleting its row) the queue is asked first whether that
job is already waiting. Delivery is at least once: the jobs that must not repeat (digests,
notifications) claim their `(person, period)` or `(person, key)` row before they send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, delete, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from network.db import Base, UTCDateTime, utcnow

# Rows younger than this are the committing unit's to enqueue: the relay leaves them alone.
RELAY_GRACE = timedelta(seconds=10)


class OutboxJob(Base):
    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_created_at", "created_at"),)

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
    )
    session.add(row)
    return row


def take(session: Session, *, limit: int, now: datetime | None = None) -> list[OutboxJob]:
    """The oldest rows the relay may hand over, locked: two relays at once take different rows
    (PostgreSQL's SKIP LOCKED; SQLite has one writer at a time)."""
    cutoff = (now or utcnow()) - RELAY_GRACE
    query = (
        select(OutboxJob)
        .where(OutboxJob.created_at <= cutoff)
        .order_by(OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def done(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(delete(OutboxJob).where(OutboxJob.id.in_(ids)))


@dataclass(frozen=True)
class Backlog:
    jobs: int
    oldest: datetime | None

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        age = None
        if self.oldest is not None:
            age = max(0, round(((now or utcnow()) - self.oldest).total_seconds()))
        return {"jobs": self.jobs, "oldest_seconds": age}


def backlog(session: Session) -> Backlog:
    """How many jobs wait for the queue, and since when."""
    jobs = session.scalar(select(func.count(OutboxJob.id))) or 0
    oldest = session.scalar(select(OutboxJob.created_at).order_by(OutboxJob.id).limit(1))
    return Backlog(jobs, oldest)
