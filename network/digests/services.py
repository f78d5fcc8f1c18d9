"""Digest preferences: stored per person, with defaults until they choose."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from network.access import Principal
from network.db import utcnow
from network.digests.models import DEFAULT_PREFERENCE, DigestContent, DigestPreference, Frequency
from network.digests.tokens import preference_row
from network.errors import Invalid
from network.uow import UnitOfWork


@dataclass(frozen=True)
class Notify:
    """The notifications that cannot wait a period, each on or off."""

    action_assigned: bool = True
    agenda: bool = True


@dataclass(frozen=True)
class Preference:
    frequency: Frequency
    weekday: int
    hour: int
    timezone: str
    content: DigestContent
    notify: Notify = Notify()


def get_preference(uow: UnitOfWork, principal: Principal) -> Preference:
    """The principal's stored preference, or the defaults when they have not chosen."""
    return preference_of(uow, principal.person_id)


def preference_of(uow: UnitOfWork, person_id: int) -> Preference:
    """A person's preference, or the defaults when they have not chosen."""
    return preference_from(uow.session.get(DigestPreference, person_id))


def preference_from(stored: DigestPreference | None) -> Preference:
    """A stored preference row as a preference; the defaults for none."""
    if stored is None:
        # DEFAULT_PREFERENCE is a plain dict (its values typed `object`) keyed by these fields.
        return Preference(**DEFAULT_PREFERENCE)  # type: ignore[arg-type]
    return Preference(
        frequency=stored.frequency,
        weekday=stored.weekday,
        hour=stored.hour,
        timezone=stored.timezone,
        content=stored.content,
        notify=Notify(stored.notify_action_assigned, stored.notify_agenda),
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
    notify: dict[str, bool] | None = None,
) -> Preference:
    """Replace the principal's preference (`notify` left as it was when not given)."""
    if not 0 <= weekday <= 6:
        raise Invalid("weekday is 0 (Monday) to 6 (Sunday).", field="weekday")
    if not 0 <= hour <= 23:
        raise Invalid("hour is 0 to 23.", field="hour")
    _check_timezone(timezone)
    stored = preference_row(uow, principal.person_id)
    stored.frequency = Frequency(frequency)
    stored.weekday = weekday
    stored.hour = hour
    stored.timezone = timezone
    stored.content = DigestContent(content)
    if notify is not None:
        stored.notify_action_assigned = notify.get("action_assigned", stored.notify_action_assigned)
        stored.notify_agenda = notify.get("agenda", stored.notify_agenda)
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


UNSUBSCRIBE_CHOICES = ("off", "weekly", "titles", "notify:action_assigned", "notify:agenda")


def apply_unsubscribe(uow: UnitOfWork, row: DigestPreference, choice: str) -> str:
    """What an unsubscribe link's page (or a mail provider's one-click POST) asks: digests off,
    weekly instead of daily, or titles only. The same answer however often it is asked."""
    if choice not in UNSUBSCRIBE_CHOICES:
        raise Invalid(f"choice is one of {', '.join(UNSUBSCRIBE_CHOICES)}.", field="choice")
    if choice == "notify:action_assigned":
        row.notify_action_assigned = False
        message = "You will get no more emails when an action is assigned to you."
    elif choice == "notify:agenda":
        row.notify_agenda = False
        message = "You will get no more agendas before huddles."
    elif choice == "off":
        row.frequency = Frequency.off
        if row.unsubscribed_at is None:
            row.unsubscribed_at = utcnow()
        message = "You will get no more digests. You can turn them on again in Commons."
    elif choice == "weekly":
        if row.frequency is Frequency.daily:
            row.frequency = Frequency.weekly
        message = "Your digest now comes once a week."
    else:
        row.content = DigestContent.titles
        message = "Your digest now holds titles and links only, never what anyone wrote."
    uow.session.flush()
    return message
