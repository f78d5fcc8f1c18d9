"""Sending digests.

`fan_out` (RQ's cron runs it every 15 minutes, `commons digests run` by hand) finds in SQL, in
batches, the people whose digest is due and asks for one `send` job each, under a deterministic
job id (`digest-<person>-<period>`), through the outbox. `send` claims the person's period in the
database, builds, renders, hands the email to the transport and marks it sent. A claimed period
is never claimed again unless its send failed or its worker died (a claim older than the job
timeout), so duplicate fan-outs, two schedulers and re-runs send nothing twice; a temporary SMTP
failure raises, and RQ retries the job with backoff; a permanent one is recorded and the others
go on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch import runtime
from network.db import utcnow
from network.digests import pictures, runs
from network.digests.models import Digest, DigestStatus
from network.people.models import Person
from network.uow import Job
from workers import mail

log = logging.getLogger("commons.digests")

BATCH = 500


@dataclass
class Summary:
    due: int = 0
    sent: int = 0
    empty: int = 0  # nothing new and nothing overdue: no email
    skipped: int = 0  # claimed meanwhile by another run
    failed: list[str] = field(default_factory=list)


def job_id(person_id: int, period: str) -> str:
    return f"digest-{person_id}-{period}"


def fan_out(
    now: datetime | None = None,
    *,
    everyone: bool = False,
    echo: Callable[[str], None] = log.info,
) -> list[tuple[int, str]]:
    """Ask for the digest of everyone due: each person's current period (the latest send time
    at or before now, so a missed run is caught up), unless it is claimed already or they
    joined after that time (`everyone` includes them). One job per person, recorded in batches
    of 500 and handed to the `digests` queue as each commits. Returns the pairs asked for."""
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
                for person_id in people:
                    uow.enqueue_after_commit(
                        Job(
                            "workers.digests.send",
                            (person_id, schedule.period),
                            queue="digests",
                            job_id=job_id(person_id, schedule.period),
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
    """The job: one person's digest of `period`. Raises `mail.TemporaryFailure` for RQ to retry."""
    return send_digest(person_id, now=utcnow(), period=period)


def send_digest(
    person_id: int,
    *,
    now: datetime,
    period: str | None = None,
    charts: dict | None = None,
) -> str:
    """One person's digest of the current period (which must be `period`, when given): "sent",
    "empty", "skipped" (not theirs to send, or no longer due) or "failed" (for good)."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        person = uow.session.get(Person, person_id)
        if person is None or not person.is_active:
            return "skipped"
        built = runs.prepare(
            uow,
            person,
            now=now,
            public_url=settings.public_url,
            api_url=settings.api_url,
            secret=settings.secret(),
        )
        if period is not None and built.period != period:
            # Late (a retry after the next period began): that period's run covers the news.
            return "skipped"
        stale_before = now - timedelta(seconds=settings.digest_job_timeout)
        row = runs.claim(uow, built, stale_before=stale_before)
        if row is None:
            return "skipped"
        if not built.worth_sending:
            runs.finish(row, DigestStatus.empty)
            uow.commit()
            return "empty"
        message_id = mail.digest_id(settings, person.id, built.period)
        images = pictures.charts_of(uow, built, charts if charts is not None else {})
        message = mail.digest_message(
            settings,
            to=person.email,
            subject=built.subject,
            text=runs.render_text(built),
            html=runs.render_html(built, pictures.as_cid(images)),
            message_id=message_id,
            unsubscribe_url=built.unsubscribe_link,
            images={pictures.content_id(key): png for key, png in images.items()},
        )
        digest_id = row.id
        uow.commit()  # claimed before anything is sent
    try:
        mail.send(settings, message)
    except mail.TemporaryFailure as exc:
        log.warning("digest for person %s not sent, to be retried: %s", person_id, exc)
        _finish(digest_id, DigestStatus.failed, error=f"temporary: {exc}")
        raise
    except Exception as exc:  # one bad address never stops the others
        log.warning("digest for person %s not sent: %s", person_id, exc)
        _finish(digest_id, DigestStatus.failed, error=str(exc))
        return "failed"
    _finish(digest_id, DigestStatus.sent, message_id=message_id)
    return "sent"


def _finish(digest_id: int, status: DigestStatus, **details: str) -> None:
    with runtime.unit_of_work() as uow:
        runs.finish(uow.session.get_one(Digest, digest_id), status, **details)
        uow.commit()
