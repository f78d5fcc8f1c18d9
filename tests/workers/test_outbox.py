"""The job outbox (`network.outbox`, `dispatch.relay`, `dispatch.runner`): a job a committed
change asks for is never lost when Redis is down or loses it, never sent for a change that rolled
back, never queued twice under one id, and never run twice from one row."""

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import fakeredis
import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job as RQJob
from rq.utils import current_timestamp
from sqlalchemy import select

from api.app import create_app
from dispatch import runtime
from dispatch.queues import QUEUES, make_dispatcher, queue
from dispatch.relay import relay
from network import outbox
from network.db import utcnow
from network.outbox import RELAY_GRACE, OutboxJob
from network.uow import Job, UnitOfWork
from tests import factories


def _outbox(settings):
    return sorted(settings.outbox_path.glob("*.eml")) if settings.outbox_path.exists() else []


def _rows(session_factory) -> list[OutboxJob]:
    with session_factory() as s:
        return list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def _waiting(session_factory) -> list[OutboxJob]:
    """Rows not yet handed to the queue."""
    return [row for row in _rows(session_factory) if row.dispatched_at is None]


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
    assert _waiting(session_factory) == []  # handed over; the row lives until the job is done
    assert client.get("/readyz").get_json()["relay_backlog"]["jobs"] == 0

    mail_queue = queue(queued_settings, "mail", redis_connection, is_async=True)
    assert mail_queue.job_ids == [row.job_id]  # under the id the row carried
    runtime.configure(queued_settings, session_factory)  # the worker runs in this process
    worker = SimpleWorker([mail_queue], connection=redis_connection)
    assert worker.work(burst=True)
    [eml] = _outbox(queued_settings)
    assert "To: while.down@example.org" in eml.read_text()
    assert f"Message-ID: <{row.job_id}@" in eml.read_text()  # a repeat would carry the same
    assert _rows(session_factory) == []  # done: the job deleted its row


def test_a_job_dispatched_after_commit_has_its_row_marked_handed_over(session_factory):
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
    rows = _rows(session_factory)
    assert [r.job_id for r in rows] == [j.job_id for j in dispatched.jobs]
    assert all(r.dispatched_at is not None for r in rows)
    assert _waiting(session_factory) == []


def test_a_job_left_undispatched_stays_in_the_outbox_with_the_id_it_was_tried_under(
    session_factory,
):
    tried = Recording(refuse=("workers.jobs.b",))
    with UnitOfWork(session_factory, tried) as uow:
        uow.enqueue_after_commit(Job("workers.jobs.a"))
        uow.enqueue_after_commit(Job("workers.jobs.b"))
        uow.commit()
    [row] = _waiting(session_factory)
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
    assert [r.id for r in _waiting(session_factory)] == [young]

    assert relay(session_factory, dispatched, now=utcnow()).handed == 0
    later = relay(session_factory, dispatched, now=utcnow() + RELAY_GRACE + timedelta(seconds=1))
    assert later.handed == 1
    assert _waiting(session_factory) == []


def test_the_relay_stops_at_the_first_refusal_and_keeps_the_reason(session_factory):
    _first, second, third = _record(
        session_factory, "workers.jobs.a", "workers.jobs.b", "workers.jobs.c", age=timedelta(1)
    )
    refusing = Recording(refuse=("workers.jobs.b",))

    result = relay(session_factory, refusing)
    assert result.handed == 1
    assert result.error == "refused workers.jobs.b"
    assert [j.func for j in refusing.jobs] == ["workers.jobs.a", "workers.jobs.b"]  # not c
    rows = {r.id: r for r in _waiting(session_factory)}
    assert set(rows) == {second, third}  # the one handed over is marked
    assert (rows[second].attempts, rows[second].last_error) == (1, "refused workers.jobs.b")
    assert (rows[third].attempts, rows[third].last_error) == (0, None)

    relay(session_factory, refusing)
    assert {r.id: r.attempts for r in _waiting(session_factory)} == {second: 2, third: 0}

    working = Recording()
    done = relay(session_factory, working, batch=1)  # batch after batch
    assert done.handed == 2 and done.error is None
    assert [j.func for j in working.jobs] == ["workers.jobs.b", "workers.jobs.c"]
    assert _waiting(session_factory) == []


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
    """A unit that enqueued and died before marking its row: the relay marks the row and the
    queue still holds one copy."""
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
    assert (result.handed, result.found) == (0, 1)
    assert _waiting(session_factory) == []
    assert queue(settings, "digests", redis_connection, is_async=True).job_ids == [job_id]


# --- the runner: one run per row, and nothing the queue loses stays lost ----------------------


@pytest.fixture
def runs(tmp_path, settings, session_factory):
    """Where the test jobs write a line per run; the worker runs in this process."""
    runtime.configure(settings, session_factory)
    path = tmp_path / "runs.txt"
    path.touch()
    return path


def _lines(path) -> list[str]:
    return path.read_text().split()


def _commit_job(session_factory, dispatch, func: str, *args, queue: str = "default") -> str:
    with UnitOfWork(session_factory, dispatch) as uow:
        uow.enqueue_after_commit(Job(func, args, queue=queue))
        uow.commit()
    [row] = _rows(session_factory)
    return row.job_id


def _work(settings, conn, name: str = "default") -> None:
    SimpleWorker([queue(settings, name, conn, is_async=True)], connection=conn).work(burst=True)


def test_a_second_copy_of_a_job_already_done_does_nothing(
    settings, session_factory, redis_connection, runs
):
    dispatch = make_dispatcher(settings, redis_connection, is_async=True)
    job_id = _commit_job(
        session_factory, dispatch, "tests.workers.outbox_jobs.note", str(runs), "a"
    )
    _work(settings, redis_connection)
    assert _lines(runs) == ["a"]
    assert _rows(session_factory) == []  # done: the job deleted its row

    # The same job in the queue again (a relay that found it gone from Redis, a retry
    # requeued by hand): its row is gone, so it does nothing.
    assert dispatch(Job("tests.workers.outbox_jobs.note", (str(runs), "a"), job_id=job_id))
    _work(settings, redis_connection)
    assert _lines(runs) == ["a"]


def test_a_job_another_run_holds_is_not_run_until_that_claim_lapses(
    settings, session_factory, redis_connection, runs
):
    dispatch = make_dispatcher(settings, redis_connection, is_async=True)
    job_id = _commit_job(
        session_factory, dispatch, "tests.workers.outbox_jobs.note", str(runs), "b"
    )
    with session_factory() as s:  # a worker took it and is still running it
        assert outbox.claim(s, job_id, timeout=timedelta(minutes=2))
        s.commit()
    _work(settings, redis_connection)
    assert _lines(runs) == []
    later = utcnow() + outbox.RECHECK + timedelta(seconds=1)
    assert relay(session_factory, dispatch, now=later).handed == 0  # a live claim: left alone

    with session_factory() as s:  # that worker died: its claim lapses
        s.get_one(OutboxJob, _rows(session_factory)[0].id).claimed_until = utcnow()
        s.commit()
    assert relay(session_factory, dispatch, now=later).handed == 1
    _work(settings, redis_connection)
    assert _lines(runs) == ["b"]
    assert _rows(session_factory) == []


@pytest.mark.parametrize("loss", ["redis lost it", "its worker died"])
def test_the_relay_hands_over_again_a_job_the_queue_lost(
    settings, session_factory, redis_connection, runs, loss
):
    """The job was handed over, then Redis lost it (restarted without it), or the worker that
    had taken it died before running it (RQ gives it back only after its heartbeat lapses and a
    maintenance pass, minutes later). A job that is running holds its row's claim, and the relay
    leaves such rows alone (the test above)."""
    dispatch = make_dispatcher(settings, redis_connection, is_async=True)
    job_id = _commit_job(
        session_factory, dispatch, "tests.workers.outbox_jobs.note", str(runs), "c"
    )
    mail = queue(settings, "default", redis_connection, is_async=True)
    assert mail.job_ids == [job_id]
    with session_factory() as s:
        counts = outbox.backlog(s)
    assert (counts.jobs, counts.oldest, counts.handed, counts.failed) == (0, None, 1, 0)
    redis_connection.lrem(mail.key, 0, job_id)
    if loss == "redis lost it":
        redis_connection.delete(RQJob.key_for(job_id))
    else:
        redis_connection.hset(RQJob.key_for(job_id), "status", "started")
        beat = current_timestamp() + 60  # the dead worker's last heartbeat has not lapsed yet
        redis_connection.zadd(mail.started_job_registry.key, {f"{job_id}:e1": beat})

    assert relay(session_factory, dispatch).handed == 0  # not before the recheck is due
    later = utcnow() + outbox.RECHECK + timedelta(seconds=1)
    result = relay(session_factory, dispatch, now=later)
    assert (result.handed, result.found) == (1, 0)
    assert mail.job_ids == [job_id]
    _work(settings, redis_connection)
    assert _lines(runs) == ["c"]
    assert _rows(session_factory) == []


def test_a_failed_run_frees_its_row_for_the_retry_and_the_last_failure_waits_for_a_person(
    settings, session_factory, redis_connection, runs
):
    func = "tests.workers.outbox_jobs.fail_unless"
    Path(str(runs) + ".broken").touch()
    retrying = make_dispatcher(settings, redis_connection, is_async=True)
    _commit_job(session_factory, retrying, func, str(runs), "d")
    _work(settings, redis_connection)
    [row] = _rows(session_factory)
    assert (row.claimed_until, row.failed_at, row.runs) == (None, None, 1)  # RQ retries it
    assert row.last_error == "RuntimeError: d: broken"
    queue(settings, "default", redis_connection, is_async=True).scheduled_job_registry.remove(
        row.job_id
    )
    with session_factory() as s:
        s.delete(s.get_one(OutboxJob, row.id))
        s.commit()

    once = make_dispatcher(replace(settings, job_retry_delays=()), redis_connection, is_async=True)
    job_id = _commit_job(session_factory, once, func, str(runs), "e")
    _work(settings, redis_connection)
    [row] = _rows(session_factory)
    assert row.failed_at is not None and row.claimed_until is None  # no retry left
    with session_factory() as s:
        counts = outbox.backlog(s)
    assert (counts.jobs, counts.handed, counts.failed) == (0, 0, 1)
    later = utcnow() + outbox.RECHECK + timedelta(seconds=1)
    assert relay(session_factory, once, now=later).handed == 0  # a person's to retry

    Path(str(runs) + ".broken").unlink()  # fixed; `commons jobs retry` requeues it
    failed = queue(settings, "default", redis_connection, is_async=True).failed_job_registry
    failed.requeue(job_id)
    _work(settings, redis_connection)
    assert _lines(runs) == ["d", "e", "e"]
    assert _rows(session_factory) == []


def test_the_relay_forgets_failed_rows_only_once_rq_has_forgotten_their_jobs(session_factory):
    old, recent = _record(session_factory, "workers.jobs.a", "workers.jobs.b", age=timedelta(1))
    with session_factory() as s:
        s.get_one(OutboxJob, old).failed_at = utcnow() - outbox.KEEP_FAILED - timedelta(hours=1)
        s.get_one(OutboxJob, recent).failed_at = utcnow() - timedelta(days=1)
        s.commit()
    _record(session_factory, "workers.jobs.c", age=timedelta(1))  # gives the pass a batch
    relay(session_factory, Recording())
    assert [r.id for r in _rows(session_factory) if r.failed_at is not None] == [recent]
