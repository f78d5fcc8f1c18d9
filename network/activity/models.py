"""What happened, where, to whom visible: the outbox that digests, the agenda and /activity read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from network.access import Anonymity
from network.db import Base, UTCDateTime, utcnow


class Activity(Base):
    """One event: who (`actor_*`, shown only as `anonymity` allows) did what (`verb`) to which
    subject, in which thread (the problem, workstream or library entry it belongs to), on which
    board. `data` holds the facts needed to describe it as they were at the time (a title, an
    excerpt, a status); descriptions are rendered when read (`network.activity.descriptions`)."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_board_id_at_id", "board_id", "at", "id"),
        Index("ix_activity_at_id", "at", "id"),
        Index("ix_activity_thread_type_thread_id", "thread_type", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    board_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    # Stored for investigation; never returned when `anonymity` hides it.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    actor_practice_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    anonymity: Mapped[Anonymity] = mapped_column(
        Enum(Anonymity, native_enum=False, length=16, validate_strings=True),
        default=Anonymity.none,
    )
    verb: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    thread_type: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )
