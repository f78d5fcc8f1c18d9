"""Moderation: reports by readers, hiding, and redaction of what should never have been posted."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from network import access
from network import moderation as shared
from network.access import Principal
from network.activity import services as activity
from network.audit import services as audit
from network.db import utcnow
from network.errors import Forbidden, Invalid, NotFound
from network.pagination import Page, decode_cursor, page_from_rows
from network.preconditions import bump_version
from network.problems import queries
from network.problems.models import (
    AffectedPractice,
    Comment,
    Problem,
    ProblemRevision,
    Report,
    ReportStatus,
)
from network.problems.services import TAG_LENGTH, set_tags, tags_of
from network.safety import render_markdown
from network.uow import UnitOfWork

DEFAULT_REPLACEMENT = shared.DEFAULT_REPLACEMENT


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
    if comment_id is not None:
        _comment_of(uow, problem, comment_id)
    return shared.file_report(
        uow,
        principal,
        board_id=problem.board_id,
        reason=reason,
        problem_id=problem.id,
        comment_id=comment_id,
    )


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
    readable = access.readable_board_ids(principal)
    boards = [b for b in readable if access.can_moderate(uow.session, principal, b)]
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
    bump_version(uow.session, problem)
    problem.hidden = hidden
    shared.record_hidden(
        uow,
        principal,
        hidden,
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
    """Replace every occurrence of `text`, in any letter case, in the problem (title, body,
    tags and the rows `?tag=` filters on), its comments, its "we have this too" notes, its edit
    history, its reports and the facts its activity is described from; search reads the same
    columns. Returns how many places changed. The audit entry records that it happened, never
    the text."""
    problem = queries.get(uow, principal, problem_id).problem
    _require_moderator(uow, principal, problem.board_id)
    pattern, scrub = shared.redaction(text, replacement)
    # Held from here: an edit committed meanwhile is read, and redacted, not written away.
    bump_version(uow.session, problem)

    changed = 0
    if pattern.search(problem.title) or pattern.search(problem.body):
        problem.title = scrub(problem.title)[:200]
        problem.body = scrub(problem.body)
        problem.body_html = render_markdown(problem.body)
        changed += 1
    if any(pattern.search(tag) for tag in problem.tags):
        # The filter's rows too, or `?tag=` would still find the problem by the text.
        set_tags(uow, problem, tags_of([scrub(tag)[:TAG_LENGTH] for tag in problem.tags]))
        changed += 1
    for comment in uow.session.scalars(select(Comment).where(Comment.problem_id == problem.id)):
        if pattern.search(comment.body):
            comment.body = scrub(comment.body)
            comment.body_html = render_markdown(comment.body)
            changed += 1
    revisions = select(ProblemRevision).where(ProblemRevision.problem_id == problem.id)
    for revision in uow.session.scalars(revisions):
        if pattern.search(revision.title) or pattern.search(revision.body):
            revision.title = scrub(revision.title)[:200]
            revision.body = scrub(revision.body)
            changed += 1
    signals = select(AffectedPractice).where(AffectedPractice.problem_id == problem.id)
    for signal in uow.session.scalars(signals):
        if signal.note and pattern.search(signal.note):
            signal.note = scrub(signal.note)
            changed += 1
    return shared.finish_redaction(
        uow,
        principal,
        pattern=pattern,
        scrub=scrub,
        reports=Report.problem_id == problem.id,
        thread=activity.Ref("problem", problem.id),
        organisation_id=problem.board_id,
        changed=changed,
    )


def _comment_of(uow: UnitOfWork, problem: Problem, comment_id: int) -> Comment:
    comment = uow.session.get(Comment, comment_id)
    if comment is None or comment.problem_id != problem.id:
        raise NotFound(f"Comment {comment_id} not found.", field="comment_id")
    return comment


def _require_moderator(uow: UnitOfWork, principal: Principal, board_id: int) -> None:
    if not access.can_moderate(uow.session, principal, board_id):
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
