"""Recording what happens, for every feature through one entry point, and listing it for those
who may still read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from network import access
from network.access import Anonymity, Principal
from network.activity.descriptions import describe, facts
from network.activity.models import Activity
from network.organisations.models import Organisation
from network.pagination import Page, newest_first, page_from_rows
from network.people.models import Person
from network.uow import UnitOfWork

_BOARD = aliased(Organisation, name="board")


@dataclass(frozen=True)
class Ref:
    """A thing activity is about, by kind and id: `Ref("comment", 7)`, `Ref("problem", 3)`."""

    type: str
    id: int


def record(
    uow: UnitOfWork,
    principal: Principal,
    verb: str,
    subject: Ref,
    *,
    thread: Ref,
    board_id: int,
    data: Mapping[str, Any],
    anonymity: Anonymity = Anonymity.none,
    practice_id: int | None = None,
) -> Activity:
    """Add an activity row in the caller's transaction (the outbox): `principal` did `verb` to
    `subject`, in `thread` on `board_id`, acting for `practice_id`, shown as `anonymity` allows.
    `data` are the facts its description needs, as they are now (never the actor's identity)."""
    row = Activity(
        verb=verb,
        board_id=board_id,
        actor_id=principal.person_id,
        actor_practice_id=practice_id,
        anonymity=anonymity,
        subject_type=subject.type,
        subject_id=subject.id,
        thread_type=thread.type,
        thread_id=thread.id,
        data=facts(verb, **data),
    )
    uow.session.add(row)
    return row


def redact_thread(uow: UnitOfWork, thread: Ref, scrub: Callable[[str], str]) -> int:
    """Rewrite the stored facts of a thread's activity with `scrub` (redaction: what should
    never have been posted). Returns how many rows changed."""
    changed = 0
    rows = select(Activity).where(
        Activity.thread_type == thread.type, Activity.thread_id == thread.id
    )
    for row in uow.session.scalars(rows):
        data = _scrubbed(row.data, scrub)
        if data != row.data:
            row.data = data
            changed += 1
    return changed


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    return value


@dataclass(frozen=True)
class Thread:
    type: str
    id: int
    title: str  # as it is now


@dataclass(frozen=True)
class ActivityView:
    id: int
    at: datetime
    verb: str
    board: Organisation
    subject: Ref
    thread: Thread
    data: Mapping[str, Any]
    actor: Person | None
    practice: Organisation | None

    def describe(self, *, excerpts: bool) -> str:
        return describe(self.verb, self.data, excerpts=excerpts)

    @property
    def summary(self) -> str:
        """The feed's line: what happened, without what was written."""
        return self.describe(excerpts=False)

    @property
    def problem_id(self) -> int | None:
        return self.thread.id if self.thread.type == "problem" else None


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    since: datetime | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[ActivityView]:
    """Newest first, on boards the principal reads, in threads that still show to them."""
    shown, title, _board = access.thread_columns(Activity.thread_type, Activity.thread_id)
    stmt = access.join_shown_identity(
        select(Activity, _BOARD, Person, access.SHOWN_PRACTICE, title.label("thread_title")).join(
            _BOARD, _BOARD.id == Activity.board_id
        ),
        anonymity=Activity.anonymity,
        person_id=Activity.actor_id,
        practice_id=Activity.actor_practice_id,
    ).where(Activity.board_id.in_(access.readable_board_ids(principal)), shown)
    if organisation_id is not None:
        stmt = stmt.where(Activity.board_id == organisation_id)
    stmt = newest_first(stmt, Activity.at, Activity.id, since=since, cursor=cursor, limit=limit)
    views = [
        ActivityView(
            id=a.id,
            at=a.at,
            verb=a.verb,
            board=b,
            subject=Ref(a.subject_type, a.subject_id),
            thread=Thread(a.thread_type, a.thread_id, thread_title or ""),
            data=a.data,
            actor=person,
            practice=prac,
        )
        for a, b, person, prac, thread_title in uow.session.execute(stmt).all()
    ]
    return page_from_rows(views, limit, lambda v: (v.at, v.id))
