"""What happened on a board: the outbox that digests, the agenda and /activity read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from network.access import Anonymity
from network.db import Base, UTCDateTime, utcnow


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_board_id_at_id", "board_id", "at", "id"),
        Index("ix_activity_at_id", "at", "id"),
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
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
