"""Sending digests.

`fan_out` (RQ's cron runs it every 15 minutes, `commons digests run` by hand) finds in SQL, in
batches, the people whose digest is due and asks, through the outbox, for one `send_many` job
per `PEOPLE_PER_JOB` of them, under a deterministic job id. `send_many` claims each person's
period in the database, builds, renders, hands each email to the transport and marks it sent.
A claimed period is never claimed again unless its send failed or its worker died (a claim
older than the job timeout), so duplicate fan-outs, two schedulers and re-runs send nothing
twice; a temporary SMTP failure raises, and RQ retries the job with backoff (those sent stay
sent, the others are taken over); a permanent one is recorded and the others go on.
`commons jobs retry digest-<person>-<period>` asks for one person's `send` again.

At scale (issue 22: a federation's 10,000 people at Monday 07:00), the work is shaped so that
nothing is paid per person that people share (`network.digests.build.build_many`):
- a job of 200 people pays RQ's fork, the outbox claim and its own transaction once;
- the batch's reads are a fixed number of statements however many boards, follows or history
  each person has: each board's news once (everyone in a federation reads its board),
  memberships, preferences and tokens, last windows, follows and mutes, due actions, huddles,
  the problems' counts, the claims — one statement each for the whole batch;
- each digest then costs its own mark, committed at once (on PostgreSQL one statement in
  autocommit that does not wait for the disk), so a worker dying mid-batch repeats at most the
  message in flight;
- the emails share one SMTP connection, built with `email.mime` (the modern email policy's
  header parsing cost more than building the digest); each is rendered and written out while
  the server still reads the one before (`mail.hand_over`), so the worker does not sit idle
  for the server's answer to every message (measured at scale L, batches of 200 taking turns
  in one process: 3.7-4.7 ms a digest against 4.8-6.4 writing after the answer, with a
  Python SMTP server that takes 1.5 ms to read a message; 3.2 against 3.4 with Postfix's);
- a chart is drawn once per measure and data version (`ChartFiles`, shared by the jobs and the
  workers of a host), never once per person."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path

from sqlalchemy import select

from dispatch import runtime
from network.config import Settings
from network.db import utcnow
from network.digests import pictures, runs
from network.digests.models import DigestStatus
from network.people.models import Person
from network.uow import Job
from workers import mail

log = logging.getLogger("commons.digests")

BATCH = 1000
# People per `send_many` job: the fork, the outbox claim and the shared reads of a job (each
# board's news read and sorted once) are paid once for all of them; small enough that a batch
# takes about a second, and that two workers share a cohort evenly. Measured at scale L: 100 a
# job, 53.5 s for the 10,000 on one worker; 200, 43.7-50.6 s; 250, 49.7 s.
PEOPLE_PER_JOB = 200


@dataclass
class Summary:
    due: int = 0
    sent: int = 0
    empty: int = 0  # nothing new and nothing overdue: no email
    skipped: int = 0  # claimed meanwhile by another run
    failed: list[str] = field(default_factory=list)


def job_id(person_id: int, period: str) -> str:
    """The job of one person's digest (`commons jobs retry` asks for one by this name)."""
    return f"digest-{person_id}-{period}"


def batch_job_id(person_ids: list[int], period: str) -> str:
    """The job of a batch: the same people and period, the same id (a repeated fan-out's copy
    waits in the queue as one job); any other batch of theirs finds their digests claimed."""
    ids = ",".join(map(str, person_ids))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:12]
    return f"digests-{period}-{person_ids[0]}-{person_ids[-1]}-{digest}"


def fan_out(
    now: datetime | None = None,
    *,
    everyone: bool = False,
    echo: Callable[[str], None] = log.info,
) -> list[tuple[int, str]]:
    """Ask for the digest of everyone due: each person's current period (the latest send time
    at or before now, so a missed run is caught up), unless it is claimed already or they
    joined after that time (`everyone` includes them). One `send_many` job per PEOPLE_PER_JOB
    people, recorded a page of BATCH people at a time and handed to the `digests` queue as each
    page commits. Returns the pairs asked for."""
    now = now or utcnow()
    stale_before = now - timedelta(seconds=runtime.current().settings.digest_job_timeout)
    asked: list[tuple[int, str]] = []
    with runtime.unit_of_work() as uow:
        schedules = runs.schedules(uow, now)
    for schedule in schedules:
        after = 0
        while True:
            with runtime.unit_of_work() as uow:
                people = runs.due_people(
                    uow,
                    schedule,
                    stale_before=stale_before,
                    after=after,
                    limit=BATCH,
                    everyone=everyone,
                )
                for start in range(0, len(people), PEOPLE_PER_JOB):
                    part = people[start : start + PEOPLE_PER_JOB]
                    uow.enqueue_after_commit(
                        Job(
                            "workers.digests.send_many",
                            (part, schedule.period),
                            queue="digests",
                            job_id=batch_job_id(part, schedule.period),
                        )
                    )
                uow.commit()
            asked += [(p, schedule.period) for p in people]
            if people:
                echo(f"  {len(asked)} asked for so far")
            if len(people) < BATCH:
                break
            after = people[-1]
    return asked


def scheduled() -> dict[str, int]:
    """The job RQ's cron enqueues: the digests due, and the agendas of the next two hours."""
    from workers import notifications

    asked = fan_out()
    agendas = notifications.send_agendas()
    return {"digests_asked": len(asked), **{f"agendas_{k}": v for k, v in agendas.items()}}


def run(
    *, everyone: bool = False, now: datetime | None = None, echo: Callable[[str], None] = log.info
) -> Summary:
    """`fan_out`, then what became of each digest asked for (inline, all of them are done by
    now; with a queue, those not yet sent count as skipped here)."""
    asked = fan_out(now, everyone=everyone, echo=echo)
    with runtime.unit_of_work() as uow:
        found = runs.outcomes(uow, asked)
    summary = Summary(due=len(asked))
    for pair in asked:
        status = found.get(pair)
        if status == DigestStatus.sent:
            summary.sent += 1
        elif status == DigestStatus.empty:
            summary.empty += 1
        elif status == DigestStatus.failed:
            summary.failed.append(str(pair[0]))
        else:
            summary.skipped += 1
    return summary


def send(person_id: int, period: str) -> str:
    """The job of one person's digest of `period` (a retry by hand). Raises
    `mail.TemporaryFailure` for RQ to retry."""
    return send_digest(person_id, now=utcnow(), period=period, charts=chart_store())


def send_many(person_ids: list[int], period: str) -> dict[str, int]:
    """The job: the digests of `period` of a batch of people (the fan-out's), each claimed,
    built, sent and marked as `send_digest` does for one. Raises `mail.TemporaryFailure` for RQ
    to retry the batch: the retry finds those sent already sent, and takes the others over."""
    outcomes = send_digests(person_ids, now=utcnow(), period=period, charts=chart_store())
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def send_digest(
    person_id: int,
    *,
    now: datetime,
    period: str | None = None,
    charts: pictures.ChartCache | None = None,
) -> str:
    """One person's digest of the current period (which must be `period`, when given): "sent",
    "empty", "skipped" (not theirs to send, or no longer due) or "failed" (for good)."""
    return send_digests([person_id], now=now, period=period, charts=charts)[person_id]


def send_digests(
    person_ids: list[int],
    *,
    now: datetime,
    period: str | None = None,
    charts: pictures.ChartCache | None = None,
) -> dict[int, str]:
    """The digests of many people, each "sent", "empty", "skipped" or "failed" as
    `send_digest` says, in a fixed number of statements for the batch (`runs.prepare_many`)
    and one small transaction per email sent (marking it: a digest is marked sent as soon as
    the server has it, so a worker dying mid-batch repeats at most the one in flight, under the
    same Message-ID). All are claimed, in one transaction, before any is sent; the emails go
    out on one SMTP connection (`_send_all`). A temporary failure stops the batch: the digest
    it hit and those not yet sent are released (failed), and it raises for RQ to retry."""
    settings = runtime.current().settings
    outcomes = {person_id: "skipped" for person_id in person_ids}
    stale_before = now - timedelta(seconds=settings.digest_job_timeout)
    with runtime.unit_of_work() as uow:
        people = uow.session.scalars(
            select(Person).where(Person.id.in_(sorted(set(person_ids))), Person.is_active)
        ).all()
        built = runs.prepare_many(
            uow,
            people,
            now=now,
            public_url=settings.public_url,
            api_url=settings.api_url,
            secret=settings.secret(),
        )
        if period is not None:
            # Late (a retry after the next period began): that period's run covers the news.
            built = [b for b in built if b.period == period]
        held = runs.claim_many(uow, built, stale_before=stale_before)
        built = [b for b in built if b.person.id in held]
        empty = [b for b in built if not b.worth_sending]
        runs.mark(uow, [held[b.person.id] for b in empty], DigestStatus.empty)
        outcomes.update({b.person.id: "empty" for b in empty})
        full = [b for b in built if b.worth_sending]
        charts_of = pictures.charts_of_many(uow, full, charts)
        uow.commit()  # claimed before anything is sent
    outgoing = [
        _Outgoing(b, held[b.person.id], mail.digest_id(settings, b.person.id, b.period), images)
        for b, images in zip(full, charts_of, strict=True)
    ]
    with runtime.unit_of_work() as uow, runs.marking(uow) as marks, mail.reusing_connections():
        outcomes.update(_send_all(settings, outgoing, marks))
    return outcomes


@dataclass
class _Outgoing:
    built: runs.Built
    digest_id: int
    message_id: str
    images: dict


def _message(settings: Settings, out: _Outgoing) -> Message:
    b = out.built
    return mail.digest_message(
        settings,
        to=b.person.email,
        subject=b.subject,
        text=runs.render_text(b),
        html=runs.render_html(b, pictures.as_cid(out.images)),
        message_id=out.message_id,
        unsubscribe_url=b.unsubscribe_link,
        images={pictures.content_id(key): png for key, png in out.images.items()},
    )


def _send_all(
    settings: Settings, outgoing: list[_Outgoing], marks: Callable[..., None]
) -> dict[int, str]:
    """Each digest written and handed over in turn on one connection, marked the moment the
    server has taken it (`runs.marking`: a worker dying mid-batch repeats at most the message
    in flight, under the same Message-ID). The next one is written while the server reads the
    last (`mail.hand_over`): its answer is read, and the last one marked, before the next goes.
    One that cannot be written or is refused for good is marked failed and the others go on; a
    temporary failure marks the one it hit and those not yet sent failed, and raises."""
    outcomes: dict[int, str] = {}
    in_flight: tuple[int, mail.Answer] | None = None

    def failed(n: int, exc: Exception, error: str) -> None:
        """A temporary failure fails the digest and those after it, and raises; any other
        fails that digest alone (one bad address never stops the others)."""
        if isinstance(exc, mail.TemporaryFailure):
            _give_up(outgoing[n:], marks, exc)
            raise exc
        log.warning("digest for person %s not sent: %s", outgoing[n].built.person.id, exc)
        marks([outgoing[n].digest_id], DigestStatus.failed, error=error)
        outcomes[outgoing[n].built.person.id] = "failed"

    def settle() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        n, answer = in_flight
        in_flight = None
        out = outgoing[n]
        try:
            answer()
        except Exception as exc:
            failed(n, exc, str(exc))
        else:
            marks([out.digest_id], DigestStatus.sent, message_id=out.message_id)
            outcomes[out.built.person.id] = "sent"

    for n, out in enumerate(outgoing):
        try:  # while the server reads the last one
            message: mail.Written | Exception = mail.written(_message(settings, out))
        except Exception as exc:
            log.exception("digest for person %s not written", out.built.person.id)
            message = exc
        settle()
        if isinstance(message, Exception):
            failed(n, message, f"not written: {message!r}")
            continue
        try:
            in_flight = (n, mail.hand_over(settings, message))
        except Exception as exc:
            failed(n, exc, str(exc))
    settle()
    return outcomes


def _give_up(rest: list[_Outgoing], marks: Callable[..., None], exc: Exception) -> None:
    log.warning(
        "digests from person %s on not sent, to be retried: %s", rest[0].built.person.id, exc
    )
    marks([out.digest_id for out in rest], DigestStatus.failed, error=f"temporary: {exc}")


def warm_up() -> None:
    """Build one person's digest and roll it back: a worker does this before RQ forks a work
    horse per job, so that every horse finds the batch's statements compiled already
    (SQLAlchemy's cache, inherited across the fork) instead of compiling them again per job
    (measured: 0.5 ms a digest). Nothing is claimed, sent or kept."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        person = uow.session.scalars(select(Person).where(Person.is_active).limit(1)).first()
        if person is not None:
            runs.prepare_many(
                uow,
                [person],
                now=utcnow(),
                public_url=settings.public_url,
                api_url=settings.api_url,
                secret=settings.secret(),
            )


class ChartFiles(MutableMapping):
    """Charts remembered as files (`pictures`): shared by a worker's jobs, each run in a
    process of its own, and by the other workers of the host. Keys name the chart and its
    data's fingerprint, so a file is never stale; each is written whole, then renamed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: Hashable) -> Path:
        return self.folder / (hashlib.sha256(repr(key).encode()).hexdigest() + ".png")

    def __getitem__(self, key: Hashable) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __setitem__(self, key: Hashable, png: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(png)
        tmp.replace(path)

    def __delitem__(self, key: Hashable) -> None:
        self._path(key).unlink(missing_ok=True)

    def __iter__(self) -> Iterator[Hashable]:
        raise TypeError("a chart store is looked up by key, not listed")

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.png"))) if self.folder.exists() else 0


def chart_store() -> ChartFiles:
    return ChartFiles(runtime.current().settings.instance_path / "charts")
