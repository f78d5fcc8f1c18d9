"""How a worker runs a job from the outbox: claim its row, run it, delete the row
(`network.outbox` tells the whole life of a row).

The dispatcher enqueues every outbox job as `run(func, args, kwargs)` under the row's job id,
described as the call it makes, so no job can skip the claim: a copy of a job that is already
done, or that another worker is running, does nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from rq import get_current_job
from rq.utils import import_attribute

from dispatch import runtime
from network import outbox
from network.db import writer_session

log = logging.getLogger("commons.jobs")

# How long a claim outlives the job's timeout. RQ's alarm stops the job at its timeout, counted
# from before the claim, so a claim still held after this belongs to a run that died; the
# margin covers clocks that differ a little between worker hosts.
CLAIM_MARGIN = timedelta(seconds=5)
DEFAULT_TIMEOUT = 300


def describe(func: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The call as RQ's logs and `commons jobs failed` show it."""
    params = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{func}({', '.join(params)})"


def _session():
    return writer_session(runtime.current().session_factory)


def run(func: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    job = get_current_job()
    if job is None:  # called directly, not by a worker: nothing to claim
        return import_attribute(func)(*args, **kwargs)
    timeout = timedelta(seconds=job.timeout or DEFAULT_TIMEOUT) + CLAIM_MARGIN
    with _session() as session:
        claimed = outbox.claim(session, job.id, timeout=timeout)
        session.commit()
    if not claimed:
        log.info("job %s: already done or running elsewhere, not run again", job.id)
        return None
    try:
        result = import_attribute(func)(*args, **kwargs)
    except BaseException as exc:
        final = not job.retries_left  # RQ retries it unless none are left
        try:
            with _session() as session:
                outbox.release(session, job.id, error=f"{type(exc).__name__}: {exc}", final=final)
                session.commit()
        except Exception as release_error:  # the claim lapses at its timeout instead
            log.warning("job %s: claim not released: %s", job.id, release_error)
        raise
    with _session() as session:
        outbox.settle(session, job.id)
        session.commit()
    return result
