"""Optimistic concurrency: a change names the versions it was made against (HTTP If-Match), and
the check and the write are one statement, so of simultaneous changes made against the same
version exactly one succeeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from network.db import changed_rows
from network.errors import PreconditionFailed, PreconditionRequired


@dataclass(frozen=True)
class IfMatch:
    """The versions a change was made against: `any_version` for `If-Match: *`, else the
    versions named (none, when every tag named was weak or of another resource)."""

    any_version: bool = False
    versions: frozenset[int] = frozenset()


ANY_VERSION = IfMatch(any_version=True)


def check(row, if_match: IfMatch) -> None:
    """Refuse, without changing anything, when the row is not at a version the caller named."""
    if not if_match.any_version and row.version not in if_match.versions:
        raise _stale(type(row))


def _stale(model: Any) -> PreconditionFailed:
    return PreconditionFailed(
        f"The {model.__tablename__.replace('_', ' ')} changed since you read it; "
        "reload and try again."
    )


def require(if_match: IfMatch | None, what: str) -> IfMatch:
    if if_match is None:
        raise PreconditionRequired(f"Send the {what}'s ETag in If-Match to change it.")
    return if_match


def bump_version(session: Session, row: Any, if_match: IfMatch = ANY_VERSION) -> None:
    """Raise the row's `version` by one, in one UPDATE that also checks it is still one the
    caller named. A read-then-compare would let two requests that read the same version both
    win; with the check in the UPDATE, the second waits for the first's row lock (PostgreSQL)
    or write lock (SQLite), then finds the version moved and changes nothing: 412.

    Call it before changing the row: it holds the row from then on, and forgets what was read
    of it before, so what the change reads next is what the transaction it waited for
    committed, never an older copy that would write that transaction's change away."""
    if row in session.dirty:
        raise RuntimeError("bump_version before changing the row, not after")
    model = type(row)
    stmt = update(model).where(model.id == row.id)
    if not if_match.any_version:
        stmt = stmt.where(model.version.in_(sorted(if_match.versions)))
    bumped = changed_rows(
        session,
        stmt.values(version=model.version + 1).execution_options(synchronize_session=False),
    )
    if bumped == 0:
        raise _stale(model)
    session.expire(row)
