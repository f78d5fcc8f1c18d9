"""The audit log: who did what, when and from where.

Rows are written, never changed: no service updates them, no endpoint offers to, and database
triggers (migration 0004) refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from network.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at_id", "at", "id"),
        Index("ix_audit_entry_organisation_id_at_id", "organisation_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who acted: a person, or nobody (a failed sign-in for an unknown address, the system).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # The actor as they were named then (email, client id, "cli"), kept if the person goes.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    # The organisation whose administrators may read the entry; None: superusers only.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # From where: the client address and the channel (api, oauth, cli, worker).
    ip: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))

    @property
    def actor(self) -> dict[str, object]:
        return {"id": self.actor_id, "label": self.actor_label}
