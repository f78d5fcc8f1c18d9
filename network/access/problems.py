"""The rules of problem boards: who reads, edits and removes a problem, and when a problem's
thread of activity still shows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from network.access import Principal, ThreadKind, can_moderate, register_thread
from network.problems.models import Comment, Problem


def comment_shown() -> ColumnElement[bool]:
    """Comments that show under their problem: not hidden by a moderator."""
    return Comment.hidden.is_(False)


def comment_readable(comment: Comment) -> bool:
    """A comment of a problem the reader reads, unless a moderator hid it."""
    return not comment.hidden


def shown() -> ColumnElement[bool]:
    """Problems that show on their board: neither hidden by a moderator nor deleted."""
    return and_(Problem.hidden.is_(False), Problem.deleted_at.is_(None))


@dataclass(frozen=True)
class Rights:
    """What a reader of a problem's board may do with it."""

    read: bool  # a hidden one: only the board's moderators; a deleted one: nobody
    edit: bool  # its author and the board's moderators (also: accept ideas)
    moderate: bool  # hide, redact, see reports; remove it even when it has comments


def rights(session: Session, principal: Principal, problem: Problem) -> Rights:
    """The reader's rights on a problem of a board they read (the query that found it asks
    that); the author may also remove it while nobody has commented, which the service checks
    once it holds the row."""
    moderate = can_moderate(session, principal, problem.board_id)
    return Rights(
        read=problem.deleted_at is None and (not problem.hidden or moderate),
        edit=moderate or problem.author_id == principal.person_id,
        moderate=moderate,
    )


def _still_shown(thread_id: SQLCoreOperations[int]) -> ColumnElement[bool]:
    return exists().where(Problem.id == thread_id, shown())


def _title(thread_id: SQLCoreOperations[int]) -> ColumnElement[str]:
    return select(Problem.title).where(Problem.id == thread_id).scalar_subquery()


def _board(thread_id: SQLCoreOperations[int]) -> ColumnElement[int]:
    return select(Problem.board_id).where(Problem.id == thread_id).scalar_subquery()


register_thread(ThreadKind("problem", still_shown=_still_shown, title=_title, board=_board))
