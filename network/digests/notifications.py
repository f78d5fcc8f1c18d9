"""Notifications that cannot wait a period, each with its own opt-out (`notify`): an action
assigned to someone, and a workstream's agenda two hours before its huddle to those who take
part. Each is claimed once per person and key before it is sent; a muted workstream sends
none; permissions are the person's when it is built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from network import access
from network.access import workstreams as workstream_rules
from network.db import insert_or_get, utcnow
from network.digests import claims, tokens
from network.digests.models import (
    DigestStatus,
    Follow,
    Notification,
    ThreadChoice,
)
from network.digests.services import preference_of
from network.people.models import Person
from network.render import london_day, london_time, render
from network.uow import UnitOfWork
from network.workstreams import agenda, documents, standing
from network.workstreams.models import Action, ActionStatus, Workstream

AGENDA_AHEAD = timedelta(hours=2)


@dataclass(frozen=True)
class Prepared:
    person: Person
    key: str
    subject: str
    text: str
    html: str
    unsubscribe_link: str  # the one-click target turns this kind of notification off


def _muted(uow: UnitOfWork, person_id: int, workstream_id: int) -> bool:
    row = uow.session.get(Follow, (person_id, "workstream", workstream_id))
    return row is not None and row.choice is ThreadChoice.mute


def _unsubscribe(uow: UnitOfWork, person_id: int, what: str, *, api_url: str, secret: str) -> str:
    token = tokens.token_for(uow, secret, person_id)
    return f"{api_url}/api/v1/unsubscribe/{token}?notify={what}"


def action_assigned(
    uow: UnitOfWork,
    action_id: int,
    owner_id: int,
    *,
    public_url: str,
    api_url: str,
    secret: str,
) -> Prepared | None:
    """The email telling `owner_id` an action is theirs; None when it should not go: they
    opted out, muted the workstream, no longer read it, or the action moved on meanwhile."""
    action = uow.session.get(Action, action_id)
    person = uow.session.get(Person, owner_id)
    if action is None or person is None or not person.is_active:
        return None
    if action.owner_id != owner_id or action.status is not ActionStatus.open or action.hidden:
        return None
    if not preference_of(uow, owner_id).notify.action_assigned:
        return None
    workstream = uow.session.get_one(Workstream, action.workstream_id)
    principal = access.load_principal(uow.session, person)
    if not workstream_rules.rights(uow.session, principal, workstream).read:
        return None
    if _muted(uow, owner_id, workstream.id):
        return None
    link = f"{public_url}/workstreams/{workstream.id}"
    unsubscribe = _unsubscribe(uow, owner_id, "action_assigned", api_url=api_url, secret=secret)
    context = {
        "person": person,
        "action": action,
        "workstream": workstream,
        "link": link,
        "unsubscribe_link": unsubscribe,
        "settings_link": f"{public_url}/settings/digest",
    }
    return Prepared(
        person=person,
        key=f"action:{action.id}:{owner_id}",
        subject=f"Action for you: {action.title}",
        text=render("notify_action.txt", **context),
        html=render("notify_action.html", **context),
        unsubscribe_link=unsubscribe,
    )


def agendas_due(uow: UnitOfWork, now: datetime) -> list[tuple[int, standing.Huddle]]:
    """(person, huddle) for every huddle starting in the next two hours, for each person who
    takes part and has not had its agenda."""
    found = []
    for huddle in standing.huddles_starting(uow, start=now, end=now + AGENDA_AHEAD):
        sent = set(
            uow.session.scalars(
                select(Notification.person_id).where(Notification.key == _agenda_key(huddle))
            )
        )
        for person_id in standing.people_taking_part(uow, huddle.workstream_id):
            if person_id not in sent:
                found.append((person_id, huddle))
    return found


def _agenda_key(huddle: standing.Huddle) -> str:
    return f"agenda:{huddle.workstream_id}:{huddle.starts_at:%Y%m%dT%H%MZ}"


def agenda_for(
    uow: UnitOfWork,
    person_id: int,
    huddle: standing.Huddle,
    *,
    now: datetime,
    public_url: str,
    api_url: str,
    secret: str,
    taking_part: bool = False,
) -> Prepared | None:
    """A huddle's agenda as this person reads it, or None (opted out, muted, no longer reads
    or takes part; `taking_part`: the caller has just checked that)."""
    person = uow.session.get(Person, person_id)
    if person is None or not person.is_active:
        return None
    if not preference_of(uow, person_id).notify.agenda or _muted(
        uow, person_id, huddle.workstream_id
    ):
        return None
    if not taking_part and person_id not in standing.people_taking_part(uow, huddle.workstream_id):
        return None
    principal = access.load_principal(uow.session, person)
    built = agenda.build(uow, principal, huddle.workstream_id, public_url=public_url, now=now)
    unsubscribe = _unsubscribe(uow, person_id, "agenda", api_url=api_url, secret=secret)
    return Prepared(
        person=person,
        key=_agenda_key(huddle),
        subject=f"Agenda: {huddle.workstream_title}, {_when(huddle.starts_at)}",
        text=documents.render_agenda(built, "text", unsubscribe_link=unsubscribe),
        html=documents.render_agenda(built, "html", unsubscribe_link=unsubscribe),
        unsubscribe_link=unsubscribe,
    )


def _when(at: datetime) -> str:
    return f"{london_day(at)} {london_time(at)}"


def claim(
    uow: UnitOfWork, person_id: int, key: str, *, stale_before: datetime
) -> Notification | None:
    """Claim a notification before sending it; None when it is someone else's (see
    `runs.claim`: a failed send or a stale claim is taken over)."""
    row, created = insert_or_get(
        uow.session,
        Notification(
            person_id=person_id,
            key=key,
            status=DigestStatus.claimed,
            claimed_at=utcnow(),
            attempts=1,
        ),
        lambda: uow.session.scalar(
            select(Notification).where(Notification.person_id == person_id, Notification.key == key)
        ),
    )
    if created:
        return row
    taken = claims.take_over(uow.session, Notification, row, stale_before=stale_before)
    return row if taken else None
