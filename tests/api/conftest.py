"""Fixtures shared by the HTTP tests."""

import uuid

import pytest

from network.people.passwords import hash_password
from network.signin import clients as signin
from network.uow import UnitOfWork
from tests import factories
from tests.api.test_signin_flow import PASSWORD, REDIRECT


@pytest.fixture
def post(client, auth):
    """`post(person, board, title=..., **fields)` -> the problem they posted (201)."""

    def _post(person, board, title="Discharge letters arrive as five documents", **extra):
        body = {"board_id": board.id, "title": title, "body": "Each one **separately**."} | extra
        response = client.post("/api/v1/problems", json=body, headers=auth(person))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _post


@pytest.fixture
def spa(session_factory):
    """The single-page app's public client, committed (live servers use their own sessions)."""
    with UnitOfWork(session_factory) as uow:
        client, _ = signin.create_client(
            uow, name="Commons SPA", redirect_uris=[REDIRECT], confidential=False
        )
        uow.commit()
    return client.client_id


@pytest.fixture
def nurse(session):
    """A person who signs in with PASSWORD."""
    person = factories.person(
        session, email=f"nurse.{uuid.uuid4().hex[:8]}@example.org", name="Nia Nurse"
    )
    person.password_hash = hash_password(PASSWORD)
    session.flush()
    return person
