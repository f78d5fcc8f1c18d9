"""Reading problems: one statement per list, whatever the page size, and the anonymity rules
applied in SQL so a hidden identity is never even loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import aliased

from network import access
from network.access import Principal
from network.activity.models import Anonymity
from network.errors import Invalid, NotFound
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.people.models import Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemStatus, ProblemTag
from network.safety import excerpt
from network.uow import UnitOfWork

# Each order's keyset columns (all descending) and the types its cursor carries.
_SORT_KEYS = {
    "hot": ((Problem.affected_count, Problem.last_activity_at, Problem.id), (int, datetime, int)),
    "new": ((Problem.created_at, Problem.id), (datetime, int)),
    "updated": ((Problem.updated_at, Problem.id), (datetime, int)),
}
SORTS = tuple(_SORT_KEYS)
# Built once: making aliases per request costs more than the query.
_BOARD = aliased(Organisation, name="board")
# Written out so PostgreSQL uses the GIN index of migration 0006 (same expression, same literals).
SEARCH_DOCUMENT = literal_column(
    "to_tsvector('english', coalesce(problem.title, '') || ' ' || coalesce(problem.body, ''))"
)


@dataclass(frozen=True)
class ProblemView:
    problem: Problem
    board: Organisation
    author: Person | None  # None when anonymity hides them
    practice: Organisation | None  # None when anonymity hides it, or the author has none
    can_edit: bool

    @property
    def excerpt(self) -> str:
        return excerpt(self.problem.body)


def _select(principal: Principal) -> Select:
    stmt = select(Problem, _BOARD, Person, access.SHOWN_PRACTICE).join(
        _BOARD, _BOARD.id == Problem.board_id
    )
    return access.join_shown_identity(
        stmt,
        anonymity=Problem.anonymity,
        person_id=Problem.author_id,
        practice_id=Problem.author_practice_id,
    ).where(
        Problem.board_id.in_(access.readable_board_ids(principal)),
        Problem.deleted_at.is_(None),
    )


def _view(principal: Principal, row) -> ProblemView:
    problem, board, author, practice = row
    return ProblemView(
        problem=problem,
        board=board,
        author=author,
        practice=practice,
        can_edit=problem.author_id == principal.person_id,
    )


def get(uow: UnitOfWork, principal: Principal, problem_id: int) -> ProblemView:
    """A problem the principal may read; hidden ones only for its board's moderators."""
    row = uow.session.execute(_select(principal).where(Problem.id == problem_id)).first()
    if row is None:
        raise NotFound(f"Problem {problem_id} not found.")
    view = _view(principal, row)
    moderator = can_moderate(uow, principal, view.problem.board_id)
    if view.problem.hidden and not moderator:
        raise NotFound(f"Problem {problem_id} not found.")
    return ProblemView(
        view.problem, view.board, view.author, view.practice, view.can_edit or moderator
    )


def can_moderate(uow: UnitOfWork, principal: Principal, board_id: int) -> bool:
    """Administrators of a board who can also read it (a PCN's admins do not read, so do not
    moderate, a practice's board unless they belong to that practice)."""
    if not access.can_read_board(principal, board_id):
        return False
    chain = access.chain_of(uow.session, board_id)
    return chain is not None and access.can_administer(principal, chain)


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    board_id: int | None = None,
    status: ProblemStatus | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: str = "hot",
    limit: int,
    cursor: str | None = None,
) -> Page[ProblemView]:
    """Problems on every board the principal reads (hidden ones left out)."""
    if sort not in SORTS:
        raise Invalid(f"sort is one of {', '.join(SORTS)}.", field="sort", location="query")
    stmt = _select(principal).where(Problem.hidden.is_(False))
    if board_id is not None:
        stmt = stmt.where(Problem.board_id == board_id)
    if status is not None:
        stmt = stmt.where(Problem.status == status)
    if tag:
        stmt = stmt.where(
            exists().where(ProblemTag.problem_id == Problem.id, ProblemTag.tag == tag.lower())
        )
    if q:
        stmt = stmt.where(_matches(uow, q))
    keys, types = _SORT_KEYS[sort]
    after = decode_cursor(cursor, types)
    if after is not None:
        stmt = stmt.where(tuple_(*keys) < tuple_(*after))
    stmt = stmt.order_by(*(k.desc() for k in keys)).limit(limit + 1)
    views = [_view(principal, row) for row in uow.session.execute(stmt)]
    return page_from_rows(
        views, limit, lambda view: tuple(getattr(view.problem, k.key) for k in keys)
    )


def _matches(uow: UnitOfWork, q: str):
    """Full-text search on PostgreSQL; on SQLite every word must appear in title or body."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return SEARCH_DOCUMENT.op("@@")(func.websearch_to_tsquery(literal_column("'english'"), q))
    words = [w for w in re.split(r"\W+", q.lower()) if w]
    if not words:
        return Problem.id.is_(None)
    text = func.lower(Problem.title + " " + Problem.body)
    return and_(*(or_(text.contains(w, autoescape=True)) for w in words))


@dataclass(frozen=True)
class CommentView:
    comment: Comment
    author: Person | None
    practice: Organisation | None


def get_comments(
    uow: UnitOfWork, principal: Principal, problem_id: int, *, limit: int, cursor: str | None = None
) -> Page[CommentView]:
    """A problem's comments and ideas, oldest first."""
    get(uow, principal, problem_id)
    stmt = _comment_select(problem_id)
    after = decode_cursor(cursor, (datetime, int))
    if after is not None:
        stmt = stmt.where(tuple_(Comment.created_at, Comment.id) > tuple_(*after))
    rows = uow.session.execute(stmt.order_by(Comment.created_at, Comment.id).limit(limit + 1)).all()
    views = [CommentView(c, person, prac) for c, person, prac in rows]
    return page_from_rows(views, limit, lambda v: (v.comment.created_at, v.comment.id))


def comment_view(
    uow: UnitOfWork, principal: Principal, problem_id: int, comment_id: int
) -> CommentView:
    """One comment of a problem the principal reads."""
    get(uow, principal, problem_id)
    row = uow.session.execute(_comment_select(problem_id).where(Comment.id == comment_id)).first()
    if row is None:
        raise NotFound(f"Comment {comment_id} not found.")
    return CommentView(*row)


def _comment_select(problem_id: int) -> Select:
    stmt = access.join_shown_identity(
        select(Comment, Person, access.SHOWN_PRACTICE),
        anonymity=Comment.anonymity,
        person_id=Comment.author_id,
        practice_id=Comment.author_practice_id,
    )
    return stmt.where(Comment.problem_id == problem_id, Comment.hidden.is_(False))


@dataclass(frozen=True)
class AffectedView:
    practice: Organisation
    note: str | None
    created_at: datetime


def get_affected(
    uow: UnitOfWork, principal: Principal, problem_id: int, *, limit: int, cursor: str | None = None
) -> Page[AffectedView]:
    """The practices that have the problem too. A practice-anonymous author's own practice is
    counted but never listed."""
    problem = get(uow, principal, problem_id).problem
    stmt = (
        select(AffectedPractice, Organisation)
        .join(Organisation, Organisation.id == AffectedPractice.practice_id)
        .where(AffectedPractice.problem_id == problem.id)
    )
    if problem.anonymity is Anonymity.practice and problem.author_practice_id is not None:
        stmt = stmt.where(AffectedPractice.practice_id != problem.author_practice_id)
    after = decode_cursor(cursor, (datetime, int))
    if after is not None:
        stmt = stmt.where(
            tuple_(AffectedPractice.created_at, AffectedPractice.practice_id) > tuple_(*after)
        )
    rows = uow.session.execute(
        stmt.order_by(AffectedPractice.created_at, AffectedPractice.practice_id).limit(limit + 1)
    ).all()
    views = [AffectedView(org, signal.note, signal.created_at) for signal, org in rows]
    return page_from_rows(views, limit, lambda v: (v.created_at, v.practice.id))
