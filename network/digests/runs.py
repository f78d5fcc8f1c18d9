"""Whose digest is due, which news it covers, and the `(person, period)` claim that makes a
period's digest go out once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update

from network.db import (
    among,
    commit_without_waiting_for_disk,
    insert_into,
    insert_or_get,
    statements_committing_alone,
    utcnow,
)
from network.digests import claims, periods, tokens
from network.digests.build import Built, Reader, build_many
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
    [built] = prepare_many(
        uow, [person], now=now, public_url=public_url, api_url=api_url, secret=secret
    )
    return built


def prepare_many(
    uow: UnitOfWork,
    people: Sequence[Person],
    *,
    now: datetime,
    public_url: str,
    api_url: str,
    secret: str,
) -> list[Built]:
    """`prepare` for many people at once (a digest job's batch), in a fixed number of
    statements: their preferences and unsubscribe tokens, where each one's news starts, then
    `build_many`."""
    if not people:
        return []
    ids = [p.id for p in people]
    tokens_by_person = tokens.tokens_for(uow, secret, ids)
    stored = {
        row.person_id: row
        for row in uow.session.scalars(
            select(DigestPreference).where(among(uow.session, DigestPreference.person_id, ids))
        )
    }
    last_sent = dict(
        uow.session.execute(
            select(Digest.person_id, func.max(Digest.window_end))
            .where(among(uow.session, Digest.person_id, ids), Digest.status == DigestStatus.sent)
            .group_by(Digest.person_id)
        ).all()
    )
    readers = []
    for person in people:
        preference = preference_from(stored.get(person.id))
        frequency = preference.frequency
        period, _due = periods.latest_due(
            frequency if frequency is not Frequency.off else Frequency.daily,
            preference.weekday,
            preference.hour,
            preference.timezone,
            now,
        )
        start = last_sent.get(person.id)
        if start is None:  # a first digest covers the last day or week, never before they joined
            start = max(periods.first_window_start(frequency, now), person.created_at)
        link = f"{api_url}/api/v1/unsubscribe/{tokens_by_person[person.id]}"
        readers.append(Reader(person, preference, period, start, link))
    return build_many(uow, readers, now=now, public_url=public_url)


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


def claim_many(
    uow: UnitOfWork, built: Sequence[Built], *, stale_before: datetime
) -> dict[int, int]:
    """`claim` for many digests at once: {person id: digest row id} of those this run now
    holds. The new rows in one INSERT that leaves alone any (person, period) row already there,
    whoever made it (the unique key decides, as in `claim`); rows already there are read in one
    statement and taken over, one by one, only when failed or stale."""
    if not built:
        return {}
    claimed_at = utcnow()
    made = uow.session.execute(
        insert_into(uow.session, Digest)
        .values(
            [
                {
                    "person_id": b.person.id,
                    "period": b.period,
                    "status": DigestStatus.claimed,
                    "window_start": b.window_start,
                    "window_end": b.window_end,
                    "items": b.shown,
                    "claimed_at": claimed_at,
                    "attempts": 1,
                }
                for b in built
            ]
        )
        .on_conflict_do_nothing(index_elements=["person_id", "period"])
        .returning(Digest.person_id, Digest.id)
    ).all()
    held = {person_id: digest_id for person_id, digest_id in made}
    others = {(b.person.id, b.period): b for b in built if b.person.id not in held}
    if others:
        existing = uow.session.scalars(
            select(Digest).where(among(uow.session, Digest.person_id, {p for p, _ in others}))
        ).all()
        for row in existing:
            b = others.get((row.person_id, row.period))
            if b is None:
                continue
            taken = claims.take_over(
                uow.session,
                Digest,
                row,
                stale_before=stale_before,
                values={
                    "window_start": b.window_start,
                    "window_end": b.window_end,
                    "items": b.shown,
                },
            )
            if taken:
                held[row.person_id] = row.id
    return held


_DIGESTS = Digest.__table__
# Built once: each mark runs the same compiled statement.
_MARK = (
    update(_DIGESTS)  # type: ignore[arg-type]
    .where(_DIGESTS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=bindparam("status"),
        message_id=bindparam("message_id"),
        error=bindparam("error"),
        sent_at=bindparam("sent_at"),
    )
)


def _mark_values(
    digest_ids: Sequence[int], status: DigestStatus, message_id: str | None, error: str | None
) -> dict:
    return {
        "ids": sorted(digest_ids),
        "status": status,
        "message_id": message_id,
        "error": error[:500] if error else None,
        "sent_at": utcnow() if status is DigestStatus.sent else None,
    }


def mark(
    uow: UnitOfWork,
    digest_ids: Sequence[int],
    status: DigestStatus,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    """`finish` for claimed digests by id, in one UPDATE."""
    if digest_ids:
        values = _mark_values(digest_ids, status, message_id, error)
        uow.session.connection().execute(_MARK, values)


@contextmanager
def marking(uow: UnitOfWork) -> Iterator[Callable[..., None]]:
    """`with marking(uow) as marks: marks(ids, status, ...)`: marks digests as they are sent,
    each mark committed at once (a worker dying mid-batch then repeats at most the message in
    flight). On PostgreSQL each mark is one statement on a connection of its own in autocommit
    that does not wait for the disk (`statements_committing_alone`: one round trip, not four;
    losing a mark to a crash of the database server means one repeat under the same
    Message-ID); elsewhere a transaction of the unit per mark."""
    with statements_committing_alone(uow.session) as alone:

        def marks(
            digest_ids: Sequence[int],
            status: DigestStatus,
            *,
            message_id: str | None = None,
            error: str | None = None,
        ) -> None:
            if not digest_ids:
                return
            if alone is not None:
                alone.execute(_MARK, _mark_values(digest_ids, status, message_id, error))
                return
            commit_without_waiting_for_disk(uow.session)
            mark(uow, digest_ids, status, message_id=message_id, error=error)
            uow.commit()

        yield marks


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
