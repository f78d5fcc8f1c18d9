"""Recording what happens on boards, and listing it for those who may read the boards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from network import access
from network.access import Anonymity, Principal
from network.activity.models import Activity
from network.organisations.models import Organisation
from network.pagination import Page, newest_first, page_from_rows
from network.people.models import Person
from network.uow import UnitOfWork

_BOARD = aliased(Organisation, name="board")


def record(
    uow: UnitOfWork,
    *,
    verb: str,
    board_id: int,
    actor_id: int,
    actor_practice_id: int | None,
    anonymity: Anonymity,
    subject_type: str,
    subject_id: int,
    problem_id: int | None,
    summary: str,
) -> Activity:
    """Add an activity row in the caller's transaction (the outbox). Summaries never name an
    anonymous author."""
    row = Activity(
        verb=verb,
        board_id=board_id,
        actor_id=actor_id,
        actor_practice_id=actor_practice_id,
        anonymity=anonymity,
        subject_type=subject_type,
        subject_id=subject_id,
        problem_id=problem_id,
        summary=summary,
    )
    uow.session.add(row)
    return row


@dataclass(frozen=True)
class ActivityView:
    id: int
    at: datetime
    verb: str
    board: Organisation
    subject_type: str
    subject_id: int
    problem_id: int | None
    summary: str
    actor: Person | None
    practice: Organisation | None


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    since: datetime | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[ActivityView]:
    """Newest first, on boards the principal reads, leaving out hidden or deleted problems."""
    from network.problems.models import Problem

    stmt = access.join_shown_identity(
        select(Activity, _BOARD, Person, access.SHOWN_PRACTICE).join(
            _BOARD, _BOARD.id == Activity.board_id
        ),
        anonymity=Activity.anonymity,
        person_id=Activity.actor_id,
        practice_id=Activity.actor_practice_id,
    )
    stmt = stmt.outerjoin(Problem, Problem.id == Activity.problem_id).where(
        Activity.board_id.in_(access.readable_board_ids(principal)),
        or_(
            Activity.problem_id.is_(None),
            and_(Problem.hidden.is_(False), Problem.deleted_at.is_(None)),
        ),
    )
    if organisation_id is not None:
        stmt = stmt.where(Activity.board_id == organisation_id)
    stmt = newest_first(stmt, Activity.at, Activity.id, since=since, cursor=cursor, limit=limit)
    rows = uow.session.execute(stmt).all()
    views = [
        ActivityView(
            id=a.id,
            at=a.at,
            verb=a.verb,
            board=b,
            subject_type=a.subject_type,
            subject_id=a.subject_id,
            problem_id=a.problem_id,
            summary=a.summary,
            actor=person,
            practice=prac,
        )
        for a, b, person, prac in rows
    ]
    return page_from_rows(views, limit, lambda v: (v.at, v.id))
