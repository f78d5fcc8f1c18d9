"""Problems on boards, the practices that have them too, comments and ideas, edits, reports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from network import safety
from network.access import Anonymity
from network.db import Base, UTCDateTime, utcnow


class ProblemStatus(enum.StrEnum):
    open = "open"
    discussing = "discussing"
    in_workstream = "in_workstream"
    solved = "solved"
    closed = "closed"


class CommentKind(enum.StrEnum):
    comment = "comment"
    idea = "idea"


class ReportStatus(enum.StrEnum):
    open = "open"
    resolved = "resolved"
    dismissed = "dismissed"


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Problem(Base):
    __tablename__ = "problem"
    __table_args__ = (
        # The hot list: most practices affected, then most recent activity.
        Index("ix_problem_hot", "affected_count", "last_activity_at", "id"),
        Index("ix_problem_board_id_created_at", "board_id", "created_at", "id"),
        Index("ix_problem_updated_at", "updated_at", "id"),
        CheckConstraint("affected_count >= 0", name="affected_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Kept even when hidden by anonymity: only a superuser may look, from the command line.
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    author_practice_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    anonymity: Mapped[Anonymity] = mapped_column(_enum(Anonymity), default=Anonymity.none)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The start of the body as plain words, kept with it (lists show it and never read the body).
    excerpt: Mapped[str] = mapped_column(
        String(safety.EXCERPT_LENGTH), default="", server_default=""
    )
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ProblemStatus] = mapped_column(_enum(ProblemStatus), default=ProblemStatus.open)
    affected_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The accepted idea (a comment of this problem; no foreign key: comments come later).
    accepted_comment_id: Mapped[int | None] = mapped_column(Integer)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    @validates("body")
    def _keep_excerpt(self, _key: str, body: str) -> str:
        self.excerpt = safety.excerpt(body)
        return body


class ProblemTag(Base):
    """One row per tag, for filtering; the problem's `tags` column keeps them for display."""

    __tablename__ = "problem_tag"

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class AffectedPractice(Base):
    """ "We have this too": one per practice and problem, enforced by the primary key."""

    __tablename__ = "affected_practice"
    # "Has my practice said so?" for a page of problems (my_practice_affected): the planner
    # reads a practice's signals once, by this index, rather than every signal there is.
    __table_args__ = (
        Index("ix_affected_practice_practice_id_problem_id", "practice_id", "problem_id"),
    )

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True
    )
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    signalled_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_problem_id_created_at", "problem_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    author_practice_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    anonymity: Mapped[Anonymity] = mapped_column(_enum(Anonymity), default=Anonymity.none)
    kind: Mapped[CommentKind] = mapped_column(_enum(CommentKind), default=CommentKind.comment)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProblemRevision(Base):
    """The text of a problem before each edit."""

    __tablename__ = "problem_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """A reader's report of something on a board: a problem (or one of its comments), a
    workstream (or one of its actions or check-ins), or a library entry."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_board_id_status_id", "board_id", "status", "id"),
        # About exactly one thread: a problem's, a workstream's or a library entry's.
        CheckConstraint(
            "(CASE WHEN problem_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN workstream_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN library_entry_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_thread",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    workstream_id: Mapped[int | None] = mapped_column(
        ForeignKey("workstream.id", ondelete="CASCADE")
    )
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("workstream_action.id", ondelete="CASCADE")
    )
    check_in_id: Mapped[int | None] = mapped_column(
        ForeignKey("workstream_check_in.id", ondelete="CASCADE")
    )
    library_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_entry.id", ondelete="CASCADE")
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.open)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
