"""Unsubscribe tokens: one per person, random, unforgeable, the same in every email until it is
used, surviving signing-key rotation and never expiring.

A token is `<person id>.<nonce>.<mac>`: the nonce is random and stored; the MAC is an HMAC of
both with the server's secret (SECRET_KEY, not the signing keys, which rotate). Only the
token's SHA-256 is stored, to find it by; the token itself is worked out again when an email
needs it. Once used (digests turned off), the next email gets a new one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import bindparam, or_, select, update

from network.db import among, insert_into, insert_or_get
from network.digests.models import DEFAULT_PREFERENCE, DigestPreference
from network.uow import UnitOfWork


def _token(secret: str, person_id: int, nonce: str) -> str:
    body = f"{person_id}.{nonce}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{mac}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def preference_row(uow: UnitOfWork, person_id: int) -> DigestPreference:
    """The person's stored preference row, made with the defaults when they have none."""
    existing = uow.session.get(DigestPreference, person_id)
    if existing is not None:
        return existing
    row, _ = insert_or_get(
        uow.session,
        DigestPreference(person_id=person_id, **DEFAULT_PREFERENCE),
        lambda: uow.session.get(DigestPreference, person_id),
    )
    return row


def token_for(uow: UnitOfWork, secret: str, person_id: int) -> str:
    """The person's current unsubscribe token (a new one when they have none, or used theirs).

    The new nonce is written only if the row still needs one, in one UPDATE: of two builds at
    once (a preview and a digest run) the second finds the first's nonce and uses it, so no
    email ever carries a token that was replaced before it was sent."""
    row = preference_row(uow, person_id)
    if row.unsubscribe_nonce is None or row.unsubscribed_at is not None:
        nonce = secrets.token_hex(16)
        uow.session.execute(
            update(DigestPreference)
            .where(
                DigestPreference.person_id == person_id,
                or_(
                    DigestPreference.unsubscribe_nonce.is_(None),
                    DigestPreference.unsubscribed_at.is_not(None),
                ),
            )
            .values(
                unsubscribe_nonce=nonce,
                unsubscribed_at=None,
                unsubscribe_hash=_digest(_token(secret, person_id, nonce)),
            )
            .execution_options(synchronize_session=False)
        )
        uow.session.refresh(row)
    assert row.unsubscribe_nonce is not None
    return _token(secret, person_id, row.unsubscribe_nonce)


def tokens_for(uow: UnitOfWork, secret: str, person_ids: Sequence[int]) -> dict[int, str]:
    """`token_for` of many people at once, in a fixed number of statements: their rows read
    (those missing made with the defaults, in one INSERT that leaves alone any a simultaneous
    build made), the new nonces written in one batch of `token_for`'s conditional UPDATE, and
    the rows read again, so each token is the one stored, whoever wrote it."""
    ids = sorted(set(person_ids))
    rows = _rows(uow, ids)
    missing = [i for i in ids if i not in rows]
    if missing:
        uow.session.execute(
            insert_into(uow.session, DigestPreference)
            .values([{"person_id": i, **DEFAULT_PREFERENCE} for i in missing])
            .on_conflict_do_nothing(index_elements=["person_id"])
        )
    stale = missing + [
        i
        for i, row in rows.items()
        if row.unsubscribe_nonce is None or row.unsubscribed_at is not None
    ]
    if stale:
        table = DigestPreference.__table__
        nonces = [(i, secrets.token_hex(16)) for i in stale]
        uow.session.connection().execute(
            update(table)  # type: ignore[arg-type]
            .where(
                table.c.person_id == bindparam("who"),
                or_(table.c.unsubscribe_nonce.is_(None), table.c.unsubscribed_at.is_not(None)),
            )
            .values(
                unsubscribe_nonce=bindparam("nonce"),
                unsubscribed_at=None,
                unsubscribe_hash=bindparam("hash"),
            ),
            [
                {"who": i, "nonce": nonce, "hash": _digest(_token(secret, i, nonce))}
                for i, nonce in nonces
            ],
        )
        rows = _rows(uow, ids, refresh=True)
    return {i: _token(secret, i, row.unsubscribe_nonce) for i, row in rows.items()}  # type: ignore[arg-type]


def _rows(uow: UnitOfWork, ids: list[int], *, refresh: bool = False) -> dict[int, DigestPreference]:
    query = select(DigestPreference).where(among(uow.session, DigestPreference.person_id, ids))
    if refresh:
        query = query.execution_options(populate_existing=True)
    return {row.person_id: row for row in uow.session.scalars(query)}


def preference_of_token(uow: UnitOfWork, secret: str, token: str) -> DigestPreference | None:
    """The preference a token unsubscribes, or None for an unknown or forged one."""
    if len(token) > 200:
        return None
    row = uow.session.scalar(
        select(DigestPreference).where(DigestPreference.unsubscribe_hash == _digest(token))
    )
    if row is None or row.unsubscribe_nonce is None:
        return None
    expected = _token(secret, row.person_id, row.unsubscribe_nonce)
    return row if hmac.compare_digest(expected, token) else None
