"""What a person's work asks of them now, for digests' "needs you" section: their open actions
due by a day (or overdue), and the huddles of the workstreams they take part in within a
window, cancelled ones left out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.access import workstreams as rules
from network.organisations.models import Organisation
from network.people.models import Membership, Role
from network.uow import UnitOfWork
from network.workstreams import meetings
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
    return due_actions_of(uow, {principal.person_id: principal}, by=by, today=today)[
        principal.person_id
    ]


def due_actions_of(
    uow: UnitOfWork, principals: Mapping[int, Principal], *, by: date, today: date
) -> dict[int, list[DueAction]]:
    """`due_actions` of many people at once, in one statement: each one's open actions due by
    `by`, in workstreams they read (a caller with a nearer horizon for some cuts theirs)."""
    boards = sorted(set().union(*(access.readable_board_ids(p) for p in principals.values())))
    rows = uow.session.execute(
        select(
            Action.owner_id,
            Action.id,
            Action.title,
            Action.due_on,
            Workstream.id,
            Workstream.title,
            Workstream.organisation_id,
        )
        .join(Workstream, Workstream.id == Action.workstream_id)
        .where(
            Action.owner_id.in_(sorted(principals)),
            Action.status == ActionStatus.open,
            Action.due_on <= by,
            rules.action_shown(),
            rules.shown(),
            Workstream.organisation_id.in_(boards),
        )
        .order_by(Action.due_on, Action.id)
    ).all()
    found: dict[int, list[DueAction]] = {person_id: [] for person_id in principals}
    for owner, a, t, d, w, wt, board in rows:
        if board in access.readable_board_ids(principals[owner]):
            found[owner].append(DueAction(a, t, d, w, wt, d < today))
    return found


def huddles(
    uow: UnitOfWork, principal: Principal, *, start: datetime, end: datetime
) -> list[Huddle]:
    """The huddles between `start` and `end` of the workstreams the principal takes part in."""
    ends = {principal.person_id: end}
    return huddles_of(uow, {principal.person_id: principal}, start=start, ends=ends)[
        principal.person_id
    ]


def huddles_of(
    uow: UnitOfWork,
    principals: Mapping[int, Principal],
    *,
    start: datetime,
    ends: Mapping[int, datetime],
) -> dict[int, list[Huddle]]:
    """`huddles` of many people at once, each up to their own end, in three statements however
    many people, workstreams or huddles: the workstreams any of them may take part in (with
    their owners' chains), those workstreams' participating practices, and the cancelled
    huddles. Who takes part is `calendar.taking_part`'s rule, worked out here per person: their
    practice participates (and has not left), they lead it, or they administer its owner; and
    they read its board (hidden workstreams left out)."""
    people = list(principals.values())
    boards = sorted(set().union(*(access.readable_board_ids(p) for p in people)))
    practices = sorted(set().union(*(p.practices for p in people)))
    owner, above = aliased(Organisation), aliased(Organisation)
    candidates = uow.session.execute(
        select(Workstream, owner.parent_id, above.parent_id)
        .join(owner, owner.id == Workstream.organisation_id)
        .outerjoin(above, above.id == owner.parent_id)
        .where(Workstream.organisation_id.in_(boards), rules.shown())
        .order_by(Workstream.id)
    ).all()
    ids = [w.id for w, _p, _g in candidates]
    taking_part: dict[int, set[int]] = {}
    for workstream_id, practice_id in uow.session.execute(
        select(Participation.workstream_id, Participation.practice_id).where(
            Participation.workstream_id.in_(ids),
            Participation.practice_id.in_(practices),
            Participation.left_at.is_(None),
        )
    ):
        taking_part.setdefault(workstream_id, set()).add(practice_id)
    latest = max(ends.values(), default=start)
    cancelled = set(
        uow.session.execute(
            select(Meeting.workstream_id, Meeting.starts_at).where(
                Meeting.workstream_id.in_(ids),
                Meeting.status == MeetingStatus.cancelled,
                Meeting.starts_at >= start,
                Meeting.starts_at < latest,
            )
        ).all()
    )
    found: dict[int, list[Huddle]] = {}
    for person_id, principal in principals.items():
        end = ends[person_id]
        kept = []
        for workstream, parent_id, grandparent_id in candidates:
            ancestors = [parent_id, grandparent_id]
            chain = [workstream.organisation_id, *(i for i in ancestors if i is not None)]
            if workstream.hidden or workstream.organisation_id not in principal.belongs:
                continue
            if not (
                workstream.lead_id == person_id
                or taking_part.get(workstream.id, set()) & principal.practices
                or access.can_administer(principal, chain)
            ):
                continue
            for occurrence in meetings.occurrences(workstream, start, end):
                if (workstream.id, occurrence.starts_at) not in cancelled:
                    kept.append(Huddle(workstream.id, workstream.title, occurrence.starts_at))
        found[person_id] = sorted(kept, key=lambda h: (h.starts_at, h.workstream_id))
    return found


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
