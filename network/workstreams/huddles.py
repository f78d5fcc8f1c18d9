"""Huddles as they happen: a meeting stored at an occurrence of the rule carries that
occurrence's notes, decisions, attendance or cancellation; one stored elsewhere is an extra
huddle. Listing merges them with the occurrences computed from the rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from network import preconditions
from network.access import Principal
from network.access import workstreams as rules
from network.activity.services import Ref
from network.db import insert_or_get, utcnow
from network.errors import Conflict, Forbidden, Invalid, NotFound
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, encode_cursor
from network.preconditions import ANY_VERSION, IfMatch, bump_version
from network.safety import refuse_nhs_numbers, render_markdown
from network.text import collapse_whitespace, london
from network.uow import UnitOfWork
from network.workstreams import meetings as meeting_rules
from network.workstreams import queries
from network.workstreams.activity import record
from network.workstreams.models import (
    Action,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
)

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
DECISIONS = 50
DECISION_LENGTH = 500

_VERBS = {
    MeetingStatus.scheduled: "meeting_scheduled",
    MeetingStatus.held: "meeting_held",
    MeetingStatus.cancelled: "meeting_cancelled",
}


@dataclass(frozen=True)
class DecisionAction:
    decision: int  # its index in the meeting's decisions
    action_id: int


@dataclass(frozen=True)
class MeetingView:
    """A huddle: stored (`meeting` set) or only computed from the rule."""

    workstream_id: int
    starts_at: datetime
    minutes: int
    occurrence: bool  # at an occurrence of the meeting rule
    meeting: Meeting | None = None
    attended: list[Organisation] = field(default_factory=list)
    decision_actions: list[DecisionAction] = field(default_factory=list)

    @property
    def id(self) -> int | None:
        return self.meeting.id if self.meeting else None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def status(self) -> MeetingStatus:
        return self.meeting.status if self.meeting else MeetingStatus.scheduled

    @property
    def location(self) -> str | None:
        return self.meeting.location if self.meeting else None

    @property
    def notes(self) -> str | None:
        return self.meeting.notes if self.meeting else None

    @property
    def notes_html(self) -> str | None:
        return self.meeting.notes_html if self.meeting else None

    @property
    def decisions(self) -> list[str]:
        return list(self.meeting.decisions) if self.meeting else []


def on_the_minute(at: datetime, *, name: str = "starts_at") -> datetime:
    """A meeting's time in UTC to the minute (seconds dropped), within this century."""
    at = at.astimezone(UTC).replace(second=0, microsecond=0)
    if not EARLIEST <= at < LATEST:
        raise Invalid(f"{name}: a time between 2000 and 2099.", field=name)
    return at


def _manager_view(uow: UnitOfWork, principal: Principal, workstream_id: int):
    view = queries.get(uow, principal, workstream_id)
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers record its huddles.")
    return view


def _decisions(values: list[str]) -> list[str]:
    if len(values) > DECISIONS:
        raise Invalid(f"decisions: at most {DECISIONS}.", field="decisions")
    cleaned = [collapse_whitespace(v) for v in values]
    for n, text in enumerate(cleaned):
        if not text or len(text) > DECISION_LENGTH:
            raise Invalid(
                f"decisions: decision {n} is 1 to {DECISION_LENGTH} characters.",
                field="decisions",
            )
    return cleaned


def _attended(uow: UnitOfWork, workstream_id: int, practice_ids: list[int]) -> list[int]:
    """Practices that take part, or took part: attendance is history."""
    wanted = sorted(set(practice_ids))
    known = set(
        uow.session.scalars(
            select(Participation.practice_id).where(
                Participation.workstream_id == workstream_id,
                Participation.practice_id.in_(wanted),
            )
        )
    )
    missing = [p for p in wanted if p not in known]
    if missing:
        raise Invalid(
            f"attended_practice_ids: practice {missing[0]} has never taken part.",
            field="attended_practice_ids",
        )
    return wanted


def _apply(uow: UnitOfWork, meeting: Meeting, changes: dict[str, Any]) -> None:
    """Checked fields onto a meeting; a held meeting has started."""
    if "notes" in changes:
        notes = changes["notes"]
        refuse_nhs_numbers([("notes", notes)])
        meeting.notes = notes if notes and notes.strip() else None
        meeting.notes_html = render_markdown(notes) if meeting.notes else None
    if "decisions" in changes:
        decisions = _decisions(changes["decisions"] or [])
        refuse_nhs_numbers([("decisions", "\n".join(decisions))])
        meeting.decisions = decisions
    if "attended_practice_ids" in changes:
        meeting.attended_practice_ids = _attended(
            uow, meeting.workstream_id, changes["attended_practice_ids"] or []
        )
    if "location" in changes:
        location = collapse_whitespace(changes["location"] or "")
        refuse_nhs_numbers([("location", location)])
        meeting.location = location or None
    if "minutes" in changes and changes["minutes"] is not None:
        meeting.minutes = changes["minutes"]
    if "status" in changes and changes["status"] is not None:
        meeting.status = MeetingStatus(changes["status"])
    if meeting.status is MeetingStatus.held and meeting.starts_at > utcnow():
        raise Invalid("status: a huddle is held once it has started.", field="status")


def create_meeting(
    uow: UnitOfWork, principal: Principal, workstream_id: int, *, starts_at: datetime, **fields: Any
) -> Meeting:
    """Store a huddle (the managers): an occurrence's notes, decisions, attendance or
    cancellation, or an extra huddle. One per time: a second at the same time is a Conflict."""
    view = _manager_view(uow, principal, workstream_id)
    workstream = view.workstream
    at = on_the_minute(starts_at)
    now = utcnow()
    meeting = Meeting(
        workstream_id=workstream.id,
        starts_at=at,
        minutes=workstream.meeting_minutes,
        decisions=[],
        attended_practice_ids=[],
        status=MeetingStatus.scheduled,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    _apply(uow, meeting, fields)
    meeting, created = insert_or_get(uow.session, meeting, lambda: _at(uow, workstream.id, at))
    if not created:
        raise Conflict(
            f"Huddle {meeting.id} is at that time already: change it with PATCH.",
            field="starts_at",
        )
    _activity(uow, principal, workstream, meeting, _VERBS[meeting.status])
    uow.session.flush()
    return meeting


def _at(uow: UnitOfWork, workstream_id: int, at: datetime) -> Meeting | None:
    return uow.session.scalars(
        select(Meeting).where(Meeting.workstream_id == workstream_id, Meeting.starts_at == at)
    ).first()


def get_meeting(
    uow: UnitOfWork, principal: Principal, workstream_id: int, meeting_id: int
) -> Meeting:
    """A stored huddle of a workstream the principal reads."""
    queries.get(uow, principal, workstream_id)
    meeting = uow.session.get(Meeting, meeting_id)
    if meeting is None or meeting.workstream_id != workstream_id:
        raise NotFound(f"Meeting {meeting_id} not found.")
    return meeting


def update_meeting(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    meeting_id: int,
    *,
    if_match: IfMatch | None = None,
    **changes: Any,
) -> Meeting:
    """Change a stored huddle (the managers). A decision that became an action stays where it
    is (its action names it by position): moving or removing it is a Conflict."""
    view = _manager_view(uow, principal, workstream_id)
    meeting = get_meeting(uow, principal, workstream_id, meeting_id)
    if "starts_at" in changes:
        changes["starts_at"] = on_the_minute(changes["starts_at"])
    if "decisions" in changes:
        changes["decisions"] = _decisions(changes["decisions"] or [])
    changes = {k: v for k, v in changes.items() if v != getattr(meeting, k)}
    if not changes:
        preconditions.check(meeting, if_match or ANY_VERSION)
        return meeting  # nothing changes: no new version, no activity
    if "decisions" in changes:
        _keep_decisions_with_actions(uow, meeting, changes["decisions"])
    bump_version(uow.session, meeting, if_match or ANY_VERSION)
    was = meeting.status
    if "starts_at" in changes:
        at = changes.pop("starts_at")
        other = _at(uow, workstream_id, at)
        if other is not None and other.id != meeting.id:
            raise Conflict(f"Huddle {other.id} is at that time already.", field="starts_at")
        meeting.starts_at = at
    _apply(uow, meeting, changes)
    meeting.updated_at = utcnow()
    uow.session.flush()
    verb = _VERBS[meeting.status] if meeting.status is not was else "meeting_updated"
    _activity(uow, principal, view.workstream, meeting, verb)
    uow.session.flush()
    return meeting


def _keep_decisions_with_actions(uow: UnitOfWork, meeting: Meeting, new: list[str]) -> None:
    taken = uow.session.execute(
        select(Action.decision, Action.id).where(Action.meeting_id == meeting.id)
    ).all()
    for n, action_id in taken:
        if n is None:
            continue
        if n >= len(new) or new[n] != meeting.decisions[n]:
            raise Conflict(
                f"decisions: decision {n} became action {action_id}; keep it in its place.",
                field="decisions",
            )


def _activity(uow, principal, workstream: Workstream, meeting: Meeting, verb: str) -> None:
    record(
        uow,
        principal,
        workstream,
        verb,
        subject=Ref("meeting", meeting.id),
        when=london(meeting.starts_at),
    )


def _views(
    uow: UnitOfWork,
    principal: Principal,
    view,
    stored: list[Meeting],
    occurrence_times: set[datetime] | None = None,
) -> dict[int, Any]:
    """Attendance (names) and the actions made of decisions, for stored huddles, in two
    statements whatever their number."""
    ids = [m.id for m in stored]
    practice_ids = {p for m in stored for p in m.attended_practice_ids}
    names = {
        o.id: o
        for o in uow.session.scalars(
            select(Organisation).where(Organisation.id.in_(sorted(practice_ids)))
        )
    }
    stmt = select(Action.meeting_id, Action.decision, Action.id).where(Action.meeting_id.in_(ids))
    if not view.rights.moderate:
        stmt = stmt.where(rules.action_shown())
    made: dict[int, list[DecisionAction]] = {}
    for meeting_id, decision, action_id in uow.session.execute(stmt.order_by(Action.decision)):
        if meeting_id is not None and decision is not None:
            made.setdefault(meeting_id, []).append(DecisionAction(decision, action_id))
    return {
        m.id: MeetingView(
            m.workstream_id,
            m.starts_at,
            m.minutes,
            m.starts_at in occurrence_times
            if occurrence_times is not None
            else meeting_rules.is_occurrence(view.workstream, m.starts_at),
            m,
            [names[p] for p in m.attended_practice_ids if p in names],
            made.get(m.id, []),
        )
        for m in stored
    }


def meeting_view(
    uow: UnitOfWork, principal: Principal, workstream_id: int, meeting_id: int
) -> MeetingView:
    view = queries.get(uow, principal, workstream_id)
    meeting = get_meeting(uow, principal, workstream_id, meeting_id)
    return _views(uow, principal, view, [meeting])[meeting.id]


def get_meetings(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[MeetingView]:
    """The huddles from `start` (default now) to `end` (default four weeks on; at most a year
    apart), soonest first: the rule's occurrences, each replaced by the meeting stored at its
    time, and the extra huddles stored between."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    start = (start or utcnow()).astimezone(UTC)
    end = (end or start + timedelta(weeks=4)).astimezone(UTC)
    if end <= start or end - start > meeting_rules.LONGEST_SPAN:
        raise Invalid("`to` is after `from`, at most a year on.", field="to", location="query")
    after = decode_cursor(cursor, (datetime,))
    if after is not None:
        start = max(start, after[0] + timedelta(microseconds=1))
    stored = list(
        uow.session.scalars(
            select(Meeting)
            .where(
                Meeting.workstream_id == workstream.id,
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
            )
            .order_by(Meeting.starts_at)
            .limit(limit + 1)
        )
    )
    occurring = meeting_rules.occurrences(workstream, start, end)
    by_time: dict[datetime, MeetingView] = {
        o.starts_at: MeetingView(
            workstream.id, o.starts_at, workstream.meeting_minutes, occurrence=True
        )
        for o in occurring[: limit + 1]
    }
    times = {o.starts_at for o in occurring}
    for stored_view in _views(uow, principal, view, stored, times).values():
        by_time[stored_view.starts_at] = stored_view
    found = [by_time[at] for at in sorted(by_time)][: limit + 1]
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_cursor([found[-1].starts_at]) if more else None
    return Page(found, next_cursor)


def around(uow: UnitOfWork, view: queries.WorkstreamView, now: datetime) -> Around:
    """The last huddle, the one an agenda is for, and the one after it, cancelled ones passed
    over, looking a year back and ahead. The last is the latest held or scheduled that has
    started and the agenda is for the next; during a huddle the agenda is that huddle's (as it
    read when it began), so the last is the one before it."""
    workstream = view.workstream
    span = meeting_rules.LONGEST_SPAN
    stored = uow.session.scalars(
        select(Meeting).where(
            Meeting.workstream_id == workstream.id,
            Meeting.starts_at >= now - span,
            Meeting.starts_at < now + span,
        )
    )
    by_time: dict[datetime, MeetingView] = {
        o.starts_at: MeetingView(
            workstream.id, o.starts_at, workstream.meeting_minutes, occurrence=True
        )
        for o in meeting_rules.occurrences(workstream, now - span, now + span)
    }
    times = set(by_time)  # the occurrences, before stored huddles join them
    for m in stored:
        by_time[m.starts_at] = MeetingView(
            m.workstream_id, m.starts_at, m.minutes, m.starts_at in times, m
        )
    live = [v for at, v in sorted(by_time.items()) if v.status is not MeetingStatus.cancelled]
    started = [v for v in live if v.starts_at <= now]
    ahead = [v for v in live if v.starts_at > now]
    if started and now < started[-1].ends_at:
        last = started[-2] if len(started) > 1 else None
        return Around(last, started[-1], ahead[0] if ahead else None)
    return Around(
        started[-1] if started else None,
        ahead[0] if ahead else None,
        ahead[1] if len(ahead) > 1 else None,
    )


@dataclass(frozen=True)
class Around:
    last: MeetingView | None
    this: MeetingView | None  # the one an agenda is for
    following: MeetingView | None
