"""Inviting a member mails them once the change is committed, and only then."""

import email
from dataclasses import replace

import fakeredis
import pytest
from redis import Redis
from rq import SimpleWorker

from api.app import create_app
from dispatch import runtime
from dispatch.queues import QUEUES, make_dispatcher, queue


def _outbox(settings):
    return sorted(settings.outbox_path.glob("*.eml")) if settings.outbox_path.exists() else []


@pytest.fixture
def inline_settings(settings, tmp_path):
    return replace(settings, redis_url=None, instance_path=tmp_path / "instance")


def test_an_invitation_is_written_to_the_outbox_inline(inline_settings, session_factory, net, auth):
    app = create_app(inline_settings, session_factory=session_factory)
    from tests import factories

    token = factories.token(app, net.admins["practice1"])
    response = app.test_client().post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "new.gp@example.org", "name": "New GP", "role": "member"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    [eml] = _outbox(inline_settings)
    message = email.message_from_bytes(eml.read_bytes())
    assert message["To"] == "new.gp@example.org"
    assert message["Subject"] == "You have been added to Practice One"


def test_a_refused_change_sends_nothing(inline_settings, session_factory, net):
    app = create_app(inline_settings, session_factory=session_factory)
    from tests import factories

    token = factories.token(app, net.members["practice1"])
    response = app.test_client().post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "sneaky@example.org", "role": "admin"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert _outbox(inline_settings) == []


@pytest.fixture
def redis_connection(redis_url, settings):
    """Real Redis when the suite runs with TEST_REDIS_URL (CI), an in-memory one otherwise."""
    conn = Redis.from_url(redis_url) if redis_url else fakeredis.FakeRedis()
    for name in QUEUES:
        queue_ = queue(settings, name, conn, is_async=True)
        queue_.empty()
    yield conn
    conn.close()


def test_a_real_worker_sends_the_queued_invitation(
    settings, session_factory, net, redis_connection, tmp_path
):
    queued_settings = replace(settings, instance_path=tmp_path / "instance")
    dispatch = make_dispatcher(queued_settings, redis_connection, is_async=True)
    app = create_app(queued_settings, session_factory=session_factory, dispatch=dispatch)
    from tests import factories

    token = factories.token(app, net.admins["practice1"])
    response = app.test_client().post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "queued@example.org", "role": "member"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert _outbox(queued_settings) == [], "nothing is sent before a worker takes the job"
    mail_queue = queue(queued_settings, "mail", redis_connection, is_async=True)
    assert mail_queue.count == 1
    runtime.configure(queued_settings, session_factory)  # the worker runs in this process
    worker = SimpleWorker([mail_queue], connection=redis_connection)
    assert worker.work(burst=True)
    [eml] = _outbox(queued_settings)
    assert "queued@example.org" in eml.read_text()
