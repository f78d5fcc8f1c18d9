"""People and their memberships of organisations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.db import Base, UTCDateTime, utcnow
from network.organisations.models import Organisation


class StaffGroup(enum.StrEnum):
    gp = "gp"
    nurse = "nurse"
    pharmacist = "pharmacist"
    allied_health = "allied_health"
    hca = "hca"
    reception = "reception"
    administration = "administration"
    billing = "billing"
    management = "management"
    other = "other"


class Role(enum.StrEnum):
    member = "member"
    admin = "admin"


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: addresses are compared without regard to case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    staff_group: Mapped[StaffGroup] = mapped_column(
        Enum(StaffGroup, native_enum=False, length=32, validate_strings=True),
        default=StaffGroup.other,
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Two-step sign-in: the secret is set when set-up starts, enabled once a code confirms it.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", lazy="raise_on_sql", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


class Membership(Base):
    __tablename__ = "membership"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, validate_strings=True), default=Role.member
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships", lazy="raise_on_sql")
    organisation: Mapped[Organisation] = relationship(lazy="raise_on_sql")
