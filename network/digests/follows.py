"""Following and muting threads (a problem, workstream or library entry): what a person asks to
hear more of, or never again, in their digests and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from network import access
from network.access import Principal
from network.db import insert_or_get, utcnow
from network.digests.models import Follow, ThreadChoice
from network.errors import NotFound
from network.pagination import Page, decode_cursor, page_from_rows
from network.uow import UnitOfWork

THREAD_TYPES = ("problem", "workstream", "library_entry")


@dataclass(frozen=True)
class FollowView:
    type: str
    id: int
    title: str
    created_at: datetime


def _require_readable(uow: UnitOfWork, principal: Principal, kind: str, thread_id: int) -> None:
    if access.thread_board(uow.session, principal, kind, thread_id) is None:
        raise NotFound(f"{kind.replace('_', ' ').capitalize()} {thread_id} not found.")


def choose(
    uow: UnitOfWork, principal: Principal, kind: str, thread_id: int, choice: ThreadChoice
) -> bool:
    """Follow or mute a thread the principal reads (either replaces the other). True when it
    is new, False when it already was."""
    _require_readable(uow, principal, kind, thread_id)
    key = (principal.person_id, kind, thread_id)
    row, created = insert_or_get(
        uow.session,
        Follow(
            person_id=principal.person_id,
            thread_type=kind,
            thread_id=thread_id,
            choice=choice,
            created_at=utcnow(),
        ),
        lambda: uow.session.get(Follow, key),
    )
    if not created and row.choice is not choice:
        row.choice, row.created_at = choice, utcnow()
        created = True
    uow.session.flush()
    return created


def forget(
    uow: UnitOfWork, principal: Principal, kind: str, thread_id: int, choice: ThreadChoice
) -> None:
    """Stop following (or muting) a thread; the same whether or not one was."""
    _require_readable(uow, principal, kind, thread_id)
    uow.session.execute(
        delete(Follow).where(
            Follow.person_id == principal.person_id,
            Follow.thread_type == kind,
            Follow.thread_id == thread_id,
            Follow.choice == choice,
        )
    )


def listed(
    uow: UnitOfWork,
    principal: Principal,
    choice: ThreadChoice,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page[FollowView]:
    """What the principal follows (or mutes) that they still read, newest first."""
    shown, title, board = access.thread_columns(Follow.thread_type, Follow.thread_id)
    after = decode_cursor(cursor, (datetime, str, int))
    stmt = select(Follow, title).where(
        Follow.person_id == principal.person_id,
        Follow.choice == choice,
        shown,
        board.in_(sorted(access.readable_board_ids(principal))),
    )
    if after is not None:
        stmt = stmt.where(
            (Follow.created_at < after[0])
            | ((Follow.created_at == after[0]) & (Follow.thread_type < after[1]))
            | (
                (Follow.created_at == after[0])
                & (Follow.thread_type == after[1])
                & (Follow.thread_id < after[2])
            )
        )
    rows = uow.session.execute(
        stmt.order_by(
            Follow.created_at.desc(), Follow.thread_type.desc(), Follow.thread_id.desc()
        ).limit(limit + 1)
    ).all()
    views = [FollowView(f.thread_type, f.thread_id, t or "", f.created_at) for f, t in rows]
    return page_from_rows(views, limit, lambda v: (v.created_at, v.type, v.id))
