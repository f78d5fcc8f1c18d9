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
