"""Changing workstreams: creating and managing them, practices joining and leaving, problems
taken on, actions and check-ins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from network import access, preconditions
from network.access import Principal
from network.access import workstreams as rules
from network.activity.services import Ref
from network.db import changed_rows, insert_or_get, utcnow
from network.errors import Conflict, Forbidden, Invalid, NotFound
from network.organisations.models import Organisation, OrganisationKind
from network.preconditions import IfMatch, bump_version
from network.problems import queries as problem_queries
from network.problems import services as problem_services
from network.problems.models import ProblemStatus
from network.safety import refuse_nhs_numbers
from network.text import clean_name
from network.uow import UnitOfWork
from network.workstreams import meetings, queries
from network.workstreams.activity import record, shown_practice
from network.workstreams.models import (
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
    meeting_rule: str | None = None,
    meeting_minutes: int = 30,
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
        rules.require_reader(uow.session, lead_id, organisation_id, field="lead_id")
    now = utcnow()
    workstream = Workstream(
        organisation_id=organisation_id,
        title=title,
        purpose=purpose,
        aim=aim,
        lead_id=lead_id,
        status=WorkstreamStatus.proposed,
        meeting_rule=meetings.parse_rule(meeting_rule) if meeting_rule else None,
        meeting_minutes=meeting_minutes,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(workstream)
    uow.session.flush()
    record(uow, principal, workstream, "workstream_created")
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
            rules.require_reader(
                uow.session, changes["lead_id"], workstream.organisation_id, field="lead_id"
            )
        workstream.lead_id = changes["lead_id"]
    if "meeting_rule" in changes:
        rule = changes["meeting_rule"]
        workstream.meeting_rule = meetings.parse_rule(rule) if rule else None
    if "meeting_minutes" in changes:
        workstream.meeting_minutes = changes["meeting_minutes"]
    edited = any(
        n in changes
        for n in ("title", "purpose", "aim", "lead_id", "meeting_rule", "meeting_minutes")
    )
    if edited:
        record(uow, principal, workstream, "workstream_edited")
    status = changes.get("status")
    if status is not None and WorkstreamStatus(status) is not workstream.status:
        workstream.status = WorkstreamStatus(status)
        record(uow, principal, workstream, "status_changed", status=workstream.status.value)
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
    record(
        uow,
        principal,
        workstream,
        "practice_joined",
        practice_id=shown_practice(principal, practice_id),
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
    record(
        uow,
        principal,
        workstream,
        "practice_left",
        practice_id=shown_practice(principal, practice_id),
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
        record(
            uow,
            principal,
            workstream,
            verb,
            subject=Ref("problem", problem.id),
            problem=problem.title,
        )
