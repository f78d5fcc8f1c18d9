"""The best-practice library: entries in immutable versions, and what each practice did with
them (adoption)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


class EntryStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


class AdoptionStatus(enum.StrEnum):
    considering = "considering"
    trialling = "trialling"
    adopted = "adopted"
    adapted = "adapted"
    declined = "declined"
    stopped = "stopped"


# What counts as "taken up" when the list is sorted by adoption.
TAKEN_UP = (AdoptionStatus.adopted, AdoptionStatus.adapted)


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class LibraryEntry(Base):
    """What one version says is copied here (the latest), so lists and search read one row."""

    __tablename__ = "library_entry"
    __table_args__ = (
        Index("ix_library_entry_organisation_id_updated_at", "organisation_id", "updated_at", "id"),
        Index("ix_library_entry_updated_at", "updated_at", "id"),
        Index("ix_library_entry_adopted", "adopted_count", "updated_at", "id"),
        CheckConstraint("adopted_count >= 0", name="adopted_count_not_negative"),
        CheckConstraint(
            "source_problem_id IS NULL OR source_workstream_id IS NULL", name="one_source"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The scope, like a board: a practice's entry is for its people, a PCN's for its practices.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus), default=EntryStatus.draft)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    review_by: Mapped[date | None] = mapped_column(Date)
    source_problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problem.id", ondelete="SET NULL"), index=True
    )
    source_workstream_id: Mapped[int | None] = mapped_column(
        ForeignKey("workstream.id", ondelete="SET NULL"), index=True
    )
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    # Practices that adopted or adapted it (`sort=adopted`), kept with every adoption change.
    adopted_count: Mapped[int] = mapped_column(Integer, default=0)
    # The ETag's version: raised by every change, including moderation.
    version: Mapped[int] = mapped_column(Integer, default=1)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LibraryTag(Base):
    __tablename__ = "library_tag"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("library_entry.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class LibraryVersion(Base):
    """An entry as it stood after one change. Never changed, except by redaction."""

    __tablename__ = "library_version"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("library_entry.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus))
    change_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Adoption(Base):
    """What one practice did with an entry: one row per practice, by the primary key."""

    __tablename__ = "library_adoption"
    __table_args__ = (Index("ix_library_adoption_practice_id", "practice_id", "entry_id"),)

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("library_entry.id", ondelete="CASCADE"), primary_key=True
    )
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    status: Mapped[AdoptionStatus] = mapped_column(_enum(AdoptionStatus))
    # The entry's version the practice took (or last looked at).
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
