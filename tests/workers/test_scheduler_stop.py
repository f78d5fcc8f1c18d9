"""`commons scheduler` stops on SIGTERM whenever it comes — also in the moment RQ's cron is
still registering itself, where RQ raises its stop outside its own handling (seen once in the
live test: the scheduler took the stop for a Redis error and started again)."""

from __future__ import annotations

from click.testing import CliRunner
from rq.exceptions import StopRequested

from workers import cli


def test_a_stop_while_the_cron_registers_itself_ends_the_scheduler(mailing, monkeypatch):
    started: list[str] = []

    class Cron:
        """RQ's CronScheduler, as it behaves when SIGTERM lands during its birth."""

        def __init__(self, connection) -> None:
            pass

        def register(self, *args, **kwargs) -> None:
            pass

        def start(self) -> None:
            started.append("start")
            if len(started) == 1:
                raise StopRequested()  # the signal handler's, before RQ's own try

        def register_death(self) -> None:
            started.append("death")

    monkeypatch.setattr(cli, "CronScheduler", Cron)
    monkeypatch.setattr(cli, "_redis", lambda: None)
    monkeypatch.setattr(cli, "_relay_forever", lambda stop, every: stop.wait())
    monkeypatch.setattr(cli.time, "sleep", lambda _s: None)
    result = CliRunner().invoke(cli.scheduler, ["--every", "3600"])
    assert result.exit_code == 0, result.output
    assert started == ["start", "death"]  # stopped, its record removed, not started again


def test_a_stop_while_the_worker_registers_itself_ends_the_worker(mailing, monkeypatch):
    """RQ's worker installs its signal handlers after it logs "Listening on" and starts its
    scheduler; a SIGTERM in between must stop it cleanly, not kill it (exit code -15)."""
    import signal

    import fakeredis
    from rq.worker.base import BaseWorker

    redis = fakeredis.FakeStrictRedis()
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    seen: list[object] = []
    real = BaseWorker.bootstrap

    def bootstrap(self, *args, **kwargs):
        real(self, *args, **kwargs)
        handler = signal.getsignal(signal.SIGTERM)  # as the signal would find it now
        seen.append(handler)
        assert callable(handler), "SIGTERM here would kill the worker"
        handler(signal.SIGTERM, None)

    monkeypatch.setattr(BaseWorker, "bootstrap", bootstrap)
    monkeypatch.setattr(cli, "_redis", lambda: redis)
    monkeypatch.setattr(cli, "_preload", lambda: None)
    try:
        result = CliRunner().invoke(cli.worker, ["--queue", "digests"])
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert result.exit_code == 0, (result.output, result.exception)
    assert len(seen) == 1  # stopped at the first signal, not started again
