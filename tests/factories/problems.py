"""Problems, their comments and ideas, "we have this too" signals and reports.

Built through the problem services, as the author would post them, so that what the services keep
beside a problem (its author's practice counted as affected, counts, excerpt, activity) is there.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from network.access import load_principal
from network.organisations.models import Organisation
from network.people.models import Person
from network.problems import moderation, services
from network.problems.models import AffectedPractice, Comment, CommentKind, Problem, Report
from network.uow import UnitOfWork


def _uow(session: Session) -> UnitOfWork:
    return UnitOfWork(lambda: session)


def problem(
    session: Session,
    author: Person,
    board: Organisation,
    *,
    title: str = "Discharge letters",
    body: str = "Five PDFs.",
) -> Problem:
    p = services.create(
        _uow(session), load_principal(session, author), board_id=board.id, title=title, body=body
    )
    session.flush()
    return p


def comment(
    session: Session,
    author: Person,
    on: Problem,
    *,
    body: str = "Ask for one PDF",
    kind: CommentKind = CommentKind.comment,
) -> Comment:
    c = services.add_comment(
        _uow(session), load_principal(session, author), on.id, body=body, kind=kind
    )
    session.flush()
    return c


def affected(session: Session, person: Person, on: Problem) -> AffectedPractice:
    """The person's practice says it has this problem too."""
    signal, _ = services.signal_affected(_uow(session), load_principal(session, person), on.id)
    session.flush()
    return signal


def report(session: Session, reporter: Person, on: Problem, *, reason: str = "Off topic") -> Report:
    r = moderation.report(_uow(session), load_principal(session, reporter), on.id, reason=reason)
    session.flush()
    return r
