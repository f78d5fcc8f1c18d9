"""Credentials that work once stay once-only when two requests use them at the same moment:
each is claimed in one statement that also checks it is still unused, so of two exchanges
that both read it first, exactly one wins (the other is then a reuse, and revokes what the
winner was given)."""

import pytest
from sqlalchemy import select

from network.audit.models import AuditEntry
from network.signin import authorization_codes, refresh_tokens
from network.signin import clients as signin
from network.signin.models import RefreshToken
from network.uow import UnitOfWork
from tests import factories


@pytest.fixture
def uow(session):
    return UnitOfWork(lambda: session)


@pytest.fixture
def client_id(uow):
    client, _ = signin.create_client(
        uow, name="SPA", redirect_uris=["http://127.0.0.1:5173/cb"], confidential=False
    )
    return client.client_id


def test_an_authorization_code_is_claimed_by_one_exchange_only(uow, session, client_id):
    person = factories.person(session)
    authorization_codes.save_authorization_code(
        uow,
        code="the-code",
        client_id=client_id,
        person_id=person.id,
        redirect_uri="http://127.0.0.1:5173/cb",
        scope="openid",
        code_challenge="x" * 43,
        code_challenge_method="S256",
        nonce=None,
    )
    assert authorization_codes.claim_authorization_code(uow, "the-code", "another-client") is None
    first = authorization_codes.claim_authorization_code(uow, "the-code", client_id)
    assert first is not None and first.person_id == person.id
    assert first.used_at is not None and first.family_id is not None
    # The winner's exchange issues its refresh token into the family the claim named.
    issued = refresh_tokens.save_refresh_token(
        uow,
        token="r-from-code",
        client_id=client_id,
        person_id=person.id,
        scope="openid",
        family_id=first.family_id,
    )
    second = authorization_codes.claim_authorization_code(uow, "the-code", client_id)
    assert second is None  # the other exchange: a replay, which revokes what the code gave
    session.expire_all()
    assert session.get(RefreshToken, issued.id).revoked_at is not None
    [entry] = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "token.reuse_detected",
            AuditEntry.subject_type == "authorization_code",
        )
    )
    assert entry.details["family"] == first.family_id


def test_two_exchanges_of_one_refresh_token_at_once_make_one_winner(uow, session, client_id):
    person = factories.person(session)
    token = refresh_tokens.save_refresh_token(
        uow, token="r1", client_id=client_id, person_id=person.id, scope=""
    )
    # Both requests found it usable before either marked it used.
    assert refresh_tokens.usable_refresh_token(uow, "r1", client_id) is token
    new = refresh_tokens.save_refresh_token(
        uow,
        token="r2",
        client_id=client_id,
        person_id=person.id,
        scope="",
        family_id=token.family_id,
    )
    assert refresh_tokens.rotate(uow, token) is True
    assert refresh_tokens.rotate(uow, token) is False  # the second: a reuse
    session.expire_all()
    rows = session.scalars(select(RefreshToken).where(RefreshToken.family_id == token.family_id))
    assert all(row.revoked_at is not None for row in rows)
    assert session.get(RefreshToken, new.id).revoked_at is not None


def test_two_simultaneous_exchanges_of_one_code_on_postgresql(committed_database_url):
    """Two transactions claim the same code at once: the second waits on the first's row lock,
    finds the code used when the first commits, and revokes the token the first issued."""
    import threading

    from network.db import make_engine, make_session_factory

    engine = make_engine(committed_database_url)
    factory = make_session_factory(engine)
    first, second = UnitOfWork(factory), UnitOfWork(factory)
    try:
        with UnitOfWork(factory) as setup:
            client, _ = signin.create_client(
                setup, name="SPA", redirect_uris=["http://127.0.0.1:5173/cb"], confidential=False
            )
            person = factories.person(setup.session)
            authorization_codes.save_authorization_code(
                setup,
                code="the-code",
                client_id=client.client_id,
                person_id=person.id,
                redirect_uri="http://127.0.0.1:5173/cb",
                scope="openid",
                code_challenge="x" * 43,
                code_challenge_method="S256",
                nonce=None,
            )
            setup.commit()
            client_id, person_id = client.client_id, person.id

        won = authorization_codes.claim_authorization_code(first, "the-code", client_id)
        assert won is not None
        outcome: dict = {}

        def other_exchange() -> None:
            outcome["claim"] = authorization_codes.claim_authorization_code(
                second, "the-code", client_id
            )
            second.commit()

        racer = threading.Thread(target=other_exchange)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive(), "the second claim waits for the first transaction"
        issued = refresh_tokens.save_refresh_token(
            first,
            token="r-1",
            client_id=client_id,
            person_id=person_id,
            scope="openid",
            family_id=won.family_id,
        )
        issued_id = issued.id
        first.commit()
        racer.join(10)
        assert not racer.is_alive() and outcome["claim"] is None
        with UnitOfWork(factory) as check:
            assert check.session.get(RefreshToken, issued_id).revoked_at is not None
    finally:
        first.close()  # a failed assertion leaves it open: its rollback frees the waiting one
        second.close()
        engine.dispose()
