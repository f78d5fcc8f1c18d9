"""Changing problems: posting, editing, "we have this too", comments and ideas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import or_
from sqlalchemy import update as sql_update

from network import access, preconditions
from network.access import Anonymity, Principal
from network.access import problems as problem_rules
from network.activity import services as activity
from network.activity.services import Ref
from network.db import changed_rows, insert_unless_present, utcnow
from network.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
)
from network.preconditions import IfMatch, bump_version
from network.problems import queries
from network.problems.models import (
    AffectedPractice,
    Comment,
    CommentKind,
    Problem,
    ProblemRevision,
    ProblemStatus,
    ProblemTag,
)
from network.safety import excerpt, refuse_nhs_numbers, render_markdown
from network.text import clean_name
from network.uow import UnitOfWork

TAG_LENGTH = 40  # ProblemTag.tag


def tags_of(tags: list[str] | None) -> list[str]:
    """Tags as stored: white space folded, lower case, each once, at most ten."""
    cleaned = []
    for tag in tags or []:
        tag = " ".join(tag.split()).lower()
        if len(tag) > TAG_LENGTH:  # lower case can be longer than what was sent ("İ")
            raise Invalid(f"A tag is at most {TAG_LENGTH} characters.", field="tags")
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > 10:
        raise Invalid("At most 10 tags.", field="tags")
    return cleaned


def set_tags(uow: UnitOfWork, problem: Problem, tags: list[str]) -> None:
    uow.session.execute(sql_delete(ProblemTag).where(ProblemTag.problem_id == problem.id))
    uow.session.add_all(ProblemTag(problem_id=problem.id, tag=t) for t in tags)
    problem.tags = tags


def create(
    uow: UnitOfWork,
    principal: Principal,
    *,
    board_id: int,
    title: str,
    body: str,
    tags: list[str] | None = None,
    anonymity: Anonymity = Anonymity.none,
) -> Problem:
    """Post a problem on a board the principal reads; their practice counts as affected."""
    anonymity = Anonymity(anonymity)
    access.visible_chain(uow.session, principal, board_id, what="Board", field="board_id")
    if not access.can_post_on_board(principal, board_id):
        raise Forbidden("You can only post on the boards of organisations you belong to.")
    title = clean_name(title, field="title")
    tags = tags_of(tags)
    refuse_nhs_numbers([("title", title), ("body", body), ("tags", " ".join(tags))])
    practice_id = access.acting_practice(uow.session, principal, board_id)
    if anonymity is Anonymity.practice and practice_id is None:
        anonymity = Anonymity.person  # there is no practice to hide
    now = utcnow()
    problem = Problem(
        board_id=board_id,
        author_id=principal.person_id,
        author_practice_id=practice_id,
        anonymity=anonymity,
        title=title,
        body=body,
        body_html=render_markdown(body),
        tags=tags,
        affected_count=1 if practice_id else 0,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    uow.session.add(problem)
    uow.session.flush()
    set_tags(uow, problem, tags)
    # The author's practice counts as affected. When the post hides the practice, that is not
    # a signal of the practice: colleagues then see, say and withdraw "we have this too" exactly
    # as any other practice would, and nothing they are answered tells them the author is one
    # of them (the price: a colleague's signal counts once more for the same practice).
    if practice_id and anonymity is not Anonymity.practice:
        uow.session.add(
            AffectedPractice(
                problem_id=problem.id, practice_id=practice_id, signalled_by_id=principal.person_id
            )
        )
    _activity(uow, principal, problem, "posted", excerpt=problem.excerpt)
    uow.session.flush()
    return problem


def update(
    uow: UnitOfWork,
    principal: Principal,
    problem_id: int,
    *,
    if_match: IfMatch | None,
    **changes: Any,
) -> Problem:
    """Edit a problem (its author or the board's moderators), if it has not changed since the
    version the caller names (`if_match`, from If-Match; None when they named none)."""
    view = queries.get(uow, principal, problem_id)
    problem = view.problem
    if not view.can_edit:
        raise Forbidden("Only the author and the board's administrators may edit this problem.")
    bump_version(uow.session, problem, preconditions.require(if_match, "problem"))
    title = clean_name(str(changes["title"]), field="title") if "title" in changes else None
    body = changes.get("body")
    tags = tags_of(changes["tags"]) if "tags" in changes else None
    refuse_nhs_numbers([("title", title), ("body", body), ("tags", " ".join(tags or []))])
    if (title is not None and title != problem.title) or (
        body is not None and body != problem.body
    ):
        uow.session.add(
            ProblemRevision(
                problem_id=problem.id,
                editor_id=principal.person_id,
                title=problem.title,
                body=problem.body,
            )
        )
        problem.title = title or problem.title
        if body is not None:
            problem.body = str(body)
            problem.body_html = render_markdown(problem.body)
        _activity(uow, principal, problem, "edited")
    if tags is not None:
        set_tags(uow, problem, tags)
    if "status" in changes:
        _change_status(uow, principal, problem, ProblemStatus(changes["status"]))
    problem.updated_at = problem.last_activity_at = utcnow()
    uow.session.flush()
    return problem


def set_status(
    uow: UnitOfWork, principal: Principal, problem: Problem, status: ProblemStatus
) -> None:
    """Move a problem the principal reads to `status` from elsewhere (a workstream taking it on,
    letting it go, or completing): a new version, so an edit based on the old one is refused."""
    if status is problem.status:
        return
    bump_version(uow.session, problem)
    _change_status(uow, principal, problem, status)
    problem.updated_at = problem.last_activity_at = utcnow()


def _change_status(
    uow: UnitOfWork, principal: Principal, problem: Problem, status: ProblemStatus
) -> None:
    if status is not problem.status:
        problem.status = status
        _activity(uow, principal, problem, "status_changed", status=status.value)


def delete(
    uow: UnitOfWork, principal: Principal, problem_id: int, *, if_match: IfMatch | None = None
) -> None:
    """Soft-delete: the author while nobody has commented, or the board's moderators; with
    `if_match` (If-Match, optional here), only while it is still that version."""
    view = queries.get(uow, principal, problem_id)
    problem = view.problem
    moderator = view.can_moderate
    if not view.can_edit:
        raise Forbidden("Only the author and the board's administrators may delete it.")
    bump_version(uow.session, problem, if_match or preconditions.ANY_VERSION)
    # Counted once the problem is held: a comment committed meanwhile is seen.
    if not moderator and problem.comment_count:
        raise Conflict("It has comments now: ask the board's administrators to remove it.")
    # Only if no simultaneous request removed it meanwhile (it held the row until it committed).
    removed = changed_rows(
        uow.session,
        sql_update(Problem)
        .where(Problem.id == problem.id, Problem.deleted_at.is_(None))
        .values(deleted_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if not removed:
        raise NotFound(f"Problem {problem_id} not found.")
    uow.session.expire(problem, ["deleted_at"])
    _activity(uow, principal, problem, "deleted")
    uow.session.flush()


def signal_affected(
    uow: UnitOfWork, principal: Principal, problem_id: int, *, note: str | None = None
) -> tuple[AffectedPractice, bool]:
    """ "We have this too" for the principal's practice: idempotent, one per practice, safe
    under concurrent requests (the primary key decides). Returns (signal, created)."""
    problem = queries.get(uow, principal, problem_id).problem
    practice_id = access.acting_practice(uow.session, principal, problem.board_id)
    if practice_id is None:
        raise Forbidden("Only people of a practice can say their practice has this too.")
    refuse_nhs_numbers([("note", note)])
    values = {
        "problem_id": problem.id,
        "practice_id": practice_id,
        "signalled_by_id": principal.person_id,
        "note": note,
    }
    # A signal the insert ran into may be withdrawn before it is read (a colleague's DELETE
    # committing in between): then the insert is tried again, rather than failing the request.
    for _attempt in range(3):
        signal = insert_unless_present(uow.session, AffectedPractice, values)
        if signal is not None:
            break
        existing = uow.session.get(AffectedPractice, (problem.id, practice_id))
        if existing is not None:  # said before, or by someone of the practice at the same moment
            return existing, False
    else:
        raise Conflict("Your practice's signal changed while saving: try again.")
    _add_to_count(uow, problem, "affected_count", 1, activity=True)
    _activity(
        uow, principal, problem, "signalled", anonymity=Anonymity.none, practice_id=practice_id
    )
    uow.session.flush()
    return signal, True


def _add_to_count(
    uow: UnitOfWork, problem: Problem, counter: str, delta: int, *, activity: bool
) -> None:
    """`counter += delta` in SQL, so concurrent signals and comments never lose a count; an
    addition that is activity (not a withdrawal) also moves the problem up the hot order."""
    values = {counter: getattr(Problem, counter) + delta}
    if activity:
        values["last_activity_at"] = utcnow()
    uow.session.execute(
        sql_update(Problem)
        .where(Problem.id == problem.id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    uow.session.expire(problem, list(values))


def withdraw_affected(uow: UnitOfWork, principal: Principal, problem_id: int) -> None:
    problem = queries.get(uow, principal, problem_id).problem
    practice_id = access.acting_practice(uow.session, principal, problem.board_id)
    shown = problem.anonymity is not Anonymity.practice
    if shown and practice_id is not None and practice_id == problem.author_practice_id:
        # Only where the post shows the practice: a hidden one has no signal to withdraw.
        raise Conflict("The author's practice has this problem by definition.")
    deleted = changed_rows(
        uow.session,
        sql_delete(AffectedPractice).where(
            AffectedPractice.problem_id == problem.id, AffectedPractice.practice_id == practice_id
        ),
    )
    if not deleted:
        raise NotFound("Your practice has not said it has this problem.")
    _add_to_count(uow, problem, "affected_count", -1, activity=False)
    _activity(
        uow, principal, problem, "withdrew", anonymity=Anonymity.none, practice_id=practice_id
    )
    uow.session.flush()


def add_comment(
    uow: UnitOfWork,
    principal: Principal,
    problem_id: int,
    *,
    body: str,
    kind: CommentKind = CommentKind.comment,
    anonymity: Anonymity = Anonymity.none,
) -> Comment:
    problem = queries.get(uow, principal, problem_id).problem
    kind, anonymity = CommentKind(kind), Anonymity(anonymity)
    if not body.strip():
        raise Invalid("The comment must not be blank.", field="body")
    refuse_nhs_numbers([("body", body)])
    practice_id = access.acting_practice(uow.session, principal, problem.board_id)
    if anonymity is Anonymity.practice and practice_id is None:
        anonymity = Anonymity.person
    comment = Comment(
        problem_id=problem.id,
        author_id=principal.person_id,
        author_practice_id=practice_id,
        anonymity=anonymity,
        kind=kind,
        body=body,
        body_html=render_markdown(body),
    )
    uow.session.add(comment)
    _add_to_count(uow, problem, "comment_count", 1, activity=True)
    uow.session.flush()
    _activity(
        uow,
        principal,
        problem,
        kind.value,
        subject=Ref("comment", comment.id),
        anonymity=anonymity,
        practice_id=practice_id,
        excerpt=excerpt(body),
    )
    uow.session.flush()
    return comment


def accept_idea(uow: UnitOfWork, principal: Principal, problem_id: int, comment_id: int) -> Comment:
    """Accept an idea: the problem is solved (its author or the board's moderators)."""
    view = queries.get(uow, principal, problem_id)
    problem = view.problem
    if not view.can_edit:
        raise Forbidden("Only the problem's author and the board's administrators accept ideas.")
    comment = uow.session.get(Comment, comment_id)
    if (
        comment is None
        or comment.problem_id != problem.id
        or not problem_rules.comment_readable(comment)
    ):
        raise NotFound(f"Comment {comment_id} not found.")
    if comment.kind is not CommentKind.idea:
        raise Conflict("Only ideas can be accepted.")
    bump_version(uow.session, problem)  # holds the problem: one accept at a time
    # One accepted idea a problem: accepting another takes the mark from the one before.
    uow.session.execute(
        sql_update(Comment)
        .where(
            Comment.problem_id == problem.id,
            or_(Comment.accepted.is_(True), Comment.id == comment.id),
        )
        .values(accepted=Comment.id == comment.id)
        .execution_options(synchronize_session=False)
    )
    uow.session.expire(comment, ["accepted"])
    problem.status = ProblemStatus.solved
    problem.accepted_comment_id = comment.id
    problem.accepted_by_id = principal.person_id
    problem.updated_at = problem.last_activity_at = utcnow()
    _activity(uow, principal, problem, "accepted", subject=Ref("comment", comment.id))
    uow.session.flush()
    return comment


def _activity(
    uow: UnitOfWork,
    principal: Principal,
    problem: Problem,
    verb: str,
    *,
    subject: activity.Ref | None = None,
    anonymity: Anonymity | None = None,
    practice_id: int | None = None,
    **facts: str,
) -> None:
    """Activity in the problem's thread (about the problem itself unless `subject` says
    otherwise), with its title as it is now among the facts. The problem's own anonymity covers
    what its author does to it."""
    if anonymity is None:
        by_author = principal.person_id == problem.author_id
        anonymity = problem.anonymity if by_author else Anonymity.none
        practice_id = (
            problem.author_practice_id
            if by_author
            else access.acting_practice(uow.session, principal, problem.board_id)
        )
    thread = Ref("problem", problem.id)
    activity.record(
        uow,
        principal,
        verb,
        subject or thread,
        thread=thread,
        board_id=problem.board_id,
        data={"title": problem.title, **facts},
        anonymity=anonymity,
        practice_id=practice_id,
    )
