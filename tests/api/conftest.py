"""Fixtures shared by the HTTP tests."""

import pytest


@pytest.fixture
def post(client, auth):
    """`post(person, board, title=..., **fields)` -> the problem they posted (201)."""

    def _post(person, board, title="Discharge letters arrive as five documents", **extra):
        body = {"board_id": board.id, "title": title, "body": "Each one **separately**."} | extra
        response = client.post("/api/v1/problems", json=body, headers=auth(person))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _post
