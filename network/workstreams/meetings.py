"""A workstream's huddles: its meeting rule (RFC 5545 RRULE) read in Europe/London wall-clock time,
so a 12:30 huddle stays at 12:30 across the clock change, and the occurrences computed from it —
never stored — while the workstream is neither paused nor completed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil import rrule

from network.errors import Invalid
from network.text import LONDON
from network.workstreams.models import Workstream, WorkstreamStatus

LOCAL_TIME = LONDON
# A huddle is daily at most often; anything finer is a mistake, not a meeting.
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
LONGEST_SPAN = timedelta(days=366)
RULE_LENGTH = 500


def parse_rule(text: str) -> str:
    """The rule as stored (upper case, no spaces), or Invalid naming `meeting_rule`: an RRULE
    of a daily-or-rarer frequency with the hour it meets (BYHOUR; BYMINUTE defaults to 0)."""
    rule = "".join(text.split()).upper().removeprefix("RRULE:")
    parts = dict(part.partition("=")[::2] for part in rule.split(";") if part)
    problem = None
    if not rule or len(rule) > RULE_LENGTH:
        problem = f"A meeting rule is 1 to {RULE_LENGTH} characters."
    elif "DTSTART" in rule or "\\n" in text or "\n" in text:
        problem = "Only the RRULE's own parts: the workstream gives the start."
    elif parts.get("FREQ") not in FREQUENCIES:
        problem = f"FREQ is one of {', '.join(FREQUENCIES)}."
    elif "BYHOUR" not in parts:
        problem = "Say the hour it meets, in London time (BYHOUR=12;BYMINUTE=30)."
    elif parts.get("BYSECOND", "0") != "0":
        problem = "Huddles start on the minute (no BYSECOND)."
    if problem is None:
        try:
            compiled(rule, datetime(2026, 1, 1))
        except (ValueError, TypeError, OverflowError) as exc:
            problem = f"Not an RRULE this API reads: {exc}."
    if problem is not None:
        raise Invalid(f"meeting_rule: {problem}", field="meeting_rule")
    return rule


def compiled(rule: str, dtstart: datetime) -> rrule.rrule:
    """A stored rule read as the API reads it: naive London wall-clock times from `dtstart`."""
    parsed = rrule.rrulestr(rule, dtstart=dtstart, ignoretz=True)
    if not isinstance(parsed, rrule.rrule):
        raise ValueError("one RRULE")
    return parsed


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC


def occurrences(workstream: Workstream, start: datetime, end: datetime) -> list[Occurrence]:
    """The huddles between `start` and `end` (aware datetimes), in UTC: the rule runs in London
    wall-clock time from the day the workstream began, and stops when it is paused or
    completed (from its last change)."""
    if not workstream.meeting_rule:
        return []
    if workstream.status in (WorkstreamStatus.paused, WorkstreamStatus.completed):
        end = min(end, workstream.updated_at)
    began = workstream.created_at.astimezone(LOCAL_TIME).replace(tzinfo=None)
    dtstart = began.replace(hour=0, minute=0, second=0, microsecond=0)
    rule = compiled(workstream.meeting_rule, dtstart)
    # Wall-clock bounds a day wider than asked (the offset is at most an hour), then exact.
    local_from = start.astimezone(LOCAL_TIME).replace(tzinfo=None) - timedelta(days=1)
    local_to = end.astimezone(LOCAL_TIME).replace(tzinfo=None) + timedelta(days=1)
    length = timedelta(minutes=workstream.meeting_minutes)
    found = []
    for wall in rule.between(local_from, local_to, inc=True):
        at = wall.replace(tzinfo=LOCAL_TIME).astimezone(UTC)
        if start <= at < end:
            found.append(Occurrence(at, at + length))
    return found


def is_occurrence(workstream: Workstream, at: datetime) -> bool:
    """Whether a huddle at `at` (UTC) is one of the rule's, rather than an extra one."""
    found = occurrences(workstream, at, at + timedelta(minutes=1))
    return any(o.starts_at == at for o in found)
