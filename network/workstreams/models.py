"""Workstreams, the practices that take part, the problems they took on, actions and check-ins."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


class WorkstreamStatus(enum.StrEnum):
    proposed = "proposed"
    active = "active"
    paused = "paused"
    completed = "completed"


class ActionStatus(enum.StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


class MeetingStatus(enum.StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Workstream(Base):
    __tablename__ = "workstream"
    __table_args__ = (Index("ix_workstream_organisation_id_id", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The owner: a PCN or a federation; its board's readers read the workstream.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    aim: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    status: Mapped[WorkstreamStatus] = mapped_column(
        _enum(WorkstreamStatus), default=WorkstreamStatus.proposed
    )
    meeting_rule: Mapped[str | None] = mapped_column(String(500))
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=30)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participation(Base):
    """A practice taking part. Leaving keeps the row (`left_at`): its history stays."""

    __tablename__ = "workstream_practice"
    __table_args__ = (Index("ix_workstream_practice_practice_id", "practice_id"),)

    workstream_id: Mapped[int] = mapped_column(
        ForeignKey("workstream.id", ondelete="CASCADE"), primary_key=True
    )
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    joined_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkedProblem(Base):
    __tablename__ = "workstream_problem"
    __table_args__ = (Index("ix_workstream_problem_problem_id", "problem_id"),)

    workstream_id: Mapped[int] = mapped_column(
        ForeignKey("workstream.id", ondelete="CASCADE"), primary_key=True
    )
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True
    )
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Action(Base):
    __tablename__ = "workstream_action"
    __table_args__ = (
        Index("ix_workstream_action_workstream_id_due_on_id", "workstream_id", "due_on", "id"),
        Index("ix_workstream_action_owner_id_status", "owner_id", "status"),
        # A meeting's decision becomes one action, however many times it is asked for.
        UniqueConstraint("meeting_id", "decision", name="uq_workstream_action_meeting_decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("workstream.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.open)
    # Set when a meeting's decision (its index in `decisions`) became this action.
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("workstream_meeting.id", ondelete="SET NULL")
    )
    decision: Mapped[int | None] = mapped_column(Integer)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckIn(Base):
    """A short update from a participating practice."""

    __tablename__ = "workstream_check_in"
    __table_args__ = (
        Index(
            "ix_workstream_check_in_workstream_id_created_at", "workstream_id", "created_at", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("workstream.id", ondelete="CASCADE"))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Meeting(Base):
    """A huddle as it happened or will: at an occurrence of the meeting rule it carries that
    occurrence's notes, decisions, attendance or cancellation; elsewhere it is an extra one."""

    __tablename__ = "workstream_meeting"
    __table_args__ = (
        UniqueConstraint("workstream_id", "starts_at", name="uq_workstream_meeting_starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("workstream.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer, default=30)
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    notes_html: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    attended_practice_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.scheduled
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    """A person's calendar feed: only a hash of its token is kept, and a new token replaces
    the old (one row per person)."""

    __tablename__ = "calendar_feed"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
