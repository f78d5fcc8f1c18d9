"""Moderation: reports by readers, hiding, and redaction of what should never have been posted."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from network import access
from network.access import Principal
from network.activity.models import Activity
from network.audit import services as audit
from network.db import utcnow
from network.errors import Forbidden, Invalid, NotFound
from network.pagination import Page, decode_cursor, page_from_rows
from network.problems import queries
from network.problems.models import Comment, Problem, ProblemRevision, Report, ReportStatus
from network.safety import refuse_nhs_numbers, render_markdown
from network.uow import UnitOfWork

DEFAULT_REPLACEMENT = "[redacted]"


def report(
    uow: UnitOfWork,
    principal: Principal,
    problem_id: int,
    *,
    reason: str,
    comment_id: int | None = None,
) -> Report:
    """Anyone who can read a post can report it, with a reason."""
    problem = queries.get(uow, principal, problem_id).problem
    if not reason.strip():
        raise Invalid("Say why you are reporting it.", field="reason")
    refuse_nhs_numbers([("reason", reason)])
    if comment_id is not None:
        _comment_of(uow, problem, comment_id)
    row = Report(
        board_id=problem.board_id,
        problem_id=problem.id,
        comment_id=comment_id,
        reporter_id=principal.person_id,
        reason=reason.strip(),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def get_reports(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    status: ReportStatus | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Report]:
    """Reports on the boards the principal moderates, newest first."""
    boards = [
        b for b in access.readable_board_ids(principal) if queries.can_moderate(uow, principal, b)
    ]
    if organisation_id is not None:
        if organisation_id not in boards:
            raise Forbidden("Only the board's administrators see its reports.")
        boards = [organisation_id]
    stmt = select(Report).where(Report.board_id.in_(boards))
    if status is not None:
        stmt = stmt.where(Report.status == status)
    after = decode_cursor(cursor, (int,))
    if after is not None:
        stmt = stmt.where(tuple_(Report.id) < tuple_(after[0]))
    rows = list(uow.session.scalars(stmt.order_by(Report.id.desc()).limit(limit + 1)))
    return page_from_rows(rows, limit, lambda r: (r.id,))


def set_report_status(
    uow: UnitOfWork, principal: Principal, report_id: int, status: ReportStatus
) -> Report:
    row = uow.session.get(Report, report_id)
    if row is None or not access.can_read_board(principal, row.board_id):
        raise NotFound(f"Report {report_id} not found.")
    _require_moderator(uow, principal, row.board_id)
    row.status = status
    row.resolved_by_id = None if status is ReportStatus.open else principal.person_id
    row.resolved_at = None if status is ReportStatus.open else utcnow()
    audit.record_by(
        uow,
        principal,
        "moderation.report_" + status.value,
        organisation_id=row.board_id,
        subject_type="report",
        subject_id=row.id,
    )
    uow.session.flush()
    return row


def set_hidden(uow: UnitOfWork, principal: Principal, problem_id: int, hidden: bool) -> Problem:
    """Hide a problem from everyone but the board's moderators, or show it again."""
    problem = queries.get(uow, principal, problem_id).problem
    _require_moderator(uow, principal, problem.board_id)
    problem.hidden = hidden
    problem.version += 1
    audit.record_by(
        uow,
        principal,
        "moderation.hidden" if hidden else "moderation.unhidden",
        organisation_id=problem.board_id,
        subject_type="problem",
        subject_id=problem.id,
    )
    uow.session.flush()
    return problem


def redact(
    uow: UnitOfWork,
    principal: Principal,
    problem_id: int,
    *,
    text: str,
    replacement: str = DEFAULT_REPLACEMENT,
) -> int:
    """Replace every occurrence of `text` in the problem, its comments, its edit history and
    the summaries of its activity. Returns how many places changed. The audit entry records
    that it happened, never the text."""
    problem = queries.get(uow, principal, problem_id).problem
    _require_moderator(uow, principal, problem.board_id)
    if not text.strip():
        raise Invalid("Give the text to remove.", field="text")
    if text in replacement:
        raise Invalid("The replacement must not contain the text.", field="replacement")
    refuse_nhs_numbers([("replacement", replacement)])
    changed = 0
    if text in problem.title or text in problem.body:
        problem.title = problem.title.replace(text, replacement)[:200]
        problem.body = problem.body.replace(text, replacement)
        problem.body_html = render_markdown(problem.body)
        changed += 1
    if any(text in tag for tag in problem.tags):
        problem.tags = [tag.replace(text, replacement) for tag in problem.tags]
        changed += 1
    for comment in uow.session.scalars(select(Comment).where(Comment.problem_id == problem.id)):
        if text in comment.body:
            comment.body = comment.body.replace(text, replacement)
            comment.body_html = render_markdown(comment.body)
            changed += 1
    revisions = select(ProblemRevision).where(ProblemRevision.problem_id == problem.id)
    for revision in uow.session.scalars(revisions):
        if text in revision.title or text in revision.body:
            revision.title = revision.title.replace(text, replacement)[:200]
            revision.body = revision.body.replace(text, replacement)
            changed += 1
    for entry in uow.session.scalars(select(Activity).where(Activity.problem_id == problem.id)):
        if text in entry.summary:
            entry.summary = entry.summary.replace(text, replacement)
            changed += 1
    for row in uow.session.scalars(select(Report).where(Report.problem_id == problem.id)):
        if text in row.reason:
            row.reason = row.reason.replace(text, replacement)
            changed += 1
    problem.version += 1
    audit.record_by(
        uow,
        principal,
        "moderation.redacted",
        organisation_id=problem.board_id,
        subject_type="problem",
        subject_id=problem.id,
        details={"places": changed},
    )
    uow.session.flush()
    return changed


def _comment_of(uow: UnitOfWork, problem: Problem, comment_id: int) -> Comment:
    comment = uow.session.get(Comment, comment_id)
    if comment is None or comment.problem_id != problem.id:
        raise NotFound(f"Comment {comment_id} not found.", field="comment_id")
    return comment


def _require_moderator(uow: UnitOfWork, principal: Principal, board_id: int) -> None:
    if not queries.can_moderate(uow, principal, board_id):
        raise Forbidden("Only the board's administrators moderate it.")


def reveal_author(uow: UnitOfWork, problem_id: int, *, superuser_email: str, reason: str) -> dict:
    """Who posted a problem, anonymous or not: for investigating abuse, by a superuser at the
    command line only. The lookup itself is audited (that it happened, by whom and why)."""
    from network.people.models import Person

    asker = uow.session.scalar(select(Person).where(Person.email == superuser_email.lower()))
    if asker is None or not asker.is_superuser or not asker.is_active:
        raise Forbidden("Only an active superuser may look up who posted something.")
    if not reason.strip():
        raise Invalid("Say why you need to know.", field="reason")
    problem = uow.session.get(Problem, problem_id)
    if problem is None:
        raise NotFound(f"Problem {problem_id} not found.")
    author = uow.session.get_one(Person, problem.author_id)
    audit.record(
        uow,
        "moderation.author_revealed",
        actor_id=asker.id,
        actor_label=asker.email,
        subject_type="problem",
        subject_id=problem.id,
        details={"reason": reason.strip()},
    )
    uow.session.flush()
    return {
        "problem_id": problem.id,
        "author_id": author.id,
        "author_email": author.email,
        "author_practice_id": problem.author_practice_id,
        "anonymity": problem.anonymity.value,
    }
