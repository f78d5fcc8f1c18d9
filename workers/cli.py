"""`commons worker`, `commons scheduler`, `commons digests run` and `commons jobs ...`.

Plugins of the `commons` command (the `flask.commands` entry points in pyproject.toml): they read
their settings from the environment, as the API does, and need nothing of the API."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
import time
from datetime import timedelta

import click
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from dispatch import relay, runtime
from dispatch.queues import QUEUES, connection, spec
from network import outbox
from network.db import utcnow
from network.digests.models import Digest, DigestStatus, Notification
from network.people.models import Person
from network.uow import Job

log = logging.getLogger("commons.scheduler")

# RQ's cron: the fan-out every quarter of an hour (people choose a whole hour).
FAN_OUT_CRON = "*/15 * * * *"
RELAY_EVERY = 2.0


def _redis() -> Redis:
    settings = runtime.current().settings
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs already run inline")
    conn = connection(settings)
    try:
        conn.ping()
    except Exception as exc:
        raise click.ClickException(f"Redis at REDIS_URL does not answer: {exc}") from None
    return conn


@click.command("worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(QUEUES),
    help="A queue to work (repeat for several). Default: every queue.",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--maintenance-interval",
    type=click.IntRange(1),
    default=600,
    show_default=True,
    help="Seconds between RQ's checks for jobs abandoned by dead workers.",
)
def worker(queues: tuple[str, ...], burst: bool, maintenance_interval: int) -> None:
    """Run jobs from Redis (REDIS_URL) until stopped, retries included (RQ's scheduler)."""
    conn = _redis()
    names = list(queues or QUEUES)
    _preload()
    click.echo(f"worker on queues {', '.join(names)}", err=True)
    while True:
        rq_worker = Worker(names, connection=conn, maintenance_interval=maintenance_interval)
        # RQ installs its handlers for SIGTERM and SIGINT only once it has registered itself
        # and started its scheduler: a stop in that moment (`docker compose stop` just after a
        # start) killed the process outright. Its own handler, installed first, makes such a
        # stop a stop like any other.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, rq_worker.request_stop)
        try:
            rq_worker.work(burst=burst, with_scheduler=True)
        except StopRequested:  # stopped before RQ's own handling began
            with contextlib.suppress(Exception):
                rq_worker.register_death()
            return
        except RedisConnectionError as exc:
            if burst:
                raise click.ClickException(f"Redis went away: {exc}") from None
        if burst or rq_worker._shutdown_requested_date is not None:  # SIGTERM or SIGINT
            return
        # RQ's worker quits when Redis goes away mid-job. The job it was running is taken up
        # again by RQ's abandoned-job handling (a digest also by its stale claim): wait for
        # Redis and work on, rather than leave the queue to a restart policy.
        click.echo("worker: Redis went away; starting again in 2 s", err=True)
        time.sleep(2)


def _preload() -> None:
    """Import the jobs and build the settings, engine and dispatcher once, in the worker, before
    RQ forks a work horse per job: each job then starts in milliseconds, not a second. So do
    the templates' compiling, the lazily registered thread kinds, the database dialect's
    first-connection checks and the compiling of a digest batch's statements (measured: half
    the CPU of a 100-digest job when left to each horse). The engine's connections are closed
    again before any fork (`dispose`), so no connection crosses it; Redis clients reconnect in
    a child by themselves. Last, what is loaded is frozen out of the garbage collector's view:
    a work horse's full collections then neither walk it nor write to the pages it shares with
    the worker."""
    import workers.digests
    import workers.jobs
    import workers.notifications
    from network import access
    from network.render import warm_up

    rt = runtime.current()
    rt.dispatch()
    access.thread_kinds()
    warm_up()
    engine = rt.session_factory.kw.get("bind")
    if engine is not None:
        try:
            workers.digests.warm_up()  # connects, and compiles a digest batch's statements
        except Exception as exc:  # the database may come up later: each job connects anyway
            log.warning("worker: could not reach the database or build a digest at start: %s", exc)
        engine.dispose()
    gc.freeze()


def _relay_forever(stop: threading.Event, every: float) -> None:
    rt = runtime.current()
    while not stop.is_set():
        try:
            result = relay.relay(rt.session_factory, rt.dispatch())
            if result.error:
                log.warning("relay: %s (jobs wait in the outbox)", result.error)
        except Exception:
            log.exception("relay pass failed")
        stop.wait(every)


@click.command("scheduler")
@click.option(
    "--every",
    type=click.IntRange(1),
    default=None,
    help="Fan out every N seconds, starting now, instead of at each quarter hour (tests, demos).",
)
@click.option("--relay-every", type=click.FloatRange(0.1), default=RELAY_EVERY, show_default=True)
def scheduler(every: int | None, relay_every: float) -> None:
    """RQ's cron: enqueue the digest fan-out every 15 minutes (it finds who is due, and the
    agendas of the next two hours); and relay the outbox's jobs to Redis every few seconds.
    Two schedulers at once are harmless: the fan-out is idempotent."""
    from workers import digests as sending

    conn = _redis()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = runtime.current().settings
    digests = spec(settings, "digests")
    stop = threading.Event()
    thread = threading.Thread(target=_relay_forever, args=(stop, relay_every), daemon=True)
    thread.start()
    when = f"every {every} s" if every else f"on '{FAN_OUT_CRON}'"
    click.echo(f"scheduler: digest fan-out {when}; relay every {relay_every} s", err=True)
    try:
        while True:
            cron = CronScheduler(connection=conn)
            cron.register(
                sending.scheduled,
                queue_name="digests",
                job_timeout=digests.timeout,
                failure_ttl=digests.failure_ttl,
                **({"interval": every} if every else {"cron": FAN_OUT_CRON}),
            )
            try:
                cron.start()  # until SIGINT/SIGTERM
                return
            except StopRequested:
                # A signal while it was still registering itself: RQ raises its stop there,
                # outside its own handling. A stop all the same, never a reason to start again.
                with contextlib.suppress(Exception):
                    cron.register_death()
                return
            except Exception as exc:  # Redis went away: wait for it, then start again
                log.warning("scheduler: %s; starting again in 5 s", exc)
                time.sleep(5)
    except StopRequested:  # a signal while waiting to start again (RQ's handler is installed)
        return
    finally:
        stop.set()


@click.group("digests")
def digests() -> None:
    """Digests: one email per person per period."""


@digests.command("run")
@click.option("--now", "everyone", is_flag=True, help="Everyone who takes digests, due or not.")
def run_digests(everyone: bool) -> None:
    """Enqueue the digests that are due (everyone's, with --now), one job per 200 people, and
    send the agendas of huddles in the next two hours. Without REDIS_URL the jobs run here, at once
    (to the file outbox unless MAIL_URL is set)."""
    from workers import digests as sending
    from workers import notifications

    settings = runtime.current().settings
    inline = not settings.redis_url
    where = settings.mail_url or str(settings.outbox_path)
    click.echo(
        f"digests: {'everyone' if everyone else 'those due'}, "
        + (f"sent here to {where}" if inline else "enqueued on the digests queue"),
        err=True,
    )
    summary = sending.run(everyone=everyone, echo=lambda line: click.echo(line, err=True))
    if inline:
        click.echo(
            f"{summary.due} due: {summary.sent} sent, {summary.empty} with nothing new, "
            f"{summary.skipped} already claimed, {len(summary.failed)} failed"
        )
    else:
        click.echo(f"{summary.due} digests enqueued; workers on the digests queue send them")
    agendas = notifications.send_agendas()
    click.echo(
        f"agendas of huddles in the next two hours: {agendas.get('sent', 0)} sent, "
        f"{agendas.get('failed', 0)} failed"
    )
    if summary.failed:
        raise click.ClickException(
            f"not sent to person {', '.join(summary.failed)} (see `commons jobs failed`)"
        )
    if agendas.get("failed"):
        raise click.ClickException(
            f"{agendas['failed']} agendas not sent (see `commons jobs failed`)"
        )


@click.group("jobs")
def jobs() -> None:
    """The queues: what waits, what failed, and retrying it."""


@jobs.command("status")
def status() -> None:
    """Each queue's jobs and workers, the schedulers seen, and the outbox's backlog."""
    rt = runtime.current()
    with rt.session_factory() as session:
        backlog = outbox.backlog(session)
    age = backlog.as_dict()["oldest_seconds"]
    click.echo(
        f"outbox: {backlog.jobs} jobs waiting for Redis"
        + (f" (oldest {age} s)" if age is not None else "")
        + f", {backlog.handed} in the queue or running, {backlog.failed} failed"
    )
    conn = _redis()
    workers = Worker.all(connection=conn)
    click.echo(
        f"{'queue':<10}{'queued':>8}{'started':>9}{'retrying':>10}{'failed':>8}{'workers':>9}"
    )
    for name in QUEUES:
        q = Queue(name, connection=conn)
        serving = sum(1 for w in workers if name in w.queue_names())
        click.echo(
            f"{name:<10}{q.count:>8}{StartedJobRegistry(queue=q).count:>9}"
            f"{ScheduledJobRegistry(queue=q).count:>10}{FailedJobRegistry(queue=q).count:>8}"
            f"{serving:>9}"
        )
    for name in QUEUES:
        s = spec(rt.settings, name)
        click.echo(
            f"  {name}: {s.about}; timeout {s.timeout} s, failed kept {s.failure_ttl // 86400} "
            f"days, retries after {', '.join(map(str, s.retry_delays)) or 'none'} s"
        )
    schedulers = CronScheduler.all(conn)
    click.echo(f"schedulers: {len(schedulers)}" + (" (none running)" if not schedulers else ""))
    for cron in schedulers:
        click.echo(f"  {cron.name}, last seen {cron.last_heartbeat}")
    if not any(workers):
        raise click.ClickException("no worker is running: start `commons worker`")


@jobs.command("failed")
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True)
def failed(days: int) -> None:
    """Jobs that failed for good (RQ's failed registries) and deliveries recorded as failed."""
    rt = runtime.current()
    shown = 0
    if rt.settings.redis_url:
        conn = _redis()
        for name in QUEUES:
            registry = FailedJobRegistry(queue=Queue(name, connection=conn))
            for job_id in registry.get_job_ids():
                job = RQJob.fetch(job_id, connection=conn) if RQJob.exists(job_id, conn) else None
                if job is None:
                    continue
                reason = (job.exc_info or "").strip().splitlines()[-1:] or ["?"]
                click.echo(
                    f"job {job_id} [{name}] {job.description} at {job.ended_at}: {reason[0]}"
                )
                shown += 1
    since = utcnow() - timedelta(days=days)
    with rt.session_factory() as session:
        for model in (Digest, Notification):
            for row, email in session.execute(
                select(model, Person.email)
                .join(Person, Person.id == model.person_id)
                .where(model.status == DigestStatus.failed, model.claimed_at >= since)
                .order_by(model.claimed_at)
            ):
                what = (
                    f"digest {_digest_job_id(row)}"
                    if isinstance(row, Digest)
                    else f"notification {row.key}"
                )
                click.echo(f"{what} to {email}, {row.attempts} attempts: {row.error}")
                shown += 1
    click.echo(f"{shown} failed")


def _digest_job_id(digest: Digest) -> str:
    from workers.digests import job_id

    return job_id(digest.person_id, digest.period)


@jobs.command("retry")
@click.argument("job_ids", nargs=-1)
@click.option(
    "--all", "everything", is_flag=True, help="Every failed job, digest and action notification."
)
def retry(job_ids: tuple[str, ...], everything: bool) -> None:
    """Try failed jobs again: RQ's failed jobs by id, failed digests by their job id
    (`digest-<person>-<period>`) and failed action notifications by their key
    (`action:<action>:<person>`), as `commons jobs failed` shows them."""
    if not job_ids and not everything:
        raise click.UsageError("name the jobs to retry, or --all")
    rt = runtime.current()
    wanted = set(job_ids)
    retried = 0
    if rt.settings.redis_url:
        conn = _redis()
        for name in QUEUES:
            registry = FailedJobRegistry(queue=Queue(name, connection=conn))
            for job_id in registry.get_job_ids():
                if everything or job_id in wanted:
                    registry.requeue(job_id)
                    wanted.discard(job_id)
                    retried += 1
    with runtime.unit_of_work() as uow:
        query = select(Digest).where(
            Digest.status == DigestStatus.failed,
            Digest.claimed_at >= utcnow() - timedelta(days=8),
        )
        for digest in uow.session.scalars(query):
            name = _digest_job_id(digest)
            if everything or name in wanted:
                uow.enqueue_after_commit(
                    Job(
                        "workers.digests.send",
                        (digest.person_id, digest.period),
                        queue="digests",
                        job_id=name,
                    )
                )
                wanted.discard(name)
                retried += 1
        agendas = 0
        failed_notes = select(Notification).where(
            Notification.status == DigestStatus.failed,
            Notification.claimed_at >= utcnow() - timedelta(days=8),
        )
        for note in uow.session.scalars(failed_notes):
            if not (everything or note.key in wanted):
                continue
            wanted.discard(note.key)
            kind, _, rest = note.key.partition(":")
            if kind != "action":
                agendas += 1  # an agenda is news only before its huddle: not sent late
                continue
            action_id, owner_id = (int(part) for part in rest.split(":"))
            uow.enqueue_after_commit(
                Job(
                    "workers.notifications.send_action_assigned",
                    (action_id, owner_id),
                    queue="mail",
                )
            )
            retried += 1
        uow.commit()
    click.echo(f"{retried} retried")
    if agendas:
        click.echo(f"{agendas} agendas not retried: an agenda goes only before its huddle")
    if wanted:
        raise click.ClickException(f"no failed job {', '.join(sorted(wanted))}")


@jobs.command("relay")
def relay_once() -> None:
    """Hand the outbox's waiting jobs to Redis now (the scheduler does this every few seconds)."""
    _redis()
    rt = runtime.current()
    result = relay.relay(rt.session_factory, rt.dispatch())
    click.echo(f"{result.handed} jobs handed to Redis")
    if result.error:
        raise click.ClickException(f"Redis refused a job: {result.error}")


@jobs.command("alive")
@click.argument("what", type=click.Choice(["worker", "scheduler"]))
def alive(what: str) -> None:
    """Exit 0 when a worker (or scheduler) of this host is registered in Redis: the health
    check of the worker and scheduler containers."""
    import socket

    conn = _redis()
    host = socket.gethostname()
    if what == "worker":
        found = [w.name for w in Worker.all(connection=conn) if w.hostname == host]
    else:
        found = [c.name for c in CronScheduler.all(conn) if c.hostname == host]
    if not found:
        raise click.ClickException(f"no {what} of host {host} is registered in Redis")
    click.echo(f"{what}: {', '.join(found)}")
