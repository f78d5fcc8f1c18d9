"""A workstream's measures and the points practices post to them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Enum, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


class Better(enum.StrEnum):
    up = "up"
    down = "down"
    neutral = "neutral"


class Aggregate(enum.StrEnum):
    """How practices' points make the network's: added up, averaged, or Σ numerators over
    Σ denominators (a rate, never a mean of percentages)."""

    sum = "sum"
    mean = "mean"
    ratio = "ratio"


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (Index("ix_measure_workstream_id_id", "workstream_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workstream_id: Mapped[int] = mapped_column(ForeignKey("workstream.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    better: Mapped[Better] = mapped_column(_enum(Better))
    target: Mapped[float | None] = mapped_column(Float)
    aggregate: Mapped[Aggregate] = mapped_column(_enum(Aggregate), default=Aggregate.mean)
    # ISO dates: where a change was introduced and the limits are worked out afresh.
    rebase_periods: Mapped[list[str]] = mapped_column(JSON, default=list)
    fix_after: Mapped[int | None] = mapped_column(Integer)

    @property
    def rebase_dates(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.rebase_periods]

    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeasurePoint(Base):
    """One practice's value for one period: posting again replaces it (the primary key)."""

    __tablename__ = "measure_point"

    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measure.id", ondelete="CASCADE"), primary_key=True
    )
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Float)  # a ratio measure's numerator
    denominator: Mapped[float | None] = mapped_column(Float)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
