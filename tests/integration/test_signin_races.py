"""Credentials that work once stay once-only when two requests use them at the same moment:
each is claimed in one statement that also checks it is still unused, so of two exchanges
that both read it first, exactly one wins (the other is then a reuse)."""

import pytest
from sqlalchemy import select

from network.signin import services as signin
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
    signin.save_authorization_code(
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
    assert signin.claim_authorization_code(uow, "the-code", "another-client") is None
    first = signin.claim_authorization_code(uow, "the-code", client_id)
    second = signin.claim_authorization_code(uow, "the-code", client_id)
    assert first is not None and first.person_id == person.id
    assert second is None


def test_two_exchanges_of_one_refresh_token_at_once_make_one_winner(uow, session, client_id):
    person = factories.person(session)
    token = signin.save_refresh_token(
        uow, token="r1", client_id=client_id, person_id=person.id, scope=""
    )
    # Both requests found it usable before either marked it used.
    assert signin.usable_refresh_token(uow, "r1", client_id) is token
    new = signin.save_refresh_token(
        uow,
        token="r2",
        client_id=client_id,
        person_id=person.id,
        scope="",
        family_id=token.family_id,
    )
    assert signin.rotate(uow, token) is True
    assert signin.rotate(uow, token) is False  # the second: a reuse
    session.expire_all()
    rows = session.scalars(select(RefreshToken).where(RefreshToken.family_id == token.family_id))
    assert all(row.revoked_at is not None for row in rows)
    assert session.get(RefreshToken, new.id).revoked_at is not None
