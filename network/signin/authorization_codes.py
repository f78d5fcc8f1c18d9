"""Authorization codes of the built-in issuer: saving them, exchanging each exactly once, and
revoking what a code issued when it is replayed."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from network.audit import services as audit
from network.db import utcnow
from network.signin.models import AuthorizationCode, digest
from network.signin.refresh_tokens import revoke_family
from network.uow import UnitOfWork

AUTHORIZATION_CODE_SECONDS = 60
# How long a code is remembered after it expires, used or not: a replay within it revokes the
# tokens issued from the code; older codes are deleted as new ones are saved.
CODE_MEMORY = timedelta(days=1)


def save_authorization_code(
    uow: UnitOfWork,
    *,
    code: str,
    client_id: str,
    person_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    nonce: str | None,
) -> None:
    now = utcnow()
    # Codes expired for longer than CODE_MEMORY go: the table holds about a day of sign-ins.
    uow.session.execute(
        delete(AuthorizationCode)
        .where(AuthorizationCode.expires_at < now - CODE_MEMORY)
        .execution_options(synchronize_session=False)
    )
    uow.session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=client_id,
            person_id=person_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
            auth_time=now,
            expires_at=now + timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
        )
    )
    uow.session.flush()


def claim_authorization_code(
    uow: UnitOfWork, code: str, client_id: str
) -> AuthorizationCode | None:
    """The code, marked used as it is read, in one statement that also checks it still is not
    (UPDATE ... WHERE used_at IS NULL RETURNING): of two exchanges of one code at once, exactly
    one gets it. The same statement names the refresh-token family the exchange starts.

    None when the code is unknown, another client's or expired, or already used. An exchange
    that fails afterwards (a wrong verifier) has used it up too: a code is good for one attempt.
    A used code presented again is a replay (RFC 6749 4.1.2): every token issued from it is
    revoked, and the caller commits that although it refuses the request."""
    code_hash = digest(code)
    claimed = uow.session.scalars(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.code_hash == code_hash,
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.used_at.is_(None),
        )
        .values(used_at=utcnow(), family_id=secrets.token_hex(16))
        .returning(AuthorizationCode)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()
    if claimed is None:
        used = uow.session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_not(None))
            .execution_options(populate_existing=True)
        )
        if used is not None:
            _code_reuse_detected(uow, used, presented_by=client_id)
        return None
    if claimed.expires_at <= utcnow():
        return None
    return claimed


def _code_reuse_detected(uow: UnitOfWork, code: AuthorizationCode, presented_by: str) -> None:
    if code.family_id is not None:
        revoke_family(uow, code.family_id)
    audit.record(
        uow,
        "token.reuse_detected",
        actor_id=code.person_id,
        actor_label=f"client {presented_by}",
        subject_type="authorization_code",
        subject_id=code.id,
        details={
            "family": code.family_id,
            "client_id": code.client_id,
            "outcome": "code refused; every token issued from it revoked",
        },
    )
