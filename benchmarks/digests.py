"""Digests at scale (issue 22, point 3): the Monday 07:00 cohort of one federation at scale L,
built, rendered and handed to a local SMTP server by real RQ workers, with 1 worker and then 2.

    .venv/bin/python benchmarks/digests.py [--workers 1,2] [--sink auto] [--database-url ...]

1. The federation's people (`Bench Federation L`, 10,000 people in `commons_bench_l`, seeded by
   `commons seed bench --scale L`) are made the Monday 07:00 Europe/London cohort (stored
   preferences set to it; those without one take the default, which is that).
2. "Now" is the latest Monday 07:00 in London at or before the clock: the moment RQ's cron
   would have fanned the cohort out. The workers build each digest at their own clock, as they
   do in production, so the window is that Monday's period up to the moment it is sent, and
   holds the seed's last week of news when the seed is recent (each digest is a first one: the
   run's rows are deleted beforehand).
3. Per run: the run's digest rows, its outbox rows and Redis database `--redis-url` (its own
   index, FLUSHDB only) are reset, the chart files emptied; `workers.digests.fan_out(now)`
   records and enqueues the cohort's batch jobs; N `commons worker --queue digests --burst`
   processes are started against a local SMTP server and waited for.
   The server (`--sink`): Postfix's `smtp-sink` when it is installed (`apt-get install
   postfix`; C, it answers at once and appends each message to a dump file read back after
   the run), else aiosmtpd in this process. aiosmtpd is Python: on these two cores it takes
   about 2 ms of CPU a message, 16-20 s a run, which two workers then go without, and a worker
   waits 0.3 ms for each of its MAIL and RCPT answers (it parses addresses with the email
   package's header parser); a production relay answers in microseconds. Both are recorded
   in RESULTS.md, side by side.
4. Reported: wall time from the first job's start (RQ's `started_at`) to the last message the
   sink received; digests per second; messages received, distinct Message-IDs and any repeat;
   digests sent, empty and failed as the database records them (the messages must equal the
   sent, none doubled); the peak RSS of each worker process and of its largest work horse
   (polled from /proc every 20 ms); the statements a worker ran per digest are the tests'
   (`tests/workers/test_digest_scale.py`).

Budget: one worker ≤ 60 s for the cohort, two workers ≥ 1.4 times one (on 2 cores)."""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/commons_bench_l"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
PERIOD_FUNCS = ("workers.digests.send_many", "workers.digests.send")
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


class Sink(Protocol):
    """The local SMTP server the workers hand their messages to: `mail_url`, `reset()` between
    runs, `received()` (the last arrival's time, and each message's recipient and Message-ID),
    `cpu()` (its CPU seconds so far) and `stop()`."""

    name: str
    mail_url: str

    def reset(self) -> None: ...

    def received(self) -> tuple[float | None, list[tuple[str, str]]]: ...

    def cpu(self) -> float: ...

    def stop(self) -> None: ...


def _message_id(content: bytes) -> str:
    # The Message-ID from the header block alone (a header parser would read the whole
    # message: CPU the sink's replies to the workers would wait for).
    end = content.find(b"\r\n\r\n")
    if end < 0:
        end = content.find(b"\n\n")
    found = MESSAGE_ID.search(content, 0, end if end >= 0 else len(content))
    return found.group(1).decode() if found else ""


class AiosmtpdSink:
    """aiosmtpd in this process (the test suite's SMTP server): Python, so each message costs
    it about 2 ms of CPU on the workers' two cores, and every command waits for its parsing
    (0.3 ms for a MAIL or RCPT: it reads addresses with the email package's header parser)."""

    name = "aiosmtpd"

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        port = _free_port()
        self.mail_url = f"smtp://127.0.0.1:{port}?starttls=off"
        self._received: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)
        self._controller.start()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        message_id = _message_id(envelope.content)
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self._received.append((time.time(), rcpt, message_id))
        return "250 OK"

    def reset(self) -> None:
        with self._lock:
            self._received.clear()

    def received(self) -> tuple[float | None, list[tuple[str, str]]]:
        with self._lock:
            got = list(self._received)
        return max((t for t, _r, _m in got), default=None), [(r, m) for _t, r, m in got]

    def cpu(self) -> float:  # this process's: the sink's thread, and the polling
        return _cpu(resource.getrusage(resource.RUSAGE_SELF))

    def stop(self) -> None:
        self._controller.stop()


class PostfixSink:
    """Postfix's `smtp-sink` (C, from Debian's postfix package), the SMTP server Postfix
    ships "to measure client performance": it answers at once and appends each message to one
    dump file, read back after the run (the last arrival is the file's last change)."""

    name = "smtp-sink"
    SEPARATOR = "--commons-bench-message--"

    def __init__(self, binary: str) -> None:
        port = _free_port()
        self.mail_url = f"smtp://127.0.0.1:{port}?starttls=off"
        self._folder = Path(tempfile.mkdtemp(prefix="commons-bench-smtp-sink-"))
        self._folder.chmod(0o777)  # as root it writes as nobody
        self._dump = self._folder / "messages"
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self._process = subprocess.Popen(
            [
                binary,
                *user,
                "-S",
                f"\\n{self.SEPARATOR}\\n",
                "-D",
                str(self._dump),
                f"127.0.0.1:{port}",
                "256",
            ],
            stdout=subprocess.DEVNULL,
        )
        import socket

        for _ in range(100):  # listening?
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{binary} did not start listening on port {port}")

    def reset(self) -> None:
        self._dump.unlink(missing_ok=True)

    def received(self) -> tuple[float | None, list[tuple[str, str]]]:
        """Read line by line: the dump (17 KB a message) is never held whole, so this process
        stays small (a worker started after would otherwise begin life, and report its
        peak RSS, at this process's size)."""
        try:
            last = self._dump.stat().st_mtime
            dump = self._dump.open("rb")
        except FileNotFoundError:
            return None, []
        got: list[tuple[str, str]] = []
        rcpts: list[str] = []
        message_id, in_headers = "", False
        with dump:
            for line in dump:
                if line == self.SEPARATOR.encode() + b"\n":
                    got += [(rcpt, message_id) for rcpt in rcpts]
                    rcpts, message_id, in_headers = [], "", True
                elif not in_headers:
                    continue
                elif line == b"\n":
                    in_headers = False
                elif line.startswith(b"X-Rcpt-Args: <"):
                    rcpts.append(line[14 : line.index(b">")].decode())
                elif not message_id and (found := MESSAGE_ID.match(line)):
                    message_id = found.group(1).decode()
        got += [(rcpt, message_id) for rcpt in rcpts]
        return last, got

    def cpu(self) -> float:
        with open(f"/proc/{self._process.pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2 :].split()
        return sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def _sink(choice: str) -> Sink:
    found = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin:/usr/bin")
    if choice == "smtp-sink" or (choice == "auto" and found):
        if not found:
            raise SystemExit("smtp-sink not found: apt-get install postfix (or --sink aiosmtpd)")
        return PostfixSink(found)
    if choice == "auto":
        print("smtp-sink not found (Debian's postfix package): aiosmtpd instead", flush=True)
    return AiosmtpdSink()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@dataclass
class Run:
    workers: int
    wall: float
    from_launch: float
    cohort: int
    asked: int
    jobs: int
    sent: int
    empty: int
    failed: int
    skipped_or_left: int
    messages: int
    distinct_ids: int
    peak_worker_kib: int
    peak_horse_kib: int
    fan_out_seconds: float

    @property
    def rate(self) -> float:
        return self.sent / self.wall if self.wall else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--scale", default="L")
    parser.add_argument("--workers", default="1,2", help="worker counts, run in turn")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run at most")
    parser.add_argument(
        "--sink",
        choices=("auto", "smtp-sink", "aiosmtpd"),
        default="auto",
        help="the local SMTP server: Postfix's smtp-sink when installed (auto), or aiosmtpd",
    )
    args = parser.parse_args()
    if args.redis_url.rstrip("/").endswith(("/0", "/13")) or "/" not in args.redis_url[8:]:
        raise SystemExit("use a Redis database index of this benchmark's own (e.g. /5)")

    instance = Path(tempfile.mkdtemp(prefix="commons-bench-digests-"))
    # The scale's database, created, migrated and seeded when it is not yet (as the hot-list
    # benchmark does), so that one command runs everything on a fresh machine.
    from sqlalchemy.engine import make_url

    from benchmarks.hot_list import ensure_database
    from network.config import _database_url

    url = make_url(_database_url(args.database_url))
    ensure_database(
        url.render_as_string(hide_password=False),
        url.database or f"commons_bench_{args.scale.lower()}",
        args.scale,
        {**os.environ, "INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)},
    )
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-digests-secret",
        "API_URL": "https://commons.bench.example",
    }
    os.environ.update(env)

    from redis import Redis

    from dispatch import runtime

    redis = Redis.from_url(args.redis_url)
    # One run at a time: another's reset would delete this one's digests mid-run.
    if not redis.set("bench-digests:running", os.getpid(), nx=True, ex=int(args.timeout) * 3):
        raise SystemExit("another benchmarks/digests.py is running on this Redis database")
    sink = _sink(args.sink)
    try:
        os.environ["MAIL_URL"] = sink.mail_url
        return _measure(args, env, instance, sink, runtime.current(), redis)
    finally:
        sink.stop()
        redis.delete("bench-digests:running")


def _measure(args, env, instance, sink: Sink, rt, redis) -> int:
    from sqlalchemy import delete, select, update

    from network.db import utcnow
    from network.digests import periods
    from network.digests.models import (
        DEFAULT_PREFERENCE,
        Digest,
        DigestPreference,
        DigestStatus,
        Frequency,
    )
    from network.organisations.models import Organisation, OrganisationKind
    from network.outbox import OutboxJob
    from network.people.models import Membership, Person
    from network.seed.bench import federation_name
    from workers import digests

    with rt.session_factory() as s:
        fed = s.scalar(
            select(Organisation.id).where(
                Organisation.kind == OrganisationKind.federation,
                Organisation.name == federation_name(args.scale),
            )
        )
        if fed is None:
            raise SystemExit(f"no {federation_name(args.scale)!r}: commons seed bench first")
        orgs = select(Organisation.id).where(Organisation.parent_id == fed)
        tree = {fed, *s.scalars(orgs)}
        tree |= set(s.scalars(select(Organisation.id).where(Organisation.parent_id.in_(tree))))
        cohort = sorted(
            set(
                s.scalars(
                    select(Membership.person_id)
                    .join(Person, Person.id == Membership.person_id)
                    .where(Membership.organisation_id.in_(tree), Person.is_active)
                )
            )
        )
        # The Monday 07:00 London cohort: stored preferences set to it, defaults are it.
        assert DEFAULT_PREFERENCE["frequency"] is Frequency.weekly
        assert (DEFAULT_PREFERENCE["weekday"], DEFAULT_PREFERENCE["hour"]) == (0, 7)
        s.execute(
            update(DigestPreference)
            .where(DigestPreference.person_id.in_(cohort))
            .values(frequency=Frequency.weekly, weekday=0, hour=7, timezone="Europe/London")
        )
        s.commit()
    period, now = periods.latest_due(Frequency.weekly, 0, 7, "Europe/London", utcnow())

    def reset() -> None:
        with rt.session_factory() as s:
            s.execute(delete(Digest).where(Digest.period == period))
            s.execute(delete(OutboxJob).where(OutboxJob.func.in_(PERIOD_FUNCS)))
            s.commit()
        redis.flushdb()  # this benchmark's own database index only
        redis.set("bench-digests:running", os.getpid(), ex=int(args.timeout) * 3)
        for png in (instance / "charts").glob("*"):
            png.unlink()
        sink.reset()

    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{federation_name(args.scale)}: {len(cohort):,} people; now {now.isoformat()} "
        f"(period {period}); SMTP sink: {sink.name} ({sink.mail_url})",
        flush=True,
    )
    runs: list[Run] = []
    for count in [int(n) for n in args.workers.split(",") if n]:
        reset()
        started = time.perf_counter()
        asked = digests.fan_out(now, echo=lambda _line: None)
        fan_out_seconds = time.perf_counter() - started
        jobs = redis.llen("rq:queue:digests")
        sink_before = sink.cpu()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        pg_before = _postgres_cpu()
        launched = time.time()
        procs = [
            subprocess.Popen(
                [str(BIN / "commons"), "worker", "--queue", "digests", "--burst"],
                env={**os.environ, **env, "MAIL_URL": sink.mail_url},
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        peak_worker = peak_horse = 0
        deadline = time.monotonic() + args.timeout
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            for p in procs:
                peak_worker = max(peak_worker, _rss_kib(p.pid))
                for child in _children(p.pid):
                    peak_horse = max(peak_horse, _rss_kib(child))
            time.sleep(0.02)
        for p in procs:
            if p.poll() is None:
                p.kill()  # past the timeout: a warm shutdown would finish its job first
                p.wait()
        time.sleep(0.2)  # the sink's last replies
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_workers = _cpu(children_after) - _cpu(children_before)
        cpu_sink = sink.cpu() - sink_before
        cpu_pg = _postgres_cpu() - pg_before
        load = os.getloadavg()[0]
        first_start = _first_job_start(redis) or launched
        last_arrival, received = sink.received()
        last = last_arrival if last_arrival is not None else first_start
        with rt.session_factory() as s:
            rows = s.execute(
                select(Digest.status, Digest.message_id).where(Digest.period == period)
            ).all()
        statuses = [status for status, _m in rows]
        ids = [m for _r, m in received]
        run = Run(
            workers=count,
            wall=last - first_start,
            from_launch=last - launched,
            cohort=len(cohort),
            asked=len(asked),
            jobs=jobs,
            sent=statuses.count(DigestStatus.sent),
            empty=statuses.count(DigestStatus.empty),
            failed=statuses.count(DigestStatus.failed),
            skipped_or_left=len(asked) - len(rows),
            messages=len(received),
            distinct_ids=len(set(ids)),
            peak_worker_kib=peak_worker,
            peak_horse_kib=peak_horse,
            fan_out_seconds=fan_out_seconds,
        )
        sent_ids = {m for status, m in rows if status is DigestStatus.sent}
        exact = run.messages == run.distinct_ids == run.sent and set(ids) == sent_ids
        runs.append(run)
        print(
            f"{count} worker{'s' if count > 1 else ''}: {run.wall:.1f} s from the first job to "
            f"the last message ({run.from_launch:.1f} s from launching the workers), "
            f"{run.rate:.0f} digests/s; fan-out {run.fan_out_seconds:.1f} s for {run.asked:,} "
            f"people in {run.jobs} jobs; sent {run.sent:,}, empty {run.empty:,}, failed "
            f"{run.failed}, not done {run.skipped_or_left}; messages {run.messages:,} "
            f"({run.distinct_ids:,} distinct Message-IDs) {'= sent, none doubled' if exact else 'MISMATCH'}; "  # noqa: E501
            f"peak RSS: worker {run.peak_worker_kib / 1024:.0f} MiB, largest work horse "
            f"{run.peak_horse_kib / 1024:.0f} MiB (getrusage of the children: "
            f"{children_after.ru_maxrss / 1024:.0f} MiB); CPU seconds: workers "
            f"{cpu_workers:.1f}, SMTP sink ({sink.name}) {cpu_sink:.1f}, PostgreSQL {cpu_pg:.1f}; "
            f"load average {load:.1f}",
            flush=True,
        )
    reset()
    ok = True
    one = next((r for r in runs if r.workers == 1), None)
    two = next((r for r in runs if r.workers == 2), None)
    if one:
        met = one.wall <= 60 and one.sent + one.empty == one.cohort
        ok &= met
        print(f"budget: one worker ≤ 60 s for the cohort: {one.wall:.1f} s {_verdict(met)}")
    if one and two:
        ratio = two.rate / one.rate if one.rate else 0.0
        ok &= ratio >= 1.4
        print(f"budget: two workers ≥ 1.4 times one: {ratio:.2f} times {_verdict(ratio >= 1.4)}")
    for r in runs:
        ok &= r.messages == r.distinct_ids == r.sent and r.failed == 0
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return 0 if ok else 1


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu() -> float:
    """CPU seconds of every `postgres` process on this host, and of those ended (the
    postmaster's waited-for children): the connections of other clients included."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += sum(int(v) for v in fields[11:15])
    return total / tick


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def _first_job_start(redis) -> float | None:
    """The earliest `started_at` of the run's jobs (RQ keeps finished jobs for a while)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    ids = FinishedJobRegistry("digests", connection=redis).get_job_ids()
    starts = [
        j.started_at.replace(tzinfo=UTC).timestamp()
        for j in Job.fetch_many(ids, connection=redis)
        if j is not None and j.started_at is not None
    ]
    return min(starts) if starts else None


if __name__ == "__main__":
    sys.exit(main())
