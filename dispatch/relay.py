"""The relay: hands the outbox's waiting jobs to Redis (see `network.outbox`).

`commons scheduler` runs it every few seconds beside RQ's cron; `commons jobs relay` runs it
once. Rows are taken oldest first, locked, enqueued and deleted in one transaction per batch; the
first job Redis cannot take ends the pass (Redis is down: the rest would fail too), with the
reason kept on that row; a job refused on its own account is skipped, its reason kept, and the
others go on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from network import outbox
from network.db import writer_bind
from network.uow import Dispatcher, Job

log = logging.getLogger("commons.relay")

BATCH = 500


@dataclass
class Pass:
    handed: int = 0
    skipped: int = 0  # jobs the queue refused on their own: they wait, with the reason
    error: str | None = None  # why the pass ended early (Redis down)


def _writer(session_factory: sessionmaker) -> Session:
    bind = getattr(session_factory, "kw", {}).get("bind")
    if isinstance(bind, Engine):
        return session_factory(bind=writer_bind(bind))
    return session_factory()


def relay(
    session_factory: sessionmaker,
    dispatch: Dispatcher,
    *,
    batch: int = BATCH,
    now: datetime | None = None,
) -> Pass:
    """Hand over every waiting job older than the grace period; how many went, and why not all."""
    result = Pass()
    while True:
        with _writer(session_factory) as session:
            rows = outbox.take(session, limit=batch, now=now)
            if not rows:
                return result
            handed: list[int] = []
            for row in rows:
                try:
                    dispatch(Job(row.func, tuple(row.args), row.kwargs, row.queue, row.job_id))
                except (RedisError, OSError) as exc:  # Redis is down: the rest would fail too
                    row.attempts += 1
                    row.last_error = str(exc)[:500]
                    result.error = str(exc)
                    break
                except Exception as exc:  # this job alone (say, a queue that does not exist)
                    log.error("relay: job %s (%s) refused: %s", row.id, row.func, exc)
                    row.attempts += 1
                    row.last_error = str(exc)[:500]
                    result.skipped += 1
                    continue
                handed.append(row.id)
            outbox.done(session, handed)
            session.commit()
        result.handed += len(handed)
        if handed:
            log.info("relay: %d jobs handed to the queue", len(handed))
        if result.error is not None or len(rows) < batch or not handed:
            return result
