"""A person's calendar feed of huddles: one secret URL per person, read by calendar programs
without an access token (the URL is the credential), with the huddles of every workstream they
take part in — their practice participates, they lead it, or they manage it (administer its
owner) — and read.

Only the SHA-256 of a feed's token is stored (`CalendarFeed`, one row per person); a new token
replaces the row, so the old URL stops working. A feed holds titles, times, locations and a link
to the agenda: never notes, decisions or anything else a practice wrote, since its URL may be
pasted into other calendar services.

Each workstream with a meeting rule is one recurring event in Europe/London wall-clock time
(the VTIMEZONE in the two-rule form every client reads); a stored meeting at an occurrence
overrides that occurrence (RECURRENCE-ID), one elsewhere is an event of its own."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from dateutil import parser as date_parser
from dateutil import rrule
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur
from sqlalchemy import ColumnElement, Row, exists, or_, select, true, update

from network import access
from network.access import Principal, principal_of
from network.access import workstreams as rules
from network.db import changed_rows, insert_or_get, utcnow
from network.errors import NotFound
from network.people.models import Person
from network.uow import UnitOfWork
from network.workstreams import meetings as meeting_rules
from network.workstreams.models import (
    CalendarFeed,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
    WorkstreamStatus,
)

LOCAL_TIME = meeting_rules.LOCAL_TIME
TZID = "Europe/London"
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
NOT_FOUND = "There is no calendar feed at this address."
PRODID = "-//Commons//Huddles//EN"
REFRESH = timedelta(hours=1)
# Stored meetings this far back are in the feed (and every one after); the recurring event
# covers the rest of the past.
STORED_SINCE = timedelta(days=90)
_STOPPED = (WorkstreamStatus.paused, WorkstreamStatus.completed)
# Parts of a rule that a single value matching DTSTART makes redundant (RFC 5545 3.3.10: they
# default to DTSTART's); some clients (Outlook, Google) do not take them in a rule.
_TIME_PARTS = (("BYHOUR", "hour"), ("BYMINUTE", "minute"), ("BYSECOND", "second"))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_path(token: str) -> str:
    """The feed's path under the API's URL."""
    return f"/api/v1/calendar/{token}.ics"


def new_token(uow: UnitOfWork, principal: Principal) -> str:
    """A new feed token for the principal; it replaces their old one, which stops working at
    once. Only its hash is stored. Two at the same moment leave one row (the primary key
    decides): the later one's token works, the other's does not."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = token_hash(token)
    now = utcnow()
    replace = (
        update(CalendarFeed)
        .where(CalendarFeed.person_id == principal.person_id)
        .values(token_hash=digest, created_at=now)
    )
    if changed_rows(uow.session, replace) == 0:
        _, created = insert_or_get(
            uow.session,
            CalendarFeed(person_id=principal.person_id, token_hash=digest, created_at=now),
            lambda: uow.session.get(CalendarFeed, principal.person_id),
        )
        if not created:  # another request inserted first: this one's token replaces it
            changed_rows(uow.session, replace)
    uow.session.flush()
    return token


def feed(uow: UnitOfWork, token: str, *, api_url: str, public_url: str) -> bytes:
    """The iCalendar of the feed with this token, or NotFound (the same for a token that was
    never given out, one replaced by a newer one, one that could not be one, and a person no
    longer active). Stored meetings are included from `STORED_SINCE` (90 days) back onwards;
    each workstream's recurring event covers the rest."""
    if not _TOKEN.fullmatch(token):
        raise NotFound(NOT_FOUND)
    row = uow.session.execute(
        select(CalendarFeed.person_id, Person.name)
        .join(Person, Person.id == CalendarFeed.person_id)
        .where(CalendarFeed.token_hash == token_hash(token))
    ).first()
    principal = principal_of(uow.session, row.person_id) if row is not None else None
    if row is None or principal is None:
        raise NotFound(NOT_FOUND)
    now = utcnow()
    workstreams = taking_part(uow, principal)
    stored = _stored_meetings(uow, [w.id for w in workstreams], since=now - STORED_SINCE)
    host = urlsplit(api_url).hostname or "commons"
    calendar = _calendar(row.name)
    for workstream in workstreams:
        for event in _events(workstream, stored.get(workstream.id, []), host, public_url, now):
            calendar.add_component(event)
    return calendar.to_ical()


# --- which workstreams -----------------------------------------------------------------------


def _takes_part(principal: Principal) -> ColumnElement[bool]:
    """Their practice participates (and has not left), they lead it, or they administer its
    owner (superusers administer every organisation)."""
    conditions: list[ColumnElement[bool]] = [Workstream.lead_id == principal.person_id]
    if principal.practices:
        conditions.append(
            exists().where(
                Participation.workstream_id == Workstream.id,
                Participation.practice_id.in_(sorted(principal.practices)),
                Participation.left_at.is_(None),
            )
        )
    if principal.is_superuser:
        conditions.append(true())
    elif principal.admin_of:
        conditions.append(
            Workstream.organisation_id.in_(access.administered_organisations(principal))
        )
    return or_(*conditions)


def taking_part(uow: UnitOfWork, principal: Principal) -> list[Workstream]:
    """The workstreams the principal takes part in and reads, hidden ones left out, in one
    statement (the rights of each then need only the owners' chains, looked up once each)."""
    found = uow.session.scalars(
        select(Workstream)
        .where(
            Workstream.organisation_id.in_(sorted(access.readable_board_ids(principal))),
            rules.shown(),
            _takes_part(principal),
        )
        .order_by(Workstream.id)
    ).all()
    return [w for w in found if not w.hidden and rules.rights(uow.session, principal, w).read]


@dataclass(frozen=True)
class StoredMeeting:
    """What of a stored meeting a feed may show: no notes, decisions or attendance."""

    id: int
    workstream_id: int
    starts_at: datetime
    minutes: int
    location: str | None
    status: MeetingStatus
    version: int
    updated_at: datetime


def _stored_meetings(
    uow: UnitOfWork, workstream_ids: Sequence[int], *, since: datetime
) -> dict[int, list[StoredMeeting]]:
    """The stored meetings of these workstreams from `since` on, by workstream, in one
    statement that reads only the columns a feed shows."""
    if not workstream_ids:
        return {}
    rows: Iterable[Row] = uow.session.execute(
        select(
            Meeting.id,
            Meeting.workstream_id,
            Meeting.starts_at,
            Meeting.minutes,
            Meeting.location,
            Meeting.status,
            Meeting.version,
            Meeting.updated_at,
        )
        .where(Meeting.workstream_id.in_(list(workstream_ids)), Meeting.starts_at >= since)
        .order_by(Meeting.workstream_id, Meeting.starts_at, Meeting.id)
    )
    found: dict[int, list[StoredMeeting]] = {}
    for row in rows:
        meeting = StoredMeeting(*row)
        found.setdefault(meeting.workstream_id, []).append(meeting)
    return found


# --- the recurring event ---------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """A workstream's huddles as one recurring event: the first occurrence (London time) and
    the RRULE to write, its end (if any) in UTC."""

    first: datetime
    rule: str


def _in_utc(wall: datetime) -> datetime:
    return wall.replace(tzinfo=LOCAL_TIME).astimezone(UTC)


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _parts(rule: str) -> dict[str, str]:
    """A stored rule (normalised: upper case, no spaces) as its NAME=value parts, in order."""
    return dict(part.partition("=")[::2] for part in rule.split(";") if part)


def _last_before(computed: rrule.rrule, stop: datetime) -> datetime | None:
    """The last occurrence (wall-clock) that starts before `stop` (UTC), as
    `meetings.occurrences` ends a paused or completed workstream's huddles."""
    stop_wall = stop.astimezone(LOCAL_TIME).replace(tzinfo=None)
    # The offset is at most an hour: a day either side, then exact in UTC.
    near = [
        wall
        for wall in computed.between(stop_wall - timedelta(days=1), stop_wall + timedelta(days=1))
        if _in_utc(wall) < stop
    ]
    if near:
        return near[-1]
    return computed.before(stop_wall - timedelta(days=1), inc=True)


def series(workstream: Workstream) -> Series | None:
    """The workstream's huddles as one recurring event, or None without any: no rule, a rule
    that gives none, or none before it was paused or completed.

    DTSTART is the first occurrence (from the day the workstream began, as
    `meetings.occurrences` counts), so the rule gives the same huddles from it. A paused or
    completed workstream's rule ends with an UNTIL at its last occurrence before it stopped
    (COUNT dropped); a rule's own UNTIL (London wall-clock time, as the API reads it) is written
    in UTC, as RFC 5545 requires beside a DTSTART with a TZID. BYHOUR, BYMINUTE and BYSECOND
    of one value each are the first occurrence's own and are left to DTSTART."""
    if not workstream.meeting_rule:
        return None
    began = workstream.created_at.astimezone(LOCAL_TIME).replace(tzinfo=None)
    dtstart = began.replace(hour=0, minute=0, second=0, microsecond=0)
    parts = _parts(workstream.meeting_rule)
    try:
        computed = meeting_rules.compiled(workstream.meeting_rule, dtstart)
        first = computed.after(dtstart, inc=True)
        until = date_parser.parse(parts["UNTIL"], ignoretz=True) if "UNTIL" in parts else None
    except (ValueError, TypeError, OverflowError):
        return None  # a rule stored before the API checked it: no huddles to show
    if first is None:
        return None
    if workstream.status in _STOPPED:
        last = _last_before(computed, workstream.updated_at)
        if last is None or last < first:
            return None
        parts.pop("COUNT", None)
        parts["UNTIL"] = _utc_text(_in_utc(last))
    elif until is not None:
        parts["UNTIL"] = _utc_text(_in_utc(until))
    for name, attribute in _TIME_PARTS:
        if parts.get(name, "").isdigit() and int(parts[name]) == getattr(first, attribute):
            del parts[name]
    ordered = {"FREQ": parts.pop("FREQ")} | parts
    text = ";".join(f"{name}={value}" for name, value in ordered.items())
    return Series(first=first.replace(tzinfo=LOCAL_TIME), rule=text)


# --- the calendar ----------------------------------------------------------------------------


def london_timezone() -> Timezone:
    """Europe/London as a VTIMEZONE of two rules (the EU's last Sundays of March and October,
    as in force since 1996), not icalendar's `Timezone.from_tzid`, which lists every change as
    an RDATE (and only within the years it is given): Outlook misreads that form."""
    daylight = TimezoneDaylight()
    daylight.add("tzname", "BST")
    daylight.add("dtstart", datetime(1981, 3, 29, 1, 0))  # local time
    daylight.add("tzoffsetfrom", timedelta(0))
    daylight.add("tzoffsetto", timedelta(hours=1))
    daylight.add("rrule", {"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"})
    standard = TimezoneStandard()
    standard.add("tzname", "GMT")
    standard.add("dtstart", datetime(1996, 10, 27, 2, 0))
    standard.add("tzoffsetfrom", timedelta(hours=1))
    standard.add("tzoffsetto", timedelta(0))
    standard.add("rrule", {"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"})
    timezone = Timezone()
    timezone.add("tzid", TZID)
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def _calendar(person_name: str) -> Calendar:
    calendar = Calendar()
    name = f"Commons huddles — {person_name}"
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TZID)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add_component(london_timezone())
    return calendar


def _event(workstream: Workstream, uid: str, public_url: str, now: datetime) -> Event:
    """An event's parts shared by every huddle of a workstream: what, where to read about it."""
    agenda = f"{public_url}/workstreams/{workstream.id}/agenda"
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("summary", f"Huddle: {workstream.title}")
    event.add("description", f"Agenda: {agenda}")
    event.add("url", agenda)
    return event


def _events(
    workstream: Workstream, stored: list[StoredMeeting], host: str, public_url: str, now: datetime
) -> list[Event]:
    """The workstream's recurring event, its overridden occurrences, and its extra huddles."""
    events = []
    recurring = series(workstream)
    series_uid = f"workstream-{workstream.id}-huddle@{host}"
    if recurring is not None:
        master = _event(workstream, series_uid, public_url, now)
        master.add("dtstart", recurring.first)
        master.add("duration", timedelta(minutes=workstream.meeting_minutes))
        master.add("rrule", vRecur.from_ical(recurring.rule))
        master.add("status", "CONFIRMED")
        master.add("sequence", workstream.version)
        master.add("last-modified", workstream.updated_at)
        events.append(master)
    for meeting in stored:
        at_occurrence = recurring is not None and meeting_rules.is_occurrence(
            workstream, meeting.starts_at
        )
        own_uid = f"workstream-{workstream.id}-meeting-{meeting.id}@{host}"
        uid = series_uid if at_occurrence else own_uid
        event = _event(workstream, uid, public_url, now)
        starts = meeting.starts_at.astimezone(LOCAL_TIME)
        if at_occurrence:
            event.add("recurrence-id", starts)
        event.add("dtstart", starts)
        ends = meeting.starts_at + timedelta(minutes=meeting.minutes)
        event.add("dtend", ends.astimezone(LOCAL_TIME))
        if meeting.location:
            event.add("location", meeting.location)
        cancelled = meeting.status is MeetingStatus.cancelled
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("sequence", workstream.version + meeting.version)
        event.add("last-modified", max(meeting.updated_at, workstream.updated_at))
        events.append(event)
    return events
