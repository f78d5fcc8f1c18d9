"""Changing workstreams: creating and managing them, practices joining and leaving, problems
taken on, actions and check-ins."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from network import access, preconditions
from network.access import Principal
from network.access import workstreams as rules
from network.activity import services as activity
from network.activity.services import Ref
from network.db import changed_rows, insert_or_get, utcnow
from network.errors import Conflict, Forbidden, Invalid, NotFound
from network.organisations.models import Organisation, OrganisationKind
from network.preconditions import IfMatch, bump_version
from network.problems import queries as problem_queries
from network.problems import services as problem_services
from network.problems.models import ProblemStatus
from network.safety import excerpt, refuse_nhs_numbers, render_markdown
from network.text import clean_name
from network.uow import UnitOfWork
from network.workstreams import queries
from network.workstreams.models import (
    Action,
    ActionStatus,
    CheckIn,
    LinkedProblem,
    Participation,
    Workstream,
    WorkstreamStatus,
)

TITLE_LENGTH = 200


def create(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int,
    title: str,
    purpose: str,
    aim: str | None = None,
    lead_id: int | None = None,
    problem_ids: list[int] | None = None,
) -> Workstream:
    """A workstream of a PCN or federation, by its administrators who read its board; the
    problems named are taken on at once."""
    access.visible_chain(
        uow.session, principal, organisation_id, what="Organisation", field="organisation_id"
    )
    owner = uow.session.get_one(Organisation, organisation_id)
    if owner.kind not in rules.OWNER_KINDS:
        raise Invalid("A workstream belongs to a PCN or a federation.", field="organisation_id")
    if not rules.may_create(uow.session, principal, organisation_id):
        raise Forbidden("Only the organisation's administrators who read its board create one.")
    title = clean_name(title, field="title")
    refuse_nhs_numbers([("purpose", purpose), ("aim", aim)])
    if lead_id is not None:
        _require_reader(uow, lead_id, organisation_id, field="lead_id")
    now = utcnow()
    workstream = Workstream(
        organisation_id=organisation_id,
        title=title,
        purpose=purpose,
        aim=aim,
        lead_id=lead_id,
        status=WorkstreamStatus.proposed,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(workstream)
    uow.session.flush()
    _activity(uow, principal, workstream, "workstream_created")
    for problem_id in dict.fromkeys(problem_ids or []):
        _link(uow, principal, workstream, problem_id)
    uow.session.flush()
    return workstream


def update(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    if_match: IfMatch | None,
    **changes: Any,
) -> Workstream:
    """Edit a workstream (its managers), if unchanged since the version the caller names.
    Completing it with `solve_problems` marks the problems it took on solved."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers change it.")
    if_match = preconditions.require(if_match, "workstream")
    solve = bool(changes.pop("solve_problems", False))
    changes = {k: v for k, v in changes.items() if v != getattr(workstream, k)}
    if not changes and not solve:
        preconditions.check(workstream, if_match)  # a stale tag is still refused
        return workstream  # nothing changes: no new version, no activity
    bump_version(uow.session, workstream, if_match)
    if "title" in changes:
        workstream.title = clean_name(str(changes["title"]), field="title")
    for name in ("purpose", "aim"):
        if name in changes:
            refuse_nhs_numbers([(name, changes[name])])
            setattr(workstream, name, changes[name])
    if "lead_id" in changes:
        if changes["lead_id"] is not None:
            _require_reader(uow, changes["lead_id"], workstream.organisation_id, field="lead_id")
        workstream.lead_id = changes["lead_id"]
    edited = any(n in changes for n in ("title", "purpose", "aim", "lead_id"))
    if edited:
        _activity(uow, principal, workstream, "workstream_edited")
    status = changes.get("status")
    if status is not None and WorkstreamStatus(status) is not workstream.status:
        workstream.status = WorkstreamStatus(status)
        _activity(uow, principal, workstream, "status_changed", status=workstream.status.value)
    if solve:
        if workstream.status is not WorkstreamStatus.completed:
            raise Invalid("Problems are solved when the workstream completes.", field="status")
        # Only those the caller reads: of a practice's private problem they learn nothing,
        # not even by failing to solve it.
        for row in queries.visible_problems(uow, principal, workstream.id):
            _solve(uow, principal, row.id)
    workstream.updated_at = utcnow()
    uow.session.flush()
    return workstream


def join(
    uow: UnitOfWork, principal: Principal, workstream_id: int, practice_id: int
) -> tuple[Participation, bool]:
    """A practice of the owner's takes part (its administrators, or the managers); a practice
    that left comes back with its history. Returns (participation, joined now)."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    chain = access.visible_chain(uow.session, principal, practice_id, what="Practice")
    practice = uow.session.get_one(Organisation, practice_id)
    if practice.kind is not OrganisationKind.practice or workstream.organisation_id not in chain:
        raise Invalid(
            "Only practices of the workstream's organisation take part.", field="practice_id"
        )
    if not rules.may_speak_for_practice(
        uow.session, principal, practice_id, manages=view.rights.manage
    ):
        raise Forbidden("Only the practice's administrators, or the workstream's managers.")
    if workstream.status is WorkstreamStatus.completed:
        raise Conflict("The workstream is completed: practices no longer join it.")
    key = (workstream.id, practice_id)
    row, created = insert_or_get(
        uow.session,
        Participation(
            workstream_id=workstream.id, practice_id=practice_id, joined_by_id=principal.person_id
        ),
        lambda: uow.session.get(Participation, key),
    )
    if not created and row.left_at is None:
        return row, False
    if not created:
        row.left_at = None
        row.joined_at = utcnow()
        row.joined_by_id = principal.person_id
    _activity(
        uow,
        principal,
        workstream,
        "practice_joined",
        practice_id=_own(principal, practice_id),
        practice=practice.name,
    )
    uow.session.flush()
    return row, True


def leave(
    uow: UnitOfWork, principal: Principal, workstream_id: int, practice_id: int
) -> list[queries.ActionView]:
    """A practice stops taking part; its history stays. Returns its open actions, for the
    managers to reassign or drop."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    if not rules.may_speak_for_practice(
        uow.session, principal, practice_id, manages=view.rights.manage
    ):
        raise Forbidden("Only the practice's administrators, or the workstream's managers.")
    left = changed_rows(
        uow.session,
        sql_update(Participation)
        .where(
            Participation.workstream_id == workstream.id,
            Participation.practice_id == practice_id,
            Participation.left_at.is_(None),
        )
        .values(left_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if not left:
        raise NotFound(f"Practice {practice_id} does not take part.", field="practice_id")
    practice = uow.session.get_one(Organisation, practice_id)
    _activity(
        uow,
        principal,
        workstream,
        "practice_left",
        practice_id=_own(principal, practice_id),
        practice=practice.name,
    )
    uow.session.flush()
    return queries.open_actions_of(uow, workstream.id, practice_id)


def link_problem(
    uow: UnitOfWork, principal: Principal, workstream_id: int, problem_id: int
) -> bool:
    """Take a problem on (the managers, who must read the problem): it is `in_workstream`."""
    view = queries.get(uow, principal, workstream_id)
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers take problems on.")
    return _link(uow, principal, view.workstream, problem_id)


def unlink_problem(
    uow: UnitOfWork, principal: Principal, workstream_id: int, problem_id: int
) -> None:
    """Let a problem go; with no workstream left, it is back to `discussing`."""
    view = queries.get(uow, principal, workstream_id)
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers let problems go.")
    problem = problem_queries.get(uow, principal, problem_id).problem
    link = uow.session.get(LinkedProblem, (view.workstream.id, problem.id))
    if link is None:
        raise NotFound(f"Problem {problem_id} is not taken on by this workstream.")
    uow.session.delete(link)
    uow.session.flush()
    remaining = uow.session.scalar(
        select(LinkedProblem.workstream_id).where(LinkedProblem.problem_id == problem.id).limit(1)
    )
    if remaining is None and problem.status is ProblemStatus.in_workstream:
        problem_services.set_status(uow, principal, problem, ProblemStatus.discussing)
    _link_activity(uow, principal, view.workstream, problem, "problem_unlinked")
    uow.session.flush()


def add_action(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    title: str,
    owner_id: int,
    due_on: date,
    practice_id: int | None = None,
    status: ActionStatus = ActionStatus.open,
) -> Action:
    """An action with an owner (who reads the workstream), for a practice taking part: the
    managers for any, members of a practice for their own ("my practice" when unnamed)."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    practice_id = _practice_for(uow, principal, view, practice_id)
    _require_reader(uow, owner_id, workstream.organisation_id, field="owner_id")
    now = utcnow()
    status = ActionStatus(status)
    action = Action(
        workstream_id=workstream.id,
        title=clean_name(title, field="title"),
        owner_id=owner_id,
        practice_id=practice_id,
        due_on=due_on,
        status=status,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    if status is not ActionStatus.open:
        action.completed_by_id, action.completed_at = principal.person_id, now
    uow.session.add(action)
    uow.session.flush()
    _action_activity(uow, principal, workstream, action, "action_added")
    uow.session.flush()
    return action


def update_action(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    action_id: int,
    *,
    if_match: IfMatch | None = None,
    **changes: Any,
) -> Action:
    """Change an action (the managers, or members of its practice): reassign it, move its date,
    mark it done or dropped, or open it again."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    action = queries.action(uow, principal, view, action_id)
    taking_part = queries.participating(uow, workstream.id)
    if not (view.rights.manage or rules.acts_for(principal, action.practice_id, taking_part)):
        raise Forbidden("Only the workstream's managers, or the action's practice, change it.")
    changes = {k: v for k, v in changes.items() if v != getattr(action, k)}
    if not changes:
        return action  # nothing changes: no new version, no activity
    bump_version(uow.session, action, if_match or preconditions.ANY_VERSION)
    if "practice_id" in changes and changes["practice_id"] != action.practice_id:
        action.practice_id = _practice_for(uow, principal, view, changes["practice_id"])
    if "owner_id" in changes:
        _require_reader(uow, changes["owner_id"], workstream.organisation_id, field="owner_id")
        action.owner_id = changes["owner_id"]
    if "title" in changes:
        action.title = clean_name(str(changes["title"]), field="title")
    if "due_on" in changes:
        action.due_on = changes["due_on"]
    verb = "action_updated"
    status = changes.get("status")
    if status is not None and ActionStatus(status) is not action.status:
        action.status = ActionStatus(status)
        done = action.status is not ActionStatus.open
        action.completed_by_id = principal.person_id if done else None
        action.completed_at = utcnow() if done else None
        verb = {
            ActionStatus.done: "action_done",
            ActionStatus.dropped: "action_dropped",
            ActionStatus.open: "action_reopened",
        }[action.status]
    action.updated_at = utcnow()
    _action_activity(uow, principal, workstream, action, verb)
    uow.session.flush()
    return action


def add_check_in(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    body: str,
    practice_id: int | None = None,
) -> CheckIn:
    """A short update from a practice taking part, by its members ("my practice" rule), or
    from the workstream's managers who speak for no practice taking part."""
    view = queries.get(uow, principal, workstream_id)
    if not body.strip():
        raise Invalid("The update must not be blank.", field="body")
    refuse_nhs_numbers([("body", body)])
    taking_part = queries.participating(uow, view.workstream.id)
    # The managers who speak for no practice taking part (a clinical director) may post as
    # themselves; otherwise a check-in is a practice's, chosen as for actions.
    for_themselves = view.rights.manage and practice_id is None
    if not (for_themselves and not principal.practices & taking_part):
        practice_id = _practice_for(uow, principal, view, practice_id, taking_part)
    row = CheckIn(
        workstream_id=view.workstream.id,
        practice_id=practice_id,
        author_id=principal.person_id,
        body=body,
        body_html=render_markdown(body),
    )
    uow.session.add(row)
    uow.session.flush()
    _activity(
        uow,
        principal,
        view.workstream,
        "checked_in",
        subject=Ref("check_in", row.id),
        practice_id=_own(principal, practice_id),
        excerpt=excerpt(body),
    )
    uow.session.flush()
    return row


def _practice_for(
    uow: UnitOfWork,
    principal: Principal,
    view: queries.WorkstreamView,
    practice_id: int | None,
    taking_part: set[int] | None = None,
) -> int:
    """The practice an action or check-in is for: any practice taking part, named by a manager;
    a member's own practice otherwise (their only one when unnamed)."""
    if taking_part is None:
        taking_part = queries.participating(uow, view.workstream.id)
    if view.rights.manage and practice_id is not None:
        if practice_id not in taking_part:
            raise Invalid(f"Practice {practice_id} does not take part.", field="practice_id")
        return practice_id
    practice_id = access.practice_for_write(principal, practice_id)
    if practice_id not in taking_part:
        raise Forbidden("Your practice does not take part in this workstream.")
    return practice_id


def _require_reader(uow: UnitOfWork, person_id: int, owner_id: int, *, field: str) -> None:
    person = access.principal_of(uow.session, person_id)
    if person is None or not rules.may_lead(person, owner_id):
        raise Invalid(f"Person {person_id} does not read this workstream.", field=field)


def _link(uow: UnitOfWork, principal: Principal, workstream: Workstream, problem_id: int) -> bool:
    """Only a problem the principal reads; its status moves to `in_workstream`."""
    problem = problem_queries.get(uow, principal, problem_id).problem
    _, created = insert_or_get(
        uow.session,
        LinkedProblem(
            workstream_id=workstream.id, problem_id=problem.id, linked_by_id=principal.person_id
        ),
        lambda: uow.session.get(LinkedProblem, (workstream.id, problem.id)),
    )
    if not created:
        return False
    if problem.status in (ProblemStatus.open, ProblemStatus.discussing):
        problem_services.set_status(uow, principal, problem, ProblemStatus.in_workstream)
    _link_activity(uow, principal, workstream, problem, "problem_linked")
    return True


def _solve(uow: UnitOfWork, principal: Principal, problem_id: int) -> None:
    problem = problem_queries.get(uow, principal, problem_id).problem
    if problem.status is not ProblemStatus.solved:
        problem_services.set_status(uow, principal, problem, ProblemStatus.solved)


def _link_activity(uow, principal, workstream, problem, verb: str) -> None:
    """In the workstream's thread only when everyone who reads the workstream reads the problem:
    of a practice's private problem, the others learn nothing, not even that it exists."""
    if rules.problem_shown_to_all_readers(uow.session, workstream, problem.board_id):
        _activity(
            uow,
            principal,
            workstream,
            verb,
            subject=Ref("problem", problem.id),
            problem=problem.title,
        )


def _action_activity(uow, principal, workstream, action: Action, verb: str) -> None:
    _activity(
        uow,
        principal,
        workstream,
        verb,
        subject=Ref("action", action.id),
        practice_id=_own(principal, action.practice_id),
        action=action.title,
    )


def _own(principal: Principal, practice_id: int | None) -> int | None:
    """The practice shown beside the actor: the one acted for, when it is theirs (a manager
    acting for another practice is shown without one)."""
    return practice_id if practice_id in principal.practices else None


def _activity(
    uow: UnitOfWork,
    principal: Principal,
    workstream: Workstream,
    verb: str,
    *,
    subject: Ref | None = None,
    practice_id: int | None = None,
    **facts: str,
) -> None:
    thread = Ref("workstream", workstream.id)
    activity.record(
        uow,
        principal,
        verb,
        subject or thread,
        thread=thread,
        board_id=workstream.organisation_id,
        data={"title": workstream.title, **facts},
        practice_id=practice_id,
    )
