"""Recording and reading the audit log (in the same transaction as the change it records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select

from network import access
from network.access import Principal
from network.audit.models import AuditEntry
from network.errors import Forbidden
from network.pagination import Page, newest_first, page_from_rows
from network.people.models import Membership
from network.uow import UnitOfWork


def record(
    uow: UnitOfWork,
    action: str,
    *,
    actor_id: int | None,
    actor_label: str,
    organisation_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry; it commits or rolls back with the change it describes."""
    origin = uow.origin
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label[:254],
        organisation_id=organisation_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details or {},
        # Behind trusted proxies the address comes from a header a client can forge: kept to
        # what the column holds, so an absurd one is recorded as sent, never refused.
        ip=origin.ip[:64] if origin.ip else None,
        channel=origin.channel,
    )
    uow.session.add(entry)
    return entry


def record_by(uow: UnitOfWork, principal: Principal, action: str, **fields: Any) -> AuditEntry:
    """`record` with the principal as the actor."""
    return record(uow, action, actor_id=principal.person_id, actor_label=principal.label, **fields)


# Events of a person's own account, recorded under no organisation: what administrators read
# of their people. Anything else under no organisation (a superuser's look-up of an anonymous
# author, operators' commands) is for superusers only.
ACCOUNT_ACTIONS = ("signin.", "token.", "password.", "mfa.")


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    *,
    organisation_id: int | None = None,
    since: datetime | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[AuditEntry]:
    """Newest first. Superusers read everything; administrators read the entries of the
    organisations they administer (and their descendants), and their people's own sign-in and
    token events from when they joined."""
    stmt = select(AuditEntry)
    if not principal.is_superuser:
        if not principal.admin_of:
            raise Forbidden("Only administrators and superusers read the audit log.")
        administered = access.administered_organisations(principal)
        # Events of no organisation (sign-ins, tokens) of the people they administer, from
        # while those people belong to it: inviting someone who already has a history elsewhere
        # opens no window into it.
        member_then = exists().where(
            Membership.person_id == AuditEntry.actor_id,
            Membership.organisation_id.in_(administered),
            Membership.created_at <= AuditEntry.at,
        )
        own_account = or_(*(AuditEntry.action.startswith(p) for p in ACCOUNT_ACTIONS))
        stmt = stmt.where(
            or_(
                AuditEntry.organisation_id.in_(administered),
                and_(AuditEntry.organisation_id.is_(None), own_account, member_then),
            )
        )
    if organisation_id is not None:
        stmt = stmt.where(AuditEntry.organisation_id == organisation_id)
    stmt = newest_first(stmt, AuditEntry.at, AuditEntry.id, since=since, cursor=cursor, limit=limit)
    rows = list(uow.session.scalars(stmt))
    return page_from_rows(rows, limit, lambda e: (e.at, e.id))
