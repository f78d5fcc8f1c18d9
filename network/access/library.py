"""The rules of the best-practice library: an entry is read like its organisation's board;
drafts only by their author and the administrators who read it; a practice's adoption is set
by that practice's people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from network.access import (
    Principal,
    ThreadKind,
    can_moderate,
    can_read_board,
    chain_of,
    readable_board_ids,
    register_thread,
)
from network.library.models import EntryStatus, LibraryEntry


@dataclass(frozen=True)
class Rights:
    read: bool  # a draft: its author and moderators; a hidden one: moderators
    edit: bool  # its author and moderators: new versions, publishing, withdrawing
    moderate: bool  # hide, redact: the administrators of its organisation who read it


def rights(session: Session, principal: Principal, entry: LibraryEntry) -> Rights:
    board = can_read_board(principal, entry.organisation_id)
    moderate = can_moderate(session, principal, entry.organisation_id)
    author = board and entry.author_id == principal.person_id
    read = (
        board
        and (entry.status is not EntryStatus.draft or author or moderate)
        and (not entry.hidden or moderate)
    )
    return Rights(read=read, edit=author or moderate, moderate=moderate)


def moderated_boards(session: Session, principal: Principal) -> list[int]:
    """The organisations whose library the principal moderates (and so sees drafts of)."""
    return sorted(b for b in readable_board_ids(principal) if can_moderate(session, principal, b))


def listed(principal: Principal, moderated: list[int]) -> ColumnElement[bool]:
    """What a list shows the principal: entries in scopes they read, not hidden, and drafts
    only their own or those they moderate."""
    return and_(
        LibraryEntry.organisation_id.in_(sorted(readable_board_ids(principal))),
        LibraryEntry.hidden.is_(False),
        or_(
            LibraryEntry.status != EntryStatus.draft,
            LibraryEntry.author_id == principal.person_id,
            LibraryEntry.organisation_id.in_(moderated),
        ),
    )


def in_scope(session: Session, practice_id: int, entry: LibraryEntry) -> bool:
    """An entry is for the practices under its organisation (or the practice itself)."""
    return entry.organisation_id in (chain_of(session, practice_id) or [])


def _still_shown(thread_id: SQLCoreOperations[int]) -> ColumnElement[bool]:
    # Activity is recorded once an entry is published; a hidden one shows no more.
    return exists().where(
        LibraryEntry.id == thread_id,
        LibraryEntry.hidden.is_(False),
        LibraryEntry.status != EntryStatus.draft,
    )


def _title(thread_id: SQLCoreOperations[int]) -> ColumnElement[str]:
    return select(LibraryEntry.title).where(LibraryEntry.id == thread_id).scalar_subquery()


def _board(thread_id: SQLCoreOperations[int]) -> ColumnElement[int]:
    return (
        select(LibraryEntry.organisation_id).where(LibraryEntry.id == thread_id).scalar_subquery()
    )


register_thread(ThreadKind("library_entry", still_shown=_still_shown, title=_title, board=_board))
