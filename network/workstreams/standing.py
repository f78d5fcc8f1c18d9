"""What a person's work asks of them now, for digests' "needs you" section: their open actions
due by a day (or overdue), and the huddles of the workstreams they take part in within a
window, cancelled ones left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from network import access
from network.access import Principal
from network.access import workstreams as rules
from network.people.models import Membership, Role
from network.uow import UnitOfWork
from network.workstreams import calendar, meetings
from network.workstreams.models import (
    Action,
    ActionStatus,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
)


@dataclass(frozen=True)
class DueAction:
    id: int
    title: str
    due_on: date
    workstream_id: int
    workstream_title: str
    overdue: bool


@dataclass(frozen=True)
class Huddle:
    workstream_id: int
    workstream_title: str
    starts_at: datetime


def due_actions(uow: UnitOfWork, principal: Principal, *, by: date, today: date) -> list[DueAction]:
    """The principal's open actions due on or before `by`, in workstreams they read, soonest
    first (one statement)."""
    rows = uow.session.execute(
        select(Action.id, Action.title, Action.due_on, Workstream.id, Workstream.title)
        .join(Workstream, Workstream.id == Action.workstream_id)
        .where(
            Action.owner_id == principal.person_id,
            Action.status == ActionStatus.open,
            Action.due_on <= by,
            rules.action_shown(),
            rules.shown(),
            Workstream.organisation_id.in_(sorted(access.readable_board_ids(principal))),
        )
        .order_by(Action.due_on, Action.id)
    ).all()
    return [DueAction(a, t, d, w, wt, d < today) for a, t, d, w, wt in rows]


def huddles(
    uow: UnitOfWork, principal: Principal, *, start: datetime, end: datetime
) -> list[Huddle]:
    """The huddles between `start` and `end` of the workstreams the principal takes part in."""
    found = []
    for workstream in calendar.taking_part(uow, principal):
        for occurrence in meetings.occurrences(workstream, start, end):
            found.append(Huddle(workstream.id, workstream.title, occurrence.starts_at))
    if not found:
        return []
    cancelled = set(
        uow.session.execute(
            select(Meeting.workstream_id, Meeting.starts_at).where(
                Meeting.workstream_id.in_(sorted({h.workstream_id for h in found})),
                Meeting.status == MeetingStatus.cancelled,
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
            )
        ).all()
    )
    kept = [h for h in found if (h.workstream_id, h.starts_at) not in cancelled]
    return sorted(kept, key=lambda h: (h.starts_at, h.workstream_id))


def huddles_starting(uow: UnitOfWork, *, start: datetime, end: datetime) -> list[Huddle]:
    """Every workstream's huddles that start between `start` and `end` (rule occurrences and
    extra huddles, cancelled ones left out): whose agendas go out before them."""
    found: dict[tuple[int, datetime], Huddle] = {}
    workstreams = uow.session.scalars(
        select(Workstream).where(rules.shown(), Workstream.meeting_rule.is_not(None))
    ).all()
    for workstream in workstreams:
        for occurrence in meetings.occurrences(workstream, start, end):
            key = (workstream.id, occurrence.starts_at)
            found[key] = Huddle(workstream.id, workstream.title, occurrence.starts_at)
    stored = uow.session.execute(
        select(Meeting, Workstream.title)
        .join(Workstream, Workstream.id == Meeting.workstream_id)
        .where(Meeting.starts_at >= start, Meeting.starts_at < end, rules.shown())
    ).all()
    for meeting, title in stored:
        key = (meeting.workstream_id, meeting.starts_at)
        if meeting.status is MeetingStatus.cancelled:
            found.pop(key, None)
        else:
            found[key] = Huddle(meeting.workstream_id, title, meeting.starts_at)
    return sorted(found.values(), key=lambda h: (h.starts_at, h.workstream_id))


def people_taking_part(uow: UnitOfWork, workstream_id: int) -> list[int]:
    """Who takes part in a workstream and reads it: people of the practices taking part (that
    have not left), its lead, and the administrators of its organisation and those above."""
    workstream = uow.session.get_one(Workstream, workstream_id)
    chain = access.chain_of(uow.session, workstream.organisation_id) or []
    candidates = set(
        uow.session.scalars(
            select(Membership.person_id)
            .join(Participation, Participation.practice_id == Membership.organisation_id)
            .where(Participation.workstream_id == workstream_id, Participation.left_at.is_(None))
        )
    )
    candidates |= set(
        uow.session.scalars(
            select(Membership.person_id).where(
                Membership.organisation_id.in_(chain), Membership.role == Role.admin
            )
        )
    )
    if workstream.lead_id is not None:
        candidates.add(workstream.lead_id)
    taking_part = []
    for person_id in sorted(candidates):
        principal = access.principal_of(uow.session, person_id)
        if principal is not None and rules.rights(uow.session, principal, workstream).read:
            taking_part.append(person_id)
    return taking_part
