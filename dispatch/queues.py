"""Named RQ queues, and the dispatcher that hands committed jobs to them.

Without `REDIS_URL` jobs run inline, at enqueue time, over an in-memory Redis: the embedded
default and the tests need no services."""

from __future__ import annotations

from functools import cache

from redis import Redis
from rq import Queue, Retry

from network.config import Settings
from network.uow import Dispatcher, Job

QUEUES = ("default", "mail", "digests")
JOB_TIMEOUT = 300
FAILURE_TTL = 7 * 24 * 3600


@cache
def _fake_redis() -> Redis:
    import fakeredis

    return fakeredis.FakeRedis()


def connection(settings: Settings) -> Redis:
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    return _fake_redis()


def queue(
    settings: Settings,
    name: str = "default",
    conn: Redis | None = None,
    *,
    is_async: bool | None = None,
) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(
        name,
        connection=conn or connection(settings),
        is_async=settings.redis_url is not None if is_async is None else is_async,
        default_timeout=JOB_TIMEOUT,
    )


def make_dispatcher(
    settings: Settings, conn: Redis | None = None, *, is_async: bool | None = None
) -> Dispatcher:
    """Enqueue on the named queues; inline (synchronous) when there is no `REDIS_URL`."""
    conn = conn or connection(settings)
    queues = {name: queue(settings, name, conn, is_async=is_async) for name in QUEUES}

    def dispatch(job: Job) -> None:
        queues[job.queue].enqueue(
            job.func,
            args=job.args,
            kwargs=job.kwargs,
            job_id=job.job_id,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=3, interval=[10, 60, 300]),
        )

    return dispatch
