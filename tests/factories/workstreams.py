"""Joint workstreams, the practices taking part, their actions and check-ins, and hiding one.

Built through the workstream services, as the people named would do it, so that what the
services keep beside a workstream (linked problems moved to `in_workstream`, activity) is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from network.access import load_principal
from network.organisations.models import Organisation
from network.people.models import Person
from network.problems.models import Problem
from network.uow import UnitOfWork
from network.workstreams import actions, huddles, moderation, services
from network.workstreams.models import (
    Action,
    CheckIn,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
)


def _uow(session: Session) -> UnitOfWork:
    return UnitOfWork(lambda: session)


def workstream(
    session: Session,
    creator: Person,
    owner: Organisation,
    *,
    title: str = "Workflow",
    purpose: str = "Take clinical correspondence off GPs.",
    lead: Person | None = None,
    problems: Sequence[Problem] = (),
) -> Workstream:
    """A workstream of a PCN or federation, started by one of its administrators."""
    w = services.create(
        _uow(session),
        load_principal(session, creator),
        organisation_id=owner.id,
        title=title,
        purpose=purpose,
        lead_id=lead.id if lead is not None else None,
        problem_ids=[p.id for p in problems],
    )
    session.flush()
    return w


def take_part(
    session: Session, person: Person, on: Workstream, practice: Organisation
) -> Participation:
    """The practice takes part, joined by `person` (its administrator or a manager)."""
    row, _ = services.join(_uow(session), load_principal(session, person), on.id, practice.id)
    session.flush()
    return row


def action(
    session: Session,
    person: Person,
    on: Workstream,
    *,
    owner: Person,
    practice: Organisation | None = None,
    title: str = "Scan letters at source",
    due_on: date = date(2030, 1, 1),
) -> Action:
    """An action added by `person` (a manager, or a member of a practice taking part)."""
    a = actions.add_action(
        _uow(session),
        load_principal(session, person),
        on.id,
        title=title,
        owner_id=owner.id,
        due_on=due_on,
        practice_id=practice.id if practice is not None else None,
    )
    session.flush()
    return a


def check_in(
    session: Session,
    author: Person,
    on: Workstream,
    *,
    body: str = "We started scanning.",
    practice: Organisation | None = None,
) -> CheckIn:
    """A check-in by a member of a practice taking part."""
    c = actions.add_check_in(
        _uow(session),
        load_principal(session, author),
        on.id,
        body=body,
        practice_id=practice.id if practice is not None else None,
    )
    session.flush()
    return c


def hide_workstream(session: Session, moderator: Person, on: Workstream) -> Workstream:
    """The owner's administrator hides the whole workstream."""
    w = moderation.set_hidden(_uow(session), load_principal(session, moderator), on.id, True)
    session.flush()
    return w


def meeting(
    session: Session,
    manager: Person,
    on: Workstream,
    *,
    starts_at: datetime,
    status: MeetingStatus = MeetingStatus.held,
    notes: str | None = "We agreed to scan at source.",
    decisions: Sequence[str] = ("Scan letters at source from Monday",),
    attended: Sequence[Organisation] = (),
) -> Meeting:
    """A huddle stored by one of the workstream's managers (held, by default: it has started)."""
    m = huddles.create_meeting(
        _uow(session),
        load_principal(session, manager),
        on.id,
        starts_at=starts_at,
        status=status,
        notes=notes,
        decisions=list(decisions),
        attended_practice_ids=[p.id for p in attended],
    )
    session.flush()
    return m
