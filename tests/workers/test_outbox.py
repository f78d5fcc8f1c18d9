"""The job outbox (`network.outbox`, `dispatch.relay`): a job a committed change asks for is
never lost when Redis is down, never sent for a change that rolled back, and never queued twice
under one id."""

import uuid
from dataclasses import replace
from datetime import timedelta

import fakeredis
import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import select

from api.app import create_app
from dispatch import runtime
from dispatch.queues import QUEUES, make_dispatcher, queue
from dispatch.relay import relay
from network.db import utcnow
from network.outbox import RELAY_GRACE, OutboxJob
from network.uow import Job, UnitOfWork
from tests import factories


def _outbox(settings):
    return sorted(settings.outbox_path.glob("*.eml")) if settings.outbox_path.exists() else []


def _rows(session_factory) -> list[OutboxJob]:
    with session_factory() as s:
        return list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def _redis_down(job: Job) -> None:
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class Recording:
    """A dispatcher that takes every job, or refuses those whose function is in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.jobs: list[Job] = []
        self.refuse = refuse

    def __call__(self, job: Job) -> None:
        self.jobs.append(job)
        if job.func in self.refuse:
            raise ConnectionError(f"refused {job.func}")


@pytest.fixture
def redis_connection(redis_url, settings):
    """Real Redis when the suite runs with TEST_REDIS_URL, an in-memory one otherwise."""
    conn = Redis.from_url(redis_url) if redis_url else fakeredis.FakeRedis()
    for name in QUEUES:
        queue(settings, name, conn, is_async=True).empty()
    yield conn
    for name in QUEUES:
        queue(settings, name, conn, is_async=True).empty()
    conn.close()


def _record(session_factory, *funcs: str, age: timedelta = timedelta(0)) -> list[int]:
    """Commit one outbox row per function, with no queue at hand, created `age` ago."""
    uow = UnitOfWork(session_factory)  # no dispatcher: the rows wait for the relay
    with uow:
        for func in funcs:
            uow.enqueue_after_commit(Job(func, (1,), {"n": 2}, queue="default"))
        uow.commit()
    rows = _rows(session_factory)
    with session_factory() as s:
        for row in rows[-len(funcs) :]:
            s.get_one(OutboxJob, row.id).created_at = utcnow() - age
        s.commit()
    return [row.id for row in rows[-len(funcs) :]]


def test_redis_down_the_change_stands_and_the_relay_delivers_the_job_later(
    settings, session_factory, net, redis_connection, tmp_path
):
    queued_settings = replace(settings, instance_path=tmp_path / "instance")
    app = create_app(queued_settings, session_factory=session_factory, dispatch=_redis_down)
    client = app.test_client()
    token = factories.token(app, net.admins["practice1"])
    response = client.post(
        f"/api/v1/organisations/{net.practice1.id}/members",
        json={"email": "while.down@example.org", "role": "member"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    [row] = _rows(session_factory)
    assert row.func == "workers.jobs.send_invitation"
    assert row.queue == "mail"
    assert row.args[1] == net.practice1.id
    assert row.job_id.startswith("job-")
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["relay_backlog"]["jobs"] == 1
    assert _outbox(queued_settings) == []

    working = make_dispatcher(queued_settings, redis_connection, is_async=True)
    result = relay(session_factory, working, now=utcnow() + timedelta(seconds=11))
    assert result.handed == 1 and result.error is None
    assert _rows(session_factory) == []
    assert client.get("/readyz").get_json()["relay_backlog"]["jobs"] == 0

    mail_queue = queue(queued_settings, "mail", redis_connection, is_async=True)
    assert mail_queue.job_ids == [row.job_id]  # under the id the row carried
    runtime.configure(queued_settings, session_factory)  # the worker runs in this process
    worker = SimpleWorker([mail_queue], connection=redis_connection)
    assert worker.work(burst=True)
    [eml] = _outbox(queued_settings)
    assert "To: while.down@example.org" in eml.read_text()


def test_a_job_dispatched_after_commit_leaves_no_outbox_row(session_factory):
    dispatched = Recording()
    with UnitOfWork(session_factory, dispatched) as uow:
        uow.enqueue_after_commit(
            Job("workers.digests.send", (7, "2026-W50"), queue="digests", job_id="digest-7-x")
        )
        uow.enqueue_after_commit(Job("workers.jobs.send_invitation", (1, 2), queue="mail"))
        assert dispatched.jobs == [], "nothing is handed over before the commit"
        uow.commit()
    assert [(j.func, j.args, j.queue) for j in dispatched.jobs] == [
        ("workers.digests.send", (7, "2026-W50"), "digests"),
        ("workers.jobs.send_invitation", (1, 2), "mail"),
    ]
    assert dispatched.jobs[0].job_id == "digest-7-x"  # the feature's own id is kept
    assert dispatched.jobs[1].job_id is not None  # a random one otherwise, as on its row
    assert dispatched.jobs[1].job_id.startswith("job-")
    assert _rows(session_factory) == []


def test_a_job_left_undispatched_stays_in_the_outbox_with_the_id_it_was_tried_under(
    session_factory,
):
    tried = Recording(refuse=("workers.jobs.b",))
    with UnitOfWork(session_factory, tried) as uow:
        uow.enqueue_after_commit(Job("workers.jobs.a"))
        uow.enqueue_after_commit(Job("workers.jobs.b"))
        uow.commit()
    [row] = _rows(session_factory)
    assert row.func == "workers.jobs.b"
    assert row.job_id == tried.jobs[1].job_id  # the relay retries under the same id


def test_a_unit_that_rolls_back_leaves_no_row_and_dispatches_nothing(session_factory):
    dispatched = Recording()
    with UnitOfWork(session_factory, dispatched) as uow:
        uow.enqueue_after_commit(Job("workers.jobs.send_invitation", (1, 2), queue="mail"))
        uow.session.flush()
        assert len(uow.session.scalars(select(OutboxJob)).all()) == 1
        uow.rollback()
        uow.commit()  # nothing left to commit or to hand over
    assert dispatched.jobs == []
    assert _rows(session_factory) == []

    with UnitOfWork(session_factory, dispatched) as uow:  # closed without a commit
        uow.enqueue_after_commit(Job("workers.jobs.send_invitation", (1, 2), queue="mail"))
    assert dispatched.jobs == []
    assert _rows(session_factory) == []


def test_the_relay_leaves_rows_younger_than_the_grace_period_alone(session_factory):
    _record(session_factory, "workers.jobs.old", age=RELAY_GRACE + timedelta(seconds=5))
    [young] = _record(session_factory, "workers.jobs.young")
    dispatched = Recording()

    result = relay(session_factory, dispatched, now=utcnow())
    assert result.handed == 1 and result.error is None
    assert [j.func for j in dispatched.jobs] == ["workers.jobs.old"]
    assert dispatched.jobs[0].args == (1,) and dispatched.jobs[0].kwargs == {"n": 2}
    assert [r.id for r in _rows(session_factory)] == [young]

    assert relay(session_factory, dispatched, now=utcnow()).handed == 0
    later = relay(session_factory, dispatched, now=utcnow() + RELAY_GRACE + timedelta(seconds=1))
    assert later.handed == 1
    assert _rows(session_factory) == []


def test_the_relay_stops_at_the_first_refusal_and_keeps_the_reason(session_factory):
    _first, second, third = _record(
        session_factory, "workers.jobs.a", "workers.jobs.b", "workers.jobs.c", age=timedelta(1)
    )
    refusing = Recording(refuse=("workers.jobs.b",))

    result = relay(session_factory, refusing)
    assert result.handed == 1
    assert result.error == "refused workers.jobs.b"
    assert [j.func for j in refusing.jobs] == ["workers.jobs.a", "workers.jobs.b"]  # not c
    rows = {r.id: r for r in _rows(session_factory)}
    assert set(rows) == {second, third}  # the one handed over is gone
    assert (rows[second].attempts, rows[second].last_error) == (1, "refused workers.jobs.b")
    assert (rows[third].attempts, rows[third].last_error) == (0, None)

    relay(session_factory, refusing)
    assert {r.id: r.attempts for r in _rows(session_factory)} == {second: 2, third: 0}

    working = Recording()
    done = relay(session_factory, working, batch=1)  # batch after batch
    assert done.handed == 2 and done.error is None
    assert [j.func for j in working.jobs] == ["workers.jobs.b", "workers.jobs.c"]
    assert _rows(session_factory) == []


def test_a_job_already_waiting_under_its_id_is_not_queued_again(settings, redis_connection):
    dispatch = make_dispatcher(settings, redis_connection, is_async=True)
    digests = queue(settings, "digests", redis_connection, is_async=True)
    job_id = f"digest-1-{uuid.uuid4().hex[:8]}"
    job = Job("workers.digests.send", (1, "2026-W50"), queue="digests", job_id=job_id)

    dispatch(job)
    dispatch(job)
    assert digests.count == 1
    assert digests.job_ids == [job_id]

    other = Job("workers.digests.send", (2, "2026-W50"), queue="digests", job_id=job_id + "-2")
    dispatch(other)
    assert digests.count == 2


def test_the_relay_asks_the_queue_before_enqueuing_a_row_whose_job_already_waits(
    settings, session_factory, redis_connection
):
    """A unit that enqueued and died before deleting its row: the relay deletes the row and
    the queue still holds one copy."""
    dispatch = make_dispatcher(settings, redis_connection, is_async=True)
    job_id = f"digest-3-{uuid.uuid4().hex[:8]}"
    with UnitOfWork(session_factory) as uow:
        uow.enqueue_after_commit(
            Job("workers.digests.send", (3, "2026-W50"), queue="digests", job_id=job_id)
        )
        uow.commit()
    [row] = _rows(session_factory)
    dispatch(Job(row.func, tuple(row.args), row.kwargs, row.queue, row.job_id))

    result = relay(session_factory, dispatch, now=utcnow() + timedelta(seconds=11))
    assert result.handed == 1
    assert _rows(session_factory) == []
    assert queue(settings, "digests", redis_connection, is_async=True).job_ids == [job_id]
