"""Sign-in sessions as refresh-token families: issuing, rotating and revoking the tokens of the
built-in issuer, and revoking a whole family when a rotated token is used again."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from network.audit import services as audit
from network.db import changed_rows, utcnow
from network.people.models import Person
from network.signin.models import RefreshToken, digest
from network.uow import UnitOfWork

REFRESH_TOKEN_DAYS = 30


def save_refresh_token(
    uow: UnitOfWork,
    *,
    token: str,
    client_id: str,
    person_id: int,
    scope: str,
    family_id: str | None = None,
    auth_time: datetime | None = None,
) -> RefreshToken:
    row = RefreshToken(
        token_hash=digest(token),
        family_id=family_id or secrets.token_hex(16),
        client_id=client_id,
        person_id=person_id,
        scope=scope,
        auth_time=auth_time,
        expires_at=utcnow() + timedelta(days=REFRESH_TOKEN_DAYS),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def find_refresh_token(uow: UnitOfWork, token: str) -> RefreshToken | None:
    return uow.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))


def usable_refresh_token(uow: UnitOfWork, token: str, client_id: str) -> RefreshToken | None:
    """The token when it may be exchanged. A rotated token used again revokes its family."""
    row = find_refresh_token(uow, token)
    if row is None or row.client_id != client_id:
        return None
    if row.rotated_at is not None:
        _reuse_detected(uow, row)
        return None
    if row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    person = uow.session.get(Person, row.person_id)
    if person is None or not person.is_active:
        return None
    return row


def rotate(uow: UnitOfWork, row: RefreshToken) -> bool:
    """Mark the token used, in one statement that also checks it still is not: False when a
    simultaneous exchange of the same token got there first, which is then a reuse (its family
    is revoked, as for a replay after the fact)."""
    rotated = changed_rows(
        uow.session,
        update(RefreshToken)
        .where(
            RefreshToken.id == row.id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    uow.session.expire(row, ["rotated_at"])
    if not rotated:
        _reuse_detected(uow, row)
        return False
    audit.record(
        uow,
        "token.refreshed",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        details={"family": row.family_id},
    )
    return True


def _reuse_detected(uow: UnitOfWork, row: RefreshToken) -> None:
    revoke_family(uow, row.family_id)
    audit.record(
        uow,
        "token.reuse_detected",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        subject_type="refresh_token_family",
        details={"family": row.family_id, "outcome": "every token of the sign-in revoked"},
    )


def revoke(uow: UnitOfWork, row: RefreshToken) -> None:
    """Sign out: the token and every other token of its sign-in stop working."""
    revoke_family(uow, row.family_id)
    audit.record(
        uow,
        "token.revoked",
        actor_id=row.person_id,
        actor_label=f"client {row.client_id}",
        details={"family": row.family_id},
    )


def revoke_family(uow: UnitOfWork, family_id: str) -> None:
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _expire_loaded(uow, lambda row: row.family_id == family_id)


def revoke_sessions(uow: UnitOfWork, person_id: int) -> None:
    """End every sign-in of a person: their refresh tokens stop working at once."""
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _expire_loaded(uow, lambda row: row.person_id == person_id)


def _expire_loaded(uow: UnitOfWork, matches: Callable[[RefreshToken], bool]) -> None:
    """Rows changed by a bulk UPDATE are re-read on next use, not served stale from the session."""
    for row in list(uow.session.identity_map.values()):
        if isinstance(row, RefreshToken) and matches(row):
            uow.session.expire(row)
