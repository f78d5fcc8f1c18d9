"""Digest preferences: stored per person, with defaults until they choose."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from network.access import Principal
from network.db import insert_or_get
from network.digests.models import DEFAULT_PREFERENCE, DigestContent, DigestPreference, Frequency
from network.errors import Invalid
from network.uow import UnitOfWork


@dataclass(frozen=True)
class Preference:
    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    content: DigestContent


def get_preference(uow: UnitOfWork, principal: Principal) -> Preference:
    """The principal's stored preference, or the defaults when they have not chosen."""
    stored = uow.session.get(DigestPreference, principal.person_id)
    if stored is None:
        # DEFAULT_PREFERENCE is a plain dict (its values typed `object`) keyed by these fields.
        return Preference(**DEFAULT_PREFERENCE)  # type: ignore[arg-type]
    return Preference(
        frequency=stored.frequency,
        weekday=stored.weekday,
        hour=stored.hour,
        timezone=stored.timezone,
        content=stored.content,
    )


def set_preference(
    uow: UnitOfWork,
    principal: Principal,
    *,
    frequency: Frequency,
    weekday: int,
    hour: int,
    timezone: str,
    content: DigestContent,
) -> Preference:
    """Replace the principal's preference."""
    if not 0 <= weekday <= 6:
        raise Invalid("weekday is 0 (Monday) to 6 (Sunday).", field="weekday")
    if not 0 <= hour <= 23:
        raise Invalid("hour is 0 to 23.", field="hour")
    _check_timezone(timezone)
    existing = uow.session.get(DigestPreference, principal.person_id)
    if existing is not None:
        stored = existing
    else:
        stored, _ = insert_or_get(
            uow.session,
            DigestPreference(person_id=principal.person_id, **DEFAULT_PREFERENCE),
            lambda: uow.session.get(DigestPreference, principal.person_id),
        )
    stored.frequency = Frequency(frequency)
    stored.weekday = weekday
    stored.hour = hour
    stored.timezone = timezone
    stored.content = DigestContent(content)
    uow.session.flush()
    return get_preference(uow, principal)


# In the tz database but no place's time: the server's own zone, and a placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory"})


def _check_timezone(name: str) -> None:
    if name in _NOT_PLACES or name not in available_timezones():
        raise Invalid(f"{name!r} is not an IANA time zone such as Europe/London.", field="timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{name!r} is not an IANA time zone.", field="timezone") from None
