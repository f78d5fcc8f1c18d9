"""Sending digests: for each person due, claim their period, build, render, hand the email to
the transport, mark it sent. A claimed period is never claimed again, so a second run sends
nothing new; one person's failure is recorded and the others go on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dispatch import runtime
from network.db import utcnow
from network.digests import pictures, runs
from network.digests.models import Digest, DigestStatus
from network.people.models import Person
from workers import mail

log = logging.getLogger("commons.digests")


@dataclass
class Summary:
    due: int = 0
    sent: int = 0
    empty: int = 0  # nothing new and nothing overdue: no email
    skipped: int = 0  # claimed meanwhile by another run
    failed: list[str] = field(default_factory=list)


def run(
    *, everyone: bool = False, now: datetime | None = None, echo: Callable[[str], None] = log.info
) -> Summary:
    """Send the digests that are due (all, with `everyone`), one person at a time."""
    now = now or utcnow()
    with runtime.unit_of_work() as uow:
        people = runs.due(uow, now, everyone=everyone)
    summary = Summary(due=len(people))
    charts: dict = {}  # each chart drawn once per run, however many digests show it
    for done, person_id in enumerate(people, 1):
        outcome = send_digest(person_id, now=now, charts=charts)
        if outcome == "failed":
            summary.failed.append(str(person_id))
        else:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        if done % 50 == 0 or done == len(people):
            echo(f"  {done}/{len(people)} people")
    return summary


def send_digest(person_id: int, *, now: datetime, charts: dict | None = None) -> str:
    """One person's digest of the current period: "sent", "empty", "skipped" or "failed"."""
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
        row = runs.claim(uow, built)
        if row is None:
            return "skipped"
        if not built.worth_sending:
            runs.finish(row, DigestStatus.empty)
            uow.commit()
            return "empty"
        message_id = mail.digest_id(settings, person.id, built.period)
        images = pictures.charts_of(uow, built, charts)
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
