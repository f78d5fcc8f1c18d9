"""Delivery under faults, with real processes: `commons worker` killed with SIGKILL mid-batch,
two `commons scheduler`s at once, and a Redis server of the rig's own stopped while the API
(gunicorn) takes writes. A local SMTP server receives and parses every message.

PostgreSQL only (the workers, the scheduler and the API are separate processes on one database);
CI runs a few trials, `benchmarks/delivery_faults.py` runs many and prints the figures."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.xdist_group("delivery-faults")]


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("real processes on PostgreSQL: set TEST_DATABASE_URL")
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed to run a Redis of the test's own")
    pytest.importorskip("aiosmtpd")
    from network.config import _database_url
    from tests.live import delivery

    with delivery.rig(_database_url(raw), tmp_path_factory.mktemp("delivery"), readers=12) as r:
        yield r


def _check(rig, result, what: str) -> None:
    from tests.live.delivery import tally

    assert result.exact, f"{what}: {result}\n{rig.logs()}"
    assert result.people == result.expected
    # Nothing for the poster (their own news) nor for who lost access to the board.
    assert tally([m for m in rig.sink.snapshot() if m.to in rig.not_readers], set()).received == 0


@pytest.mark.parametrize("seed", [1, 2])
def test_a_worker_killed_mid_batch_still_leaves_everyone_exactly_one_digest(rig, seed):
    from tests.live.delivery import kill_trial

    result = kill_trial(rig, random.Random(seed))
    _check(rig, result, "kill -9")
    statuses = rig.digest_statuses()
    assert statuses.get("claimed", 0) == 0 and statuses.get("failed", 0) == 0, statuses


def test_two_schedulers_send_each_digest_once(rig):
    from tests.live.delivery import two_schedulers_trial

    _check(rig, two_schedulers_trial(rig, seconds=5), "two schedulers")


def test_redis_stopped_during_writes_loses_no_mail(rig):
    from tests.live.delivery import redis_down_trial, start_api

    api = start_api(rig)
    rig.scheduler(every=3600)  # its relay hands the outbox to Redis every 0.5 s
    rig.worker("mail", "default", burst=False)
    for trial in range(2):
        result = redis_down_trial(rig, api, trial)
        assert result.exact and result.people == result.expected, f"{result}\n{rig.logs()}"


def test_jobs_redis_lost_are_handed_over_again(rig):
    from tests.live.delivery import redis_lost_trial, start_api

    rig.stop_processes()  # no worker of an earlier test may take these jobs
    api = start_api(rig)
    rig.scheduler(every=3600)  # its relay also looks again at rows handed over a minute ago
    result = redis_lost_trial(rig, api, 0)
    assert result.exact and result.people == result.expected, f"{result}\n{rig.logs()}"


def test_a_worker_and_a_scheduler_stop_on_sigterm(rig):
    """What `docker compose stop` sends: both end within seconds, neither starts again."""
    import signal

    from tests.live.delivery import wait_for

    worker = rig.worker("digests", burst=False)
    scheduler = rig.scheduler(every=3600)
    # Both up: the worker listening, the scheduler registered in Redis.
    assert wait_for(
        lambda: "Listening on" in rig.log_of(worker) and "birth" in rig.log_of(scheduler), 60, 0.2
    ), rig.logs()
    for proc in (worker, scheduler):
        assert proc.poll() is None, rig.logs()
        proc.send_signal(signal.SIGTERM)
    for proc in (worker, scheduler):
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # What it was doing is in its log: a bare TimeoutExpired would say nothing.
            pytest.fail(f"{proc.args} still running 30 s after SIGTERM\n{rig.logs()}")
        assert code == 0, rig.logs()
