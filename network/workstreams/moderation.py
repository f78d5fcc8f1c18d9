"""Moderation of workstreams, their actions and check-ins, as for problems: reports by readers,
hiding, and redaction of what should never have been written, by the administrators of the
owner who read it."""

from __future__ import annotations

from sqlalchemy import select

from network import moderation as shared
from network.access import Principal
from network.activity import services as activity
from network.errors import Forbidden, NotFound
from network.preconditions import bump_version
from network.problems.models import Report
from network.safety import render_markdown
from network.uow import UnitOfWork
from network.workstreams import queries
from network.workstreams.models import Action, CheckIn, Meeting, Workstream

TITLE_LENGTH = 200


def report(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    reason: str,
    action_id: int | None = None,
    check_in_id: int | None = None,
) -> Report:
    """Anyone who reads a workstream can report it, or one of its actions or check-ins."""
    view = queries.get(uow, principal, workstream_id)
    _part_of(uow, view.workstream, Action, action_id, "action_id")
    _part_of(uow, view.workstream, CheckIn, check_in_id, "check_in_id")
    return shared.file_report(
        uow,
        principal,
        board_id=view.workstream.organisation_id,
        reason=reason,
        workstream_id=view.workstream.id,
        action_id=action_id,
        check_in_id=check_in_id,
    )


def set_hidden(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    hidden: bool,
    *,
    action_id: int | None = None,
    check_in_id: int | None = None,
) -> Workstream:
    """Hide a workstream, or one of its actions or check-ins, from all but its moderators (or
    show it again)."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    if not view.rights.moderate:
        raise Forbidden("Only the administrators of its organisation who read it moderate it.")
    action = _part_of(uow, workstream, Action, action_id, "action_id")
    check_in = _part_of(uow, workstream, CheckIn, check_in_id, "check_in_id")
    target: Workstream | Action | CheckIn = action or check_in or workstream
    if isinstance(target, Workstream | Action):
        bump_version(uow.session, target)
    target.hidden = hidden
    shared.record_hidden(
        uow,
        principal,
        hidden,
        organisation_id=workstream.organisation_id,
        subject_type=type(target).__tablename__,
        subject_id=target.id,
    )
    uow.session.flush()
    return workstream


def redact(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    text: str,
    replacement: str,
) -> int:
    """Replace every occurrence of `text` (in any letter case) in the workstream, its actions,
    its check-ins, its huddles' notes and decisions, its reports and the facts its activity is
    described from. Returns how many places changed; the audit entry records that it happened,
    never the text."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    if not view.rights.moderate:
        raise Forbidden("Only the administrators of its organisation who read it moderate it.")
    pattern, scrub = shared.redaction(text, replacement)
    bump_version(uow.session, workstream)

    changed = 0
    fields = [workstream.title, workstream.purpose, workstream.aim or ""]
    if any(pattern.search(value) for value in fields):
        workstream.title = scrub(workstream.title)[:TITLE_LENGTH]
        workstream.purpose = scrub(workstream.purpose)
        workstream.aim = scrub(workstream.aim) if workstream.aim is not None else None
        changed += 1
    for action in uow.session.scalars(select(Action).where(Action.workstream_id == workstream.id)):
        if pattern.search(action.title):
            action.title = scrub(action.title)[:TITLE_LENGTH]
            changed += 1
    check_ins = select(CheckIn).where(CheckIn.workstream_id == workstream.id)
    for check_in in uow.session.scalars(check_ins):
        if pattern.search(check_in.body):
            check_in.body = scrub(check_in.body)
            check_in.body_html = render_markdown(check_in.body)
            changed += 1
    meetings = select(Meeting).where(Meeting.workstream_id == workstream.id)
    for meeting in uow.session.scalars(meetings):
        texts = [meeting.notes or "", meeting.location or "", *meeting.decisions]
        if any(pattern.search(value) for value in texts):
            meeting.notes = scrub(meeting.notes) if meeting.notes is not None else None
            meeting.notes_html = render_markdown(meeting.notes) if meeting.notes else None
            meeting.location = scrub(meeting.location) if meeting.location else meeting.location
            meeting.decisions = [scrub(d) for d in meeting.decisions]
            meeting.version += 1
            changed += 1
    return shared.finish_redaction(
        uow,
        principal,
        pattern=pattern,
        scrub=scrub,
        reports=Report.workstream_id == workstream.id,
        thread=activity.Ref("workstream", workstream.id),
        organisation_id=workstream.organisation_id,
        changed=changed,
    )


def _part_of(uow: UnitOfWork, workstream: Workstream, model, row_id: int | None, field: str):
    if row_id is None:
        return None
    row = uow.session.get(model, row_id)
    if row is None or row.workstream_id != workstream.id:
        raise NotFound(f"{model.__name__} {row_id} not found.", field=field)
    return row
