"""When and how each person wants their digest."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base


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
