"""When a person's digest is due, and which period it is: the local date of the scheduled send
(daily, `2026-11-30`) or its ISO week (weekly, `2026-W49`), in the person's time zone. An hour
the clock change skips sends at the next hour that exists; an hour that repeats sends once (its
first occurrence)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from network.digests.models import Frequency


def due_on(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The moment `hour` o'clock of `day` happens in `zone` (UTC)."""
    for later in range(0, 4):
        local = datetime.combine(day, time(hour), tzinfo=zone) + timedelta(hours=later)
        # A wall-clock time that does not exist does not survive the round trip.
        back = local.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) == local.replace(tzinfo=None):
            return local.astimezone(UTC)
    raise ValueError("no such hour")  # pragma: no cover - no zone skips four hours


def period_of(frequency: Frequency, day: date) -> str:
    if frequency is Frequency.weekly:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def latest_due(
    frequency: Frequency, weekday: int, hour: int, timezone: str, now: datetime
) -> tuple[str, datetime]:
    """The period whose send time is the latest at or before `now`, and that time: the period
    that is due (or overdue: a missed run is caught up, not skipped)."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    for back in range(0, 9):
        candidate = day - timedelta(days=back)
        if frequency is Frequency.weekly and candidate.weekday() != weekday:
            continue
        at = due_on(candidate, hour, zone)
        if at <= now:
            return period_of(frequency, candidate), at
    raise ValueError("no due time in the last week")  # pragma: no cover


def first_window_start(frequency: Frequency, now: datetime) -> datetime:
    """A person's first digest covers the last day (daily) or the last 7 days (weekly)."""
    return now - (timedelta(days=7) if frequency is Frequency.weekly else timedelta(days=1))
