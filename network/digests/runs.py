"""Whose digest is due, which news it covers, and the `(person, period)` claim that makes a
period's digest go out once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from network.db import insert_or_get, utcnow
from network.digests import periods, tokens
from network.digests.build import Built, build
from network.digests.models import Digest, DigestPreference, DigestStatus, Frequency
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


def due(uow: UnitOfWork, now: datetime, *, everyone: bool = False) -> list[int]:
    """The active people whose current period has no digest yet: those whose send time has
    come (all who take digests, with `everyone`)."""
    rows = uow.session.execute(
        select(Person.id, DigestPreference)
        .outerjoin(DigestPreference, DigestPreference.person_id == Person.id)
        .where(Person.is_active.is_(True))
        .order_by(Person.id)
    ).all()
    claimed = {
        (person_id, period)
        for person_id, period in uow.session.execute(
            select(Digest.person_id, Digest.period).where(Digest.claimed_at >= _week_before(now))
        )
    }
    found = []
    for person_id, stored in rows:
        preference = preference_from(stored)
        if preference.frequency is Frequency.off:
            continue
        period, at = periods.latest_due(
            preference.frequency, preference.weekday, preference.hour, preference.timezone, now
        )
        if (person_id, period) in claimed:
            continue
        if everyone or at <= now:
            found.append(person_id)
    return found


def _week_before(now: datetime) -> datetime:
    return now - timedelta(days=8)


def claim(uow: UnitOfWork, built: Built) -> Digest | None:
    """Claim the person's period before anything is sent; None when it is already claimed."""
    row, created = insert_or_get(
        uow.session,
        Digest(
            person_id=built.person.id,
            period=built.period,
            status=DigestStatus.claimed,
            window_start=built.window_start,
            window_end=built.window_end,
            items=built.shown,
            claimed_at=utcnow(),
        ),
        lambda: uow.session.scalar(
            select(Digest).where(Digest.person_id == built.person.id, Digest.period == built.period)
        ),
    )
    return row if created else None


def finish(
    row: Digest, status: DigestStatus, *, message_id: str | None = None, error: str | None = None
) -> None:
    row.status = status
    row.message_id = message_id
    row.error = error[:500] if error else None
    row.sent_at = utcnow() if status is DigestStatus.sent else None
