"""Recording what happens on boards, and listing it for those who may read the boards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.activity.models import Activity, Anonymity
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.people.models import Person
from network.uow import UnitOfWork

_BOARD = aliased(Organisation, name="board")
_PRACTICE = aliased(Organisation, name="practice")


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

    board, practice = _BOARD, _PRACTICE
    stmt = (
        select(Activity, board, Person, practice)
        .join(board, board.id == Activity.board_id)
        .outerjoin(
            Person, and_(Person.id == Activity.actor_id, Activity.anonymity == Anonymity.none)
        )
        .outerjoin(
            practice,
            and_(
                practice.id == Activity.actor_practice_id,
                Activity.anonymity != Anonymity.practice,
            ),
        )
        .outerjoin(Problem, Problem.id == Activity.problem_id)
        .where(
            Activity.board_id.in_(access.readable_board_ids(principal)),
            or_(
                Activity.problem_id.is_(None),
                and_(Problem.hidden.is_(False), Problem.deleted_at.is_(None)),
            ),
        )
    )
    if organisation_id is not None:
        stmt = stmt.where(Activity.board_id == organisation_id)
    if since is not None:
        stmt = stmt.where(Activity.at >= since)
    after = decode_cursor(cursor, (datetime, int))
    if after is not None:
        stmt = stmt.where(tuple_(Activity.at, Activity.id) < tuple_(*after))
    rows = uow.session.execute(
        stmt.order_by(Activity.at.desc(), Activity.id.desc()).limit(limit + 1)
    ).all()
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
    return page_from_rows(views, limit, lambda v: (v.at.isoformat(), v.id))
