"""Whose digest is due, which news it covers, and the `(person, period)` claim that makes a
period's digest go out once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from network.db import insert_or_get, utcnow
from network.digests import claims, periods, tokens
from network.digests.build import Built, build
from network.digests.models import (
    Digest,
    DigestPreference,
    DigestStatus,
    Frequency,
    Notification,
)
from network.digests.services import Preference, preference_from, preference_of
from network.people.models import Person
from network.render import render
from network.uow import UnitOfWork


def window_start(uow: UnitOfWork, person: Person, preference: Preference, now: datetime):
    """Where the next digest's news starts: where the last sent one's ended; a first digest
    covers the last day or week, never before the person joined."""
    last = uow.session.scalar(
        select(Digest.window_end)
        .where(Digest.person_id == person.id, Digest.status == DigestStatus.sent)
        .order_by(Digest.window_end.desc())
        .limit(1)
    )
    if last is not None:
        return last
    return max(periods.first_window_start(preference.frequency, now), person.created_at)


def unsubscribe_link(uow: UnitOfWork, person_id: int, *, api_url: str, secret: str) -> str:
    return f"{api_url}/api/v1/unsubscribe/{tokens.token_for(uow, secret, person_id)}"


def prepare(
    uow: UnitOfWork,
    person: Person,
    *,
    now: datetime,
    public_url: str,
    api_url: str,
    secret: str,
) -> Built:
    """The digest the person would get if it were sent now (the preview, and what is sent)."""
    preference = preference_of(uow, person.id)
    period, _due = periods.latest_due(
        preference.frequency if preference.frequency is not Frequency.off else Frequency.daily,
        preference.weekday,
        preference.hour,
        preference.timezone,
        now,
    )
    return build(
        uow,
        person,
        preference,
        period=period,
        window_start=window_start(uow, person, preference, now),
        now=now,
        public_url=public_url,
        unsubscribe_link=unsubscribe_link(uow, person.id, api_url=api_url, secret=secret),
    )


def render_text(built: Built) -> str:
    return render("digest.txt", d=built)


def render_html(built: Built, images: dict | None = None) -> str:
    """The email's HTML; `images` says where each chart is (an inline part, or a data URI)."""
    return render("digest.html", d=built, images=images or {})


@dataclass(frozen=True)
class Schedule:
    """People who share a schedule share their period: one row per distinct (frequency,
    weekday, hour, time zone) — a few dozen, whatever the number of people."""

    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    stored: bool  # False: the people with no preference row (the defaults)
    period: str
    due_at: datetime


def schedules(uow: UnitOfWork, now: datetime) -> list[Schedule]:
    """Every schedule taking digests, with its current period: the latest send time at or
    before `now` in its time zone, so a missed run is caught up, not skipped. Who of its people
    is due is `due_people`' question (nobody whose period is claimed already)."""
    found = []
    stored = uow.session.execute(
        select(
            DigestPreference.frequency,
            DigestPreference.weekday,
            DigestPreference.hour,
            DigestPreference.timezone,
        )
        .where(DigestPreference.frequency != Frequency.off)
        .distinct()
    ).all()
    default = preference_from(None)
    combos = [(f, w, h, tz, True) for f, w, h, tz in stored] + [
        (default.frequency, default.weekday, default.hour, default.timezone, False)
    ]
    for frequency, weekday, hour, timezone, is_stored in combos:
        period, at = periods.latest_due(frequency, weekday, hour, timezone, now)
        found.append(Schedule(frequency, weekday, hour, timezone, is_stored, period, at))
    return found


def due_people(
    uow: UnitOfWork,
    schedule: Schedule,
    *,
    stale_before: datetime,
    after: int = 0,
    limit: int = 500,
    everyone: bool = False,
) -> list[int]:
    """The next `limit` active people (by id, after `after`) on this schedule whose period has
    no digest yet, or one whose worker died holding it (claimed before `stale_before`). Someone
    who joined after the period's send time waits for the next one, unless `everyone`."""
    claimed = (
        select(Digest.id)
        .where(
            Digest.person_id == Person.id,
            Digest.period == schedule.period,
            or_(Digest.status != DigestStatus.claimed, Digest.claimed_at >= stale_before),
        )
        .exists()
    )
    query = (
        select(Person.id)
        .outerjoin(DigestPreference, DigestPreference.person_id == Person.id)
        .where(Person.is_active.is_(True), Person.id > after, ~claimed)
        .order_by(Person.id)
        .limit(limit)
    )
    if not everyone:
        query = query.where(Person.created_at <= schedule.due_at)
    if schedule.stored:
        query = query.where(
            DigestPreference.frequency == schedule.frequency,
            DigestPreference.weekday == schedule.weekday,
            DigestPreference.hour == schedule.hour,
            DigestPreference.timezone == schedule.timezone,
        )
    else:
        query = query.where(DigestPreference.person_id.is_(None))
    return list(uow.session.scalars(query))


def current_period(uow: UnitOfWork, person_id: int, now: datetime) -> str | None:
    """The period a person's digest would be for now; None when they take none."""
    preference = preference_of(uow, person_id)
    if preference.frequency is Frequency.off:
        return None
    return periods.latest_due(
        preference.frequency, preference.weekday, preference.hour, preference.timezone, now
    )[0]


def outcomes(uow: UnitOfWork, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The status of each (person, period) digest row that exists."""
    found: dict[tuple[int, str], str] = {}
    for chunk in range(0, len(wanted), 500):
        part = wanted[chunk : chunk + 500]
        rows = uow.session.execute(
            select(Digest.person_id, Digest.period, Digest.status).where(
                Digest.person_id.in_({p for p, _ in part})
            )
        )
        wanted_set = set(part)
        for person_id, period, status in rows:
            if (person_id, period) in wanted_set:
                found[(person_id, period)] = str(status)
    return found


def claim(uow: UnitOfWork, built: Built, *, stale_before: datetime) -> Digest | None:
    """Claim the person's period before anything is sent; None when it is someone else's: sent,
    empty, or claimed by a run still within its time. A failed send, or a claim older than
    `stale_before` (its worker died), is taken over — by one run only."""
    fresh = Digest(
        person_id=built.person.id,
        period=built.period,
        status=DigestStatus.claimed,
        window_start=built.window_start,
        window_end=built.window_end,
        items=built.shown,
        claimed_at=utcnow(),
        attempts=1,
    )
    row, created = insert_or_get(
        uow.session,
        fresh,
        lambda: uow.session.scalar(
            select(Digest).where(Digest.person_id == built.person.id, Digest.period == built.period)
        ),
    )
    if created:
        return row
    taken = claims.take_over(
        uow.session,
        Digest,
        row,
        stale_before=stale_before,
        values={
            "window_start": built.window_start,
            "window_end": built.window_end,
            "items": built.shown,
        },
    )
    return row if taken else None


def finish(
    row: Digest | Notification,
    status: DigestStatus,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Record how a claimed digest or notification ended."""
    row.status = status
    row.message_id = message_id
    row.error = error[:500] if error else None
    row.sent_at = utcnow() if status is DigestStatus.sent else None
