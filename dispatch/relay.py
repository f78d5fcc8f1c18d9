"""The relay: hands the outbox's waiting jobs to Redis (see `network.outbox`).

`commons scheduler` runs it every few seconds beside RQ's cron; `commons jobs relay` runs it
once. Rows are taken oldest first, locked, handed over and marked in one transaction per batch:
those never handed over, and those handed over long ago whose job neither ran nor failed (the
dispatcher enqueues such a job again only when the queue no longer holds it: Redis lost it, or
a worker died with it). The first job Redis cannot take ends the pass (Redis is down: the rest
would fail too), with the reason kept on that row; a job refused on its own account is skipped,
its reason kept, and the others go on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.orm import sessionmaker

from network import outbox
from network.db import writer_session
from network.uow import Dispatcher, Job

log = logging.getLogger("commons.relay")

BATCH = 500


@dataclass
class Pass:
    handed: int = 0
    found: int = 0  # jobs looked at again and found still in the queue (or running)
    skipped: int = 0  # jobs the queue refused on their own: they wait, with the reason
    error: str | None = None  # why the pass ended early (Redis down)


def relay(
    session_factory: sessionmaker,
    dispatch: Dispatcher,
    *,
    batch: int = BATCH,
    now: datetime | None = None,
    recheck: timedelta = outbox.RECHECK,
) -> Pass:
    """Hand over every waiting job older than the grace period; how many went, and why not all."""
    result = Pass()
    while True:
        with writer_session(session_factory) as session:
            rows = outbox.take(session, limit=batch, now=now, recheck=recheck)
            if not rows:
                return result
            handed: list[int] = []
            found: list[int] = []
            for row in rows:
                try:
                    job = Job(row.func, tuple(row.args), row.kwargs, row.queue, row.job_id)
                    enqueued = dispatch(job)
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
                (found if enqueued is False else handed).append(row.id)
            outbox.dispatched(session, handed + found, now)
            if result.handed + result.found == 0:  # once a pass, with its first batch
                outbox.purge_failed(session)
            session.commit()
        result.handed += len(handed)
        result.found += len(found)
        if handed:
            log.info("relay: %d jobs handed to the queue", len(handed))
        if result.error is not None or len(rows) < batch or not (handed or found):
            return result
