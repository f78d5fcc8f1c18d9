"""The rules of joint workstreams: who reads and manages one, who takes part for a practice,
and when a workstream's thread of activity still shows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from network.access import (
    Principal,
    ThreadKind,
    can_administer,
    can_moderate,
    can_read_board,
    chain_of,
    principal_of,
    register_thread,
)
from network.errors import Invalid
from network.organisations.models import OrganisationKind
from network.workstreams.models import Action, CheckIn, Workstream

# Who may own a workstream: work that practices do together.
OWNER_KINDS = (OrganisationKind.pcn, OrganisationKind.federation)


@dataclass(frozen=True)
class Rights:
    """What a reader of a workstream's owner board may do with it."""

    read: bool  # everyone who reads the owner's board (a hidden one: its moderators)
    manage: bool  # the owner's administrators who read its board, and the lead
    moderate: bool  # hide and redact: the owner's administrators who read its board


def rights(session: Session, principal: Principal, workstream: Workstream) -> Rights:
    board = can_read_board(principal, workstream.organisation_id)
    moderate = can_moderate(session, principal, workstream.organisation_id)
    manage = moderate or (board and workstream.lead_id == principal.person_id)
    return Rights(
        read=board and (not workstream.hidden or moderate), manage=manage, moderate=moderate
    )


def may_create(session: Session, principal: Principal, organisation_id: int) -> bool:
    """The owner's administrators who read its board (administering never grants reading)."""
    return can_moderate(session, principal, organisation_id)


def may_lead(lead: Principal, workstream_owner_id: int) -> bool:
    """A lead, like an action's owner, is someone who reads the workstream."""
    return can_read_board(lead, workstream_owner_id)


def require_reader(session: Session, person_id: int, owner_id: int, *, field: str) -> None:
    """A lead, or an action's owner, is someone who reads the workstream (Invalid otherwise)."""
    person = principal_of(session, person_id)
    if person is None or not may_lead(person, owner_id):
        raise Invalid(f"Person {person_id} does not read this workstream.", field=field)


def may_speak_for_practice(
    session: Session, principal: Principal, practice_id: int, *, manages: bool
) -> bool:
    """Join or leave for a practice: its administrators (or theirs above it), or the
    workstream's managers."""
    if manages:
        return True
    chain = chain_of(session, practice_id)
    return chain is not None and can_administer(principal, chain)


def problem_shown_to_all_readers(
    session: Session, workstream: Workstream, problem_board_id: int
) -> bool:
    """Everyone who reads the workstream (who belongs to its owner) reads a problem of this
    board only when the board is the owner's or above it; a practice's board is for its own."""
    chain = chain_of(session, workstream.organisation_id) or []
    return problem_board_id in chain


def acts_for(principal: Principal, practice_id: int | None, taking_part: set[int]) -> bool:
    """Members of a practice taking part manage their own practice's actions and check-ins (a
    practice that left keeps its history, not its say)."""
    return practice_id is not None and practice_id in principal.practices & taking_part


def action_shown() -> ColumnElement[bool]:
    return Action.hidden.is_(False)


def check_in_shown() -> ColumnElement[bool]:
    return CheckIn.hidden.is_(False)


def shown() -> ColumnElement[bool]:
    return Workstream.hidden.is_(False)


def _still_shown(thread_id: SQLCoreOperations[int]) -> ColumnElement[bool]:
    return exists().where(Workstream.id == thread_id, shown())


def _title(thread_id: SQLCoreOperations[int]) -> ColumnElement[str]:
    return select(Workstream.title).where(Workstream.id == thread_id).scalar_subquery()


def _board(thread_id: SQLCoreOperations[int]) -> ColumnElement[int]:
    return select(Workstream.organisation_id).where(Workstream.id == thread_id).scalar_subquery()


register_thread(ThreadKind("workstream", still_shown=_still_shown, title=_title, board=_board))
