"""Sending notifications that cannot wait a period: an action assigned (a job, queued when the
change commits) and agendas two hours before huddles (with each digests run). Claimed once per
person and key before sending; one failure is recorded and the rest go on."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dispatch import runtime
from network.db import utcnow
from network.digests import notifications, runs
from network.digests.models import DigestStatus, Notification
from network.uow import UnitOfWork
from workers import mail

log = logging.getLogger("commons.notifications")


def send_action_assigned(action_id: int, owner_id: int) -> str:
    """The job queued when an action is given to someone other than who gave it."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        prepared = notifications.action_assigned(
            uow,
            action_id,
            owner_id,
            public_url=settings.public_url,
            api_url=settings.api_url,
            secret=settings.secret(),
        )
        return _deliver(uow, prepared, raise_temporary=True)


def send_agendas(now: datetime | None = None) -> dict[str, int]:
    """Every agenda due now (huddles in the next two hours): how many went, by outcome."""
    settings = runtime.current().settings
    now = now or utcnow()
    with runtime.unit_of_work() as uow:
        due = notifications.agendas_due(uow, now)
    outcomes: dict[str, int] = {}
    for person_id, huddle in due:
        with runtime.unit_of_work() as uow:
            prepared = notifications.agenda_for(
                uow,
                person_id,
                huddle,
                now=now,
                public_url=settings.public_url,
                api_url=settings.api_url,
                secret=settings.secret(),
                taking_part=True,
            )
            outcome = _deliver(uow, prepared)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def mail_timeout(settings) -> int:
    from dispatch.queues import spec

    return spec(settings, "mail").timeout


def _deliver(
    uow: UnitOfWork, prepared: notifications.Prepared | None, *, raise_temporary: bool = False
) -> str:
    """Claim, commit, send, record: "sent", "skipped" (not to go, or already claimed) or
    "failed". A failed one is taken over by the next try: the job's retry (`raise_temporary`:
    a temporary failure raises for RQ to retry) or the next scheduled run (agendas)."""
    if prepared is None:
        return "skipped"
    settings = runtime.current().settings
    stale_before = utcnow() - timedelta(seconds=mail_timeout(settings))
    row = notifications.claim(uow, prepared.person.id, prepared.key, stale_before=stale_before)
    if row is None:
        return "skipped"
    message_id = mail.notification_id(settings, prepared.person.id, prepared.key)
    message = mail.digest_message(
        settings,
        to=prepared.person.email,
        subject=prepared.subject,
        text=prepared.text,
        html=prepared.html,
        message_id=message_id,
        unsubscribe_url=prepared.unsubscribe_link,
    )
    row_id = row.id
    uow.commit()  # claimed before anything is sent
    try:
        mail.send(settings, message)
    except Exception as exc:  # one bad address never stops the others
        log.warning("notification %s not sent: %s", prepared.key, exc)
        temporary = isinstance(exc, mail.TemporaryFailure)
        _finish(row_id, DigestStatus.failed, error=f"temporary: {exc}" if temporary else str(exc))
        if temporary and raise_temporary:
            raise
        return "failed"
    _finish(row_id, DigestStatus.sent, message_id=message_id)
    return "sent"


def _finish(row_id: int, status: DigestStatus, **details: str) -> None:
    with runtime.unit_of_work() as uow:
        runs.finish(uow.session.get_one(Notification, row_id), status, **details)
        uow.commit()
