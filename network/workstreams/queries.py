"""Reading workstreams: a constant number of statements per list, and of a private problem a
workstream took on, nothing for those who do not read it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, ScalarSelect, Select, func, select, tuple_
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.access import problems as problem_rules
from network.access import workstreams as rules
from network.errors import NotFound
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, newest_first, page_from_rows
from network.people.models import Person
from network.problems.models import Problem
from network.uow import UnitOfWork
from network.workstreams.models import (
    Action,
    ActionStatus,
    CheckIn,
    LinkedProblem,
    Participation,
    Workstream,
    WorkstreamStatus,
)

# "Overdue" is a date in the practices' own calendar.
LOCAL_TIME = zoneinfo.ZoneInfo("Europe/London")
_OWNER = aliased(Organisation, name="owner")
_LEAD = aliased(Person, name="lead")
_PRACTICE = aliased(Organisation, name="practice")
_OWNER_PERSON = aliased(Person, name="action_owner")
_COMPLETED_BY = aliased(Person, name="completed_by")


def today() -> date:
    return datetime.now(LOCAL_TIME).date()


@dataclass(frozen=True)
class WorkstreamView:
    workstream: Workstream
    owner: Organisation
    lead: Person | None
    rights: rules.Rights
    practice_count: int = 0


def _select() -> tuple[Select, ScalarSelect]:
    taking_part = (
        select(func.count())
        .where(Participation.workstream_id == Workstream.id, Participation.left_at.is_(None))
        .scalar_subquery()
    )
    return (
        select(Workstream, _OWNER, _LEAD, taking_part)
        .join(_OWNER, _OWNER.id == Workstream.organisation_id)
        .outerjoin(_LEAD, _LEAD.id == Workstream.lead_id)
    ), taking_part


def get(uow: UnitOfWork, principal: Principal, workstream_id: int) -> WorkstreamView:
    """A workstream the principal reads (its owner's board; a hidden one: its moderators)."""
    stmt, _ = _select()
    row = uow.session.execute(
        stmt.where(
            Workstream.id == workstream_id,
            Workstream.organisation_id.in_(access.readable_board_ids(principal)),
        )
    ).first()
    if row is None:
        raise NotFound(f"Workstream {workstream_id} not found.")
    workstream, owner, lead, count = row
    rights = rules.rights(uow.session, principal, workstream)
    if not rights.read:
        raise NotFound(f"Workstream {workstream_id} not found.")
    return WorkstreamView(workstream, owner, lead, rights, count)


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    status: WorkstreamStatus | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[WorkstreamView]:
    """Workstreams on every board the principal reads, newest first."""
    stmt, _ = _select()
    stmt = stmt.where(
        Workstream.organisation_id.in_(access.readable_board_ids(principal)), rules.shown()
    )
    if organisation_id is not None:
        stmt = stmt.where(Workstream.organisation_id == organisation_id)
    if status is not None:
        stmt = stmt.where(Workstream.status == status)
    after = decode_cursor(cursor, (int,))
    if after is not None:
        stmt = stmt.where(Workstream.id < after[0])
    rows = uow.session.execute(stmt.order_by(Workstream.id.desc()).limit(limit + 1)).all()
    # Rights in a list are for reading: each view's `manage` is worked out when it is opened.
    read = rules.Rights(read=True, manage=False, moderate=False)
    views = [WorkstreamView(w, o, lead, read, n) for w, o, lead, n in rows]
    return page_from_rows(views, limit, lambda v: (v.workstream.id,))


@dataclass(frozen=True)
class ParticipantView:
    practice: Organisation
    joined_at: datetime
    left_at: datetime | None
    open_actions: int


def participants(uow: UnitOfWork, workstream_id: int) -> list[ParticipantView]:
    """The practices taking part, and those that left (history), with their open actions."""
    open_actions = (
        select(func.count())
        .where(
            Action.workstream_id == workstream_id,
            Action.practice_id == Participation.practice_id,
            Action.status == ActionStatus.open,
        )
        .scalar_subquery()
    )
    rows = uow.session.execute(
        select(Organisation, Participation.joined_at, Participation.left_at, open_actions)
        .join(Participation, Participation.practice_id == Organisation.id)
        .where(Participation.workstream_id == workstream_id)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [ParticipantView(*row) for row in rows]


def participating(uow: UnitOfWork, workstream_id: int) -> set[int]:
    """The ids of the practices taking part now."""
    return set(
        uow.session.scalars(
            select(Participation.practice_id).where(
                Participation.workstream_id == workstream_id, Participation.left_at.is_(None)
            )
        )
    )


def linked_problem_ids(uow: UnitOfWork, workstream_id: int) -> list[int]:
    return list(
        uow.session.scalars(
            select(LinkedProblem.problem_id)
            .where(LinkedProblem.workstream_id == workstream_id)
            .order_by(LinkedProblem.problem_id)
        )
    )


def visible_problems(uow: UnitOfWork, principal: Principal, workstream_id: int) -> Sequence[Row]:
    """The problems a workstream took on that this reader reads (id, title, status, board id):
    of the others, not even that they exist."""
    return uow.session.execute(
        select(Problem.id, Problem.title, Problem.status, Problem.board_id)
        .join(LinkedProblem, LinkedProblem.problem_id == Problem.id)
        .where(
            LinkedProblem.workstream_id == workstream_id,
            Problem.board_id.in_(access.readable_board_ids(principal)),
            problem_rules.shown(),
        )
        .order_by(Problem.id)
    ).all()


def workstreams_of_problem(uow: UnitOfWork, principal: Principal, problem_id: int) -> Sequence[Row]:
    """The workstreams that took a problem on, that this reader reads (id, title, status)."""
    return uow.session.execute(
        select(Workstream.id, Workstream.title, Workstream.status)
        .join(LinkedProblem, LinkedProblem.workstream_id == Workstream.id)
        .where(
            LinkedProblem.problem_id == problem_id,
            Workstream.organisation_id.in_(access.readable_board_ids(principal)),
            rules.shown(),
        )
        .order_by(Workstream.id)
    ).all()


@dataclass(frozen=True)
class ActionView:
    action: Action
    owner: Person
    practice: Organisation | None
    completed_by: Person | None

    @property
    def overdue(self) -> bool:
        return self.action.status is ActionStatus.open and self.action.due_on < today()


def action_rows() -> Select:
    return (
        select(Action, _OWNER_PERSON, _PRACTICE, _COMPLETED_BY)
        .join(_OWNER_PERSON, _OWNER_PERSON.id == Action.owner_id)
        .outerjoin(_PRACTICE, _PRACTICE.id == Action.practice_id)
        .outerjoin(_COMPLETED_BY, _COMPLETED_BY.id == Action.completed_by_id)
    )


def get_actions(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    status: ActionStatus | None = None,
    practice_id: int | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[ActionView]:
    """A workstream's actions, soonest due first."""
    get(uow, principal, workstream_id)
    stmt = action_rows().where(Action.workstream_id == workstream_id, rules.action_shown())
    if status is not None:
        stmt = stmt.where(Action.status == status)
    if practice_id is not None:
        stmt = stmt.where(Action.practice_id == practice_id)
    after = decode_cursor(cursor, (int, int))
    if after is not None:
        due = date.fromordinal(max(1, after[0]))
        stmt = stmt.where(tuple_(Action.due_on, Action.id) > tuple_(due, after[1]))
    rows = uow.session.execute(stmt.order_by(Action.due_on, Action.id).limit(limit + 1)).all()
    views = [ActionView(*row) for row in rows]
    return page_from_rows(views, limit, lambda v: (v.action.due_on.toordinal(), v.action.id))


def action(uow: UnitOfWork, principal: Principal, view: WorkstreamView, action_id: int) -> Action:
    """One of the workstream's actions; a hidden one only for its moderators."""
    row = uow.session.get(Action, action_id)
    hidden = row is not None and row.hidden and not view.rights.moderate
    if row is None or row.workstream_id != view.workstream.id or hidden:
        raise NotFound(f"Action {action_id} not found.")
    return row


def action_view(uow: UnitOfWork, workstream_id: int, action_id: int) -> ActionView:
    row = uow.session.execute(
        action_rows().where(Action.id == action_id, Action.workstream_id == workstream_id)
    ).one()
    return ActionView(*row)


def open_actions_of(uow: UnitOfWork, workstream_id: int, practice_id: int) -> list[ActionView]:
    """A practice's open actions, soonest due first, in one statement."""
    rows = uow.session.execute(
        action_rows()
        .where(
            Action.workstream_id == workstream_id,
            Action.practice_id == practice_id,
            Action.status == ActionStatus.open,
            rules.action_shown(),
        )
        .order_by(Action.due_on, Action.id)
    ).all()
    return [ActionView(*row) for row in rows]


@dataclass(frozen=True)
class CheckInView:
    check_in: CheckIn
    author: Person
    practice: Organisation | None


def check_in_rows() -> Select:
    return (
        select(CheckIn, Person, _PRACTICE)
        .join(Person, Person.id == CheckIn.author_id)
        .outerjoin(_PRACTICE, _PRACTICE.id == CheckIn.practice_id)
    )


def check_in_view(uow: UnitOfWork, workstream_id: int, check_in_id: int) -> CheckInView:
    row = uow.session.execute(
        check_in_rows().where(CheckIn.id == check_in_id, CheckIn.workstream_id == workstream_id)
    ).one()
    return CheckInView(*row)


def check_in(
    uow: UnitOfWork, principal: Principal, workstream_id: int, check_in_id: int
) -> CheckInView:
    """One check-in of a workstream the principal reads; a hidden one only for its moderators."""
    view = get(uow, principal, workstream_id)
    row = uow.session.execute(
        check_in_rows().where(CheckIn.id == check_in_id, CheckIn.workstream_id == workstream_id)
    ).first()
    if row is None or (row[0].hidden and not view.rights.moderate):
        raise NotFound(f"Check-in {check_in_id} not found.")
    return CheckInView(*row)


def get_check_ins(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page[CheckInView]:
    """A workstream's check-ins, newest first."""
    get(uow, principal, workstream_id)
    stmt = check_in_rows().where(CheckIn.workstream_id == workstream_id, rules.check_in_shown())
    stmt = newest_first(
        stmt, CheckIn.created_at, CheckIn.id, since=None, cursor=cursor, limit=limit
    )
    views = [CheckInView(*row) for row in uow.session.execute(stmt).all()]
    return page_from_rows(views, limit, lambda v: (v.check_in.created_at, v.check_in.id))


@dataclass(frozen=True)
class WorkstreamDetail:
    view: WorkstreamView
    practices: list[ParticipantView]
    problems: Sequence[Row]  # those this reader reads
    library_entries: Sequence[Row] = ()  # entries it became that the reader sees

    @property
    def workstream(self) -> Workstream:
        return self.view.workstream

    @property
    def owner(self) -> Organisation:
        return self.view.owner

    @property
    def lead(self) -> Person | None:
        return self.view.lead

    @property
    def practice_count(self) -> int:
        return self.view.practice_count


def detail(uow: UnitOfWork, principal: Principal, workstream_id: int) -> WorkstreamDetail:
    """A workstream with the practices taking part (and those that left), and the problems it
    took on that this reader reads."""
    view = get(uow, principal, workstream_id)
    return WorkstreamDetail(
        view,
        participants(uow, workstream_id),
        visible_problems(uow, principal, workstream_id),
    )
