"""Named RQ queues, one per workload, and the dispatcher that hands committed jobs to them.

Without `REDIS_URL` jobs run inline, at enqueue time, over an in-memory Redis: the embedded
default and the tests need no services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from redis import Redis
from rq import Queue, Retry
from rq.job import Job as RQJob

from dispatch.runner import describe
from network.config import Settings
from network.uow import Dispatcher, Job

DAY = 24 * 3600


@dataclass(frozen=True)
class QueueSpec:
    """A workload: how long one of its jobs may run, how long a failed one is kept for
    `commons jobs failed`, and the waits between retries after a temporary failure."""

    name: str
    timeout: int
    failure_ttl: int
    retry_delays: tuple[int, ...]
    about: str


SPECS = {
    spec.name: spec
    for spec in (
        QueueSpec("default", 60, 7 * DAY, (10, 60, 300), "anything else"),
        QueueSpec("mail", 60, 30 * DAY, (30, 120, 600, 1800), "invitations, resets, notifications"),
        QueueSpec(
            "digests", 300, 30 * DAY, (60, 300, 1800), "the scheduled fan-out and each digest"
        ),
    )
}
QUEUES = tuple(SPECS)


def spec(settings: Settings, name: str) -> QueueSpec:
    """The queue's spec with the operator's overrides (`DIGEST_JOB_TIMEOUT`, `JOB_RETRY_DELAYS`)."""
    base = SPECS[name]
    timeout = settings.digest_job_timeout if name == "digests" else base.timeout
    delays = base.retry_delays
    if settings.job_retry_delays is not None:
        delays = settings.job_retry_delays
    return QueueSpec(name, timeout, base.failure_ttl, delays, base.about)


@cache
def _fake_redis() -> Redis:
    import fakeredis

    return fakeredis.FakeRedis()


def connection(settings: Settings, *, timeout: float | None = None) -> Redis:
    """Redis at `REDIS_URL` (an in-memory one without). `timeout` bounds connecting and each
    command: a request's after-commit enqueue must not hang on a Redis that does not answer."""
    if settings.redis_url:
        if timeout is None:
            return Redis.from_url(settings.redis_url)
        return Redis.from_url(
            settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
    return _fake_redis()


def queue(
    settings: Settings,
    name: str = "default",
    conn: Redis | None = None,
    *,
    is_async: bool | None = None,
) -> Queue:
    if name not in SPECS:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(
        name,
        connection=conn or connection(settings),
        is_async=settings.redis_url is not None if is_async is None else is_async,
        default_timeout=spec(settings, name).timeout,
    )


def make_dispatcher(
    settings: Settings, conn: Redis | None = None, *, is_async: bool | None = None
) -> Dispatcher:
    """Enqueue on the named queues under the job's id, unless a job of that id is already
    waiting there (in the queue, or scheduled for a retry); inline (synchronous) when there is no
    `REDIS_URL`. Every job runs through `dispatch.runner.run`, which claims its outbox row."""
    conn = conn or connection(settings, timeout=5.0)
    queues = {name: queue(settings, name, conn, is_async=is_async) for name in QUEUES}
    specs = {name: spec(settings, name) for name in QUEUES}

    def held(q: Queue, job_id: str) -> bool:
        """Whether the job waits in the queue under this id: in its list, or in its retry
        schedule. Its status alone is not enough: a worker killed between taking a job and
        starting it leaves the status `queued` with the job in neither place. A job `started`
        counts as not held: its worker may have died (RQ gives such a job back only minutes
        later), and a copy of a job that is still running does nothing (`dispatch.runner`)."""
        status = conn.hget(RQJob.key_for(job_id), "status")
        if status == b"queued":
            return conn.lpos(q.key, job_id) is not None
        if status == b"scheduled":
            return conn.zscore(q.scheduled_job_registry.key, job_id) is not None
        return False

    def dispatch(job: Job) -> bool:
        q = queues[job.queue]
        if job.job_id and q.is_async and held(q, job.job_id):
            return False
        delays = specs[job.queue].retry_delays
        q.enqueue(
            "dispatch.runner.run",
            args=(job.func, list(job.args), dict(job.kwargs)),
            job_id=job.job_id,
            description=describe(job.func, job.args, job.kwargs),
            failure_ttl=specs[job.queue].failure_ttl,
            retry=Retry(max=len(delays), interval=list(delays)) if delays else None,
        )
        return True

    return dispatch
