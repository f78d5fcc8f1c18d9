"""Reading problems: one statement per list, whatever the page size, and the anonymity rules
applied in SQL so a hidden identity is never even loaded."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import aliased

from network import access, content
from network.access import Principal
from network.access import problems as problem_rules
from network.db import DriverSelect
from network.errors import Invalid, NotFound
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.people.models import Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemStatus, ProblemTag
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
SEARCH_DOCUMENT: ColumnElement[Any] = literal_column(
    "to_tsvector('english', coalesce(problem.title, '') || ' ' || coalesce(problem.body, ''))"
)


@dataclass(frozen=True)
class ProblemView:
    problem: Problem
    board: Organisation
    author: Person | None  # None when anonymity hides them
    practice: Organisation | None  # None when anonymity hides it, or the author has none
    can_edit: bool
    can_moderate: bool = False
    # The workstreams that took it on that the reader reads (its page shows them; rows of
    # id, title and status).
    workstreams: Sequence[Any] = ()
    # One of the reader's practices has said "we have this too" (signals only: a
    # practice-anonymous author's practice is counted without one, so it reads as for anyone).
    my_practice_affected: bool = False
    # The library entries it became that the reader sees (rows of id, title, status).
    library_entries: Sequence[Any] = ()


def _on_boards(stmt: Select, boards) -> Select:
    """A select of problems with their board and the identities anonymity shows, on `boards`
    (deleted ones left out, whoever reads): the one place a problem query starts from."""
    return access.join_shown_identity(
        stmt.join(_BOARD, _BOARD.id == Problem.board_id),
        anonymity=Problem.anonymity,
        person_id=Problem.author_id,
        practice_id=Problem.author_practice_id,
    ).where(Problem.board_id.in_(boards), Problem.deleted_at.is_(None))


# One problem with its board, the identities anonymity shows, and whether one of the reader's
# practices said "we have this too": built once (building it took ~0.35 ms, a tenth of a
# write's Python); each call binds the reader's boards and practices and the problem's id.
_ONE = _on_boards(
    select(
        Problem,
        _BOARD,
        Person,
        access.SHOWN_PRACTICE,
        exists().where(
            AffectedPractice.problem_id == Problem.id,
            AffectedPractice.practice_id.in_(bindparam("my_practices", expanding=True)),
        ),
    ),
    bindparam("boards", expanding=True),
).where(Problem.id == bindparam("problem_id"))


def _view(principal: Principal, row) -> ProblemView:
    problem, board, author, practice, mine = row
    return ProblemView(
        problem=problem,
        board=board,
        author=author,
        practice=practice,
        can_edit=problem.author_id == principal.person_id,
        my_practice_affected=bool(mine),
    )


def get(uow: UnitOfWork, principal: Principal, problem_id: int) -> ProblemView:
    """A problem the principal may read; hidden ones only for its board's moderators."""
    row = uow.session.execute(
        _ONE,
        {
            "boards": sorted(access.readable_board_ids(principal)),
            "my_practices": sorted(principal.practices),
            "problem_id": problem_id,
        },
    ).first()
    if row is None:
        raise NotFound(f"Problem {problem_id} not found.")
    view = _view(principal, row)
    rights = problem_rules.rights(uow.session, principal, view.problem)
    if not rights.read:
        raise NotFound(f"Problem {problem_id} not found.")
    return dataclasses.replace(view, can_edit=rights.edit, can_moderate=rights.moderate)


def _text(column, name: str | None = None):
    """An enum column read as its text: a list writes the value out, no Enum object needed."""
    return type_coerce(column, String).label(name or column.key)


# What a list shows of each problem (in this order: `api.problems.problem_item` unpacks it):
# columns, not entities (lists never load a body), with the
# identities that anonymity hides never selected and `can_edit` worked out by the database.
_LIST_COLUMNS = (
    Problem.id,
    Problem.title,
    Problem.excerpt,
    Problem.tags,
    _text(Problem.status),
    _text(Problem.anonymity),
    Problem.affected_count,
    Problem.comment_count,
    Problem.created_at,
    Problem.updated_at,
    Problem.last_activity_at,
    _BOARD.id.label("board_id"),
    _text(_BOARD.kind, "board_kind"),
    _BOARD.name.label("board_name"),
    Person.id.label("author_id"),
    Person.name.label("author_name"),
    access.SHOWN_PRACTICE.id.label("practice_id"),
    access.SHOWN_PRACTICE.name.label("practice_name"),
    (Problem.author_id == bindparam("me")).label("can_edit"),
    exists()
    .where(
        AffectedPractice.problem_id == Problem.id,
        AffectedPractice.practice_id.in_(
            bindparam("my_practices", expanding=True, literal_execute=True)
        ),
    )
    .label("my_practice_affected"),
)


@functools.lru_cache(maxsize=64)
def _list_statement(
    sort: str, board: bool, status: bool, tag: bool, fulltext: bool, after: bool
) -> DriverSelect:
    """The list's statement for one combination of filters, built once; each request only
    binds its own values (boards, filters, cursor, limit).

    The boards and the limit are written into the SQL (`literal_execute`), not sent as
    parameters: PostgreSQL's estimate of the board filter depends on which boards they are (a
    federation's board holds many problems, a new practice's few), so with them as parameters
    it re-plans every execution of the prepared statement (planning costs more than running
    it). Written in, each board set's statement gets its own plan, made once per connection and
    re-used."""
    boards: BindParameter[Any] = bindparam("boards", expanding=True, literal_execute=True)
    # What shows to every reader of the boards: hidden problems are read one by one (`get`).
    stmt = _on_boards(select(*_LIST_COLUMNS), boards).where(problem_rules.shown())
    if board:
        stmt = stmt.where(Problem.board_id == bindparam("board_id"))
    if status:
        stmt = stmt.where(Problem.status == bindparam("status"))
    if tag:
        stmt = stmt.where(
            exists().where(ProblemTag.problem_id == Problem.id, ProblemTag.tag == bindparam("tag"))
        )
    if fulltext:
        query = func.websearch_to_tsquery(literal_column("'english'"), bindparam("q"))
        stmt = stmt.where(SEARCH_DOCUMENT.op("@@")(query))
    keys, _types = _SORT_KEYS[sort]
    if after:
        bound = [bindparam(f"after_{i}", type_=key.type) for i, key in enumerate(keys)]
        stmt = stmt.where(tuple_(*keys) < tuple_(*bound))
    limit = bindparam("limit", type_=Integer, literal_execute=True)
    return DriverSelect(stmt.order_by(*(k.desc() for k in keys)).limit(limit))


# Where each order's keys are in a row of `_LIST_COLUMNS` (rows are read by position).
_KEY_POSITIONS = {
    sort: tuple(next(i for i, c in enumerate(_LIST_COLUMNS) if c.key == k.key) for k in keys)
    for sort, (keys, _types) in _SORT_KEYS.items()
}


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
) -> Page[Row]:
    """Problems on every board the principal reads (hidden ones left out), as rows of
    `_LIST_COLUMNS`; one statement whatever the filters and the page size."""
    if sort not in SORTS:
        raise Invalid(f"sort is one of {', '.join(SORTS)}.", field="sort", location="query")
    _keys, types = _SORT_KEYS[sort]
    after = decode_cursor(cursor, types)
    fulltext = bool(q) and uow.session.get_bind().dialect.name == "postgresql"
    stmt = _list_statement(
        sort, board_id is not None, status is not None, bool(tag), fulltext, after is not None
    )
    if q and not fulltext:
        stmt = DriverSelect(stmt.statement.where(_words_match(q)))
    params: dict = {
        "boards": tuple(sorted(access.readable_board_ids(principal))),
        "me": principal.person_id,
        "my_practices": tuple(sorted(principal.practices)),
        "limit": limit + 1,
        "board_id": board_id,
        "status": status,
        "tag": tag.lower() if tag else None,
        "q": q,
    }
    if after is not None:
        params.update((f"after_{i}", value) for i, value in enumerate(after))

    def run() -> Sequence[Row]:
        return uow.read(stmt, params)  # Core rows, not entities; outside a transaction for a GET

    # The reader and their boards are in the key: a page is only ever served to whom it was
    # read for (`can_edit` is theirs), and only while nothing it shows has changed.
    reader = (principal.person_id, params["boards"], params["my_practices"])
    # Only changes on the reader's boards (or to everything) make the page stale
    # (`network.content`).
    scopes = [content.board(b) for b in params["boards"]]
    key = ("problems", *reader, sort, board_id, status, tag, q, limit, cursor)
    rows = uow.cached(key, run, scopes)
    at = _KEY_POSITIONS[sort]
    return page_from_rows(rows, limit, lambda row: tuple(row[i] for i in at))


def _words_match(q: str):
    """Search without PostgreSQL: every word must appear in the title or the body."""
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
    return stmt.where(Comment.problem_id == problem_id, problem_rules.comment_shown())


@dataclass(frozen=True)
class AffectedView:
    practice: Organisation
    note: str | None
    created_at: datetime


def get_affected(
    uow: UnitOfWork, principal: Principal, problem_id: int, *, limit: int, cursor: str | None = None
) -> Page[AffectedView]:
    """The practices that have said they have the problem too. A practice-anonymous author's
    own practice is counted without a signal (`services.create`), so it is never listed."""
    problem = get(uow, principal, problem_id).problem
    stmt = (
        select(AffectedPractice, Organisation)
        .join(Organisation, Organisation.id == AffectedPractice.practice_id)
        .where(AffectedPractice.problem_id == problem.id)
    )
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
