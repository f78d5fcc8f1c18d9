"""When and how each person wants their digest."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


class Frequency(enum.StrEnum):
    daily = "daily"
    weekly = "weekly"
    off = "off"


class DigestContent(enum.StrEnum):
    full = "full"
    titles = "titles"


DEFAULT_PREFERENCE = {
    "frequency": Frequency.weekly,
    "weekday": 0,
    "hour": 7,
    "timezone": "Europe/London",
    "content": DigestContent.full,
}


class DigestPreference(Base):
    __tablename__ = "digest_preference"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("hour BETWEEN 0 AND 23", name="hour_range"),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[Frequency] = mapped_column(
        Enum(Frequency, native_enum=False, length=16, validate_strings=True)
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    hour: Mapped[int] = mapped_column(SmallInteger)
    timezone: Mapped[str] = mapped_column(String(64))
    content: Mapped[DigestContent] = mapped_column(
        Enum(DigestContent, native_enum=False, length=16, validate_strings=True)
    )
    # Notifications that cannot wait a period, each with its own opt-out.
    notify_action_assigned: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    notify_agenda: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The unsubscribe link's secret part (see `network.digests.tokens`): the token itself is
    # never stored, only its hash, to find it by.
    unsubscribe_nonce: Mapped[str | None] = mapped_column(String(32))
    unsubscribe_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ThreadChoice(enum.StrEnum):
    follow = "follow"
    mute = "mute"


class Follow(Base):
    """A person following (or muting) a thread: a problem, workstream or library entry."""

    __tablename__ = "digest_follow"
    __table_args__ = (Index("ix_digest_follow_thread", "thread_type", "thread_id"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    thread_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    choice: Mapped[ThreadChoice] = mapped_column(
        Enum(ThreadChoice, native_enum=False, length=16, validate_strings=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestStatus(enum.StrEnum):
    claimed = "claimed"  # being built and sent
    sent = "sent"
    empty = "empty"  # nothing worth sending: no email
    failed = "failed"


class Digest(Base):
    """One person's digest of one period (`2026-11-30` daily, `2026-W49` weekly): the row that
    makes sending idempotent, claimed before anything is sent."""

    __tablename__ = "digest"
    __table_args__ = (
        UniqueConstraint("person_id", "period", name="uq_digest_person_period"),
        Index("ix_digest_person_id_window_end", "person_id", "window_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[DigestStatus] = mapped_column(
        Enum(DigestStatus, native_enum=False, length=16, validate_strings=True)
    )
    # The news it covers: activity at or after `window_start` and before `window_end`.
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    items: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Claims so far: a claim older than the job timeout, or a failed send, is taken over.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))


class Notification(Base):
    """A notification that cannot wait a period (an action assigned, a huddle's agenda), claimed
    once per person and `key` before it is sent, so a repeated run never sends it twice."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("person_id", "key", name="uq_notification_person_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # "action:<action id>:<version>", "agenda:<workstream id>:<huddle start, UTC>"
    key: Mapped[str] = mapped_column(String(100))
    status: Mapped[DigestStatus] = mapped_column(
        Enum(DigestStatus, native_enum=False, length=16, validate_strings=True)
    )
    message_id: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Claims so far: a claim older than the job timeout, or a failed send, is taken over.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
