"""The organisation tree: federations, PCNs and practices."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.db import Base, UTCDateTime, utcnow


class OrganisationKind(enum.StrEnum):
    federation = "federation"
    pcn = "pcn"
    practice = "practice"


# The kinds a parent may be, by the kind of the child.
PARENT_KINDS: dict[OrganisationKind, tuple[OrganisationKind, ...]] = {
    OrganisationKind.federation: (),
    OrganisationKind.pcn: (OrganisationKind.federation,),
    OrganisationKind.practice: (OrganisationKind.pcn, OrganisationKind.federation),
}


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint("(kind = 'federation') = (parent_id IS NULL)", name="federation_is_root"),
        Index("ix_organisation_parent_id_name", "parent_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str] = mapped_column(String(200))
    ods_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # From NHS ODS files (`network.organisations.ods`): the name as published, so a
    # local rename survives re-imports, and the postal address of practices.
    source_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Organisation | None] = relationship(
        remote_side=[id], back_populates="children", lazy="raise_on_sql"
    )
    children: Mapped[list[Organisation]] = relationship(
        back_populates="parent", lazy="raise_on_sql"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind} {self.name!r}>"
