"""The work of the practices taking part: actions with owners and due dates, and check-ins."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from network import access, preconditions
from network.access import Principal
from network.access import workstreams as rules
from network.activity.services import Ref
from network.db import insert_or_get, utcnow
from network.errors import Conflict, Forbidden, Invalid, NotFound
from network.preconditions import IfMatch, bump_version
from network.safety import excerpt, refuse_nhs_numbers, render_markdown
from network.text import clean_name
from network.uow import Job, UnitOfWork
from network.workstreams import huddles, queries
from network.workstreams import meetings as meeting_rules
from network.workstreams.activity import record, shown_practice
from network.workstreams.models import Action, ActionStatus, CheckIn, MeetingStatus


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
    rules.require_reader(uow.session, owner_id, workstream.organisation_id, field="owner_id")
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
    _tell_owner(uow, principal, action)
    uow.session.flush()
    return action


def _tell_owner(uow: UnitOfWork, principal: Principal, action: Action) -> None:
    """An action given to someone else is news that cannot wait for their digest: one email,
    once this change commits (the job checks their `notify` choice and access then)."""
    if action.owner_id != principal.person_id and action.status is ActionStatus.open:
        uow.enqueue_after_commit(
            Job(
                "workers.notifications.send_action_assigned",
                (action.id, action.owner_id),
                queue="mail",
            )
        )


def action_from_decision(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    meeting_id: int,
    decision: int,
    *,
    title: str | None = None,
    owner_id: int | None = None,
    due_on: date | None = None,
    practice_id: int | None = None,
) -> tuple[Action, bool]:
    """A huddle's decision (its index in `decisions`) made an action, by the managers, in one
    call: titled by the decision, owned by the caller and due by the next huddle unless said
    otherwise, for a practice taking part or for the workstream as a whole. Asking again (or
    twice at once) gives the same action: (action, created now)."""
    view = queries.get(uow, principal, workstream_id)
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers turn decisions into actions.")
    meeting = huddles.get_meeting(uow, principal, workstream_id, meeting_id)
    if not 0 <= decision < len(meeting.decisions):
        raise NotFound(f"Meeting {meeting_id} has no decision {decision}.")
    if meeting.status is MeetingStatus.cancelled:
        raise Conflict("The huddle was cancelled: it made no decisions.")
    existing = _decision_action(uow, meeting_id, decision)
    if existing is not None:
        return existing, False
    workstream = view.workstream
    if practice_id is not None:
        practice_id = _practice_for(uow, principal, view, practice_id)
    owner_id = owner_id if owner_id is not None else principal.person_id
    rules.require_reader(uow.session, owner_id, workstream.organisation_id, field="owner_id")
    if due_on is None:
        due_on = _next_huddle_day(workstream, after=meeting.starts_at)
    now = utcnow()
    action = Action(
        workstream_id=workstream.id,
        title=clean_name(
            title if title is not None else _shortened(meeting.decisions[decision]), field="title"
        ),
        owner_id=owner_id,
        practice_id=practice_id,
        due_on=due_on,
        status=ActionStatus.open,
        meeting_id=meeting.id,
        decision=decision,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    action, created = insert_or_get(
        uow.session, action, lambda: _decision_action(uow, meeting_id, decision)
    )
    if created:
        _action_activity(uow, principal, workstream, action, "action_added")
        _tell_owner(uow, principal, action)
        uow.session.flush()
    return action, created


def _decision_action(uow: UnitOfWork, meeting_id: int, decision: int) -> Action | None:
    return uow.session.scalars(
        select(Action).where(Action.meeting_id == meeting_id, Action.decision == decision)
    ).first()


def _shortened(text: str, length: int = 200) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _next_huddle_day(workstream, *, after) -> date:
    """The London date of the first huddle after a time and after now; a week on without one."""
    start = max(after, utcnow())
    found = meeting_rules.occurrences(workstream, start, start + timedelta(days=62))
    at = found[0].starts_at if found else start + timedelta(weeks=1)
    return at.astimezone(meeting_rules.LOCAL_TIME).date()


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
        rules.require_reader(
            uow.session, changes["owner_id"], workstream.organisation_id, field="owner_id"
        )
        action.owner_id = changes["owner_id"]
        _tell_owner(uow, principal, action)
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
    record(
        uow,
        principal,
        view.workstream,
        "checked_in",
        subject=Ref("check_in", row.id),
        practice_id=shown_practice(principal, practice_id),
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


def _action_activity(uow, principal, workstream, action: Action, verb: str) -> None:
    record(
        uow,
        principal,
        workstream,
        verb,
        subject=Ref("action", action.id),
        practice_id=shown_practice(principal, action.practice_id),
        action=action.title,
    )
