"""A database that is busy, or a simultaneous change found by a constraint, is answered with a
clear 4xx or a 503 to retry — in the view or at commit — never a 500, and nothing is saved."""

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from network.problems.models import Comment
from network.uow import UnitOfWork


class _PgError(Exception):
    def __init__(self, message, sqlstate):
        super().__init__(message)
        self.sqlstate = sqlstate


LOCKED = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


@pytest.mark.parametrize(
    "error, status",
    [
        (LOCKED, 503),
        (OperationalError("SELECT 1", {}, _PgError("deadlock detected", "40P01")), 503),
        (OperationalError("SELECT 1", {}, _PgError("could not serialize", "40001")), 503),
        (OperationalError("SELECT 1", {}, _PgError("connection refused", "08006")), 503),
        (IntegrityError("INSERT ...", {}, _PgError("duplicate key", "23505")), 409),
        (DataError("INSERT ...", {}, _PgError("integer out of range", "22003")), 422),
    ],
)
def test_database_errors_in_a_view_are_answered_not_500(
    client, net, auth, post, monkeypatch, session, error, status
):
    problem = post(net.members["practice1"], net.pcn1)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("network.problems.services._add_to_count", fail)
    response = client.post(
        f"/api/v1/problems/{problem['id']}/comments",
        json={"body": "Same here"},
        headers=auth(net.members["practice2"]),
    )
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == status and "nothing was saved" in body["message"]
    assert "INSERT" not in body["message"] and "duplicate" not in body["message"]
    if status == 503:
        assert response.headers["Retry-After"] == "1"
    assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_busy_database_at_commit_is_a_503_to_retry(client, net, auth, post, monkeypatch):
    problem = post(net.members["practice1"], net.pcn1)
    real_commit = UnitOfWork.commit

    def busy_commit(self):
        self.rollback()
        raise LOCKED

    monkeypatch.setattr(UnitOfWork, "commit", busy_commit)
    response = client.post(
        f"/api/v1/problems/{problem['id']}/comments",
        json={"body": "Same here"},
        headers=auth(net.members["practice2"]),
    )
    monkeypatch.setattr(UnitOfWork, "commit", real_commit)
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["message"].startswith("The database is busy")


def test_an_unexpected_failure_at_commit_is_still_a_plain_500(client, net, auth, post, monkeypatch):
    problem = post(net.members["practice1"], net.pcn1)

    def broken_commit(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(UnitOfWork, "commit", broken_commit)
    response = client.post(
        f"/api/v1/problems/{problem['id']}/comments",
        json={"body": "Same here"},
        headers=auth(net.members["practice2"]),
    )
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.get_json()["message"] == "The change could not be saved."
