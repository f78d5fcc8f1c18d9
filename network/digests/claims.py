"""Taking over a claim: a `(person, period)` digest row or a `(person, key)` notification row
whose send failed, or whose worker died holding it (claimed longer ago than a job may run).

The UPDATE names the attempt it read (and re-checks that the row is failed or stale), so of two
runs that both want the row one changes it and the other changes nothing (PostgreSQL re-checks
the condition after waiting for the first; SQLite has one writer at a time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update

from network.db import changed_rows, utcnow
from network.digests.models import Digest, DigestStatus, Notification


def take_over(
    session,
    model: type[Digest] | type[Notification],
    row: Digest | Notification,
    *,
    stale_before: datetime,
    values: dict[str, Any] | None = None,
) -> bool:
    """Claim `row` again when it failed or its claim is stale; whether this run now holds it."""
    stale = row.status is DigestStatus.claimed and row.claimed_at < stale_before
    if row.status is not DigestStatus.failed and not stale:
        return False
    now = utcnow()
    changed = changed_rows(
        session,
        update(model)
        .where(
            model.id == row.id,
            model.attempts == row.attempts,
            or_(
                model.status == DigestStatus.failed,
                and_(model.status == DigestStatus.claimed, model.claimed_at < stale_before),
            ),
        )
        .values(
            status=DigestStatus.claimed,
            claimed_at=now,
            attempts=model.attempts + 1,
            error=None,
            **(values or {}),
        )
        .execution_options(synchronize_session=False),
    )
    if changed != 1:
        return False
    session.refresh(row)
    return True
