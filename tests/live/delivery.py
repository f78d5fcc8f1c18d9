"""A delivery rig of real processes, for fault injection: a Redis server of its own (another
port: the shared one is never stopped), a local SMTP server (aiosmtpd) that receives and parses
every message, a fresh PostgreSQL database, and `commons` workers, schedulers and gunicorn
started and killed as an operator (or a crash) would.

Used by tests/live/test_delivery_faults.py (a few trials in CI) and by
benchmarks/delivery_faults.py (many trials, figures printed)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from pathlib import Path

import requests
from sqlalchemy import delete, select

from dispatch.runner import CLAIM_MARGIN
from network.db import make_engine, make_session_factory, utcnow
from network.digests.models import Digest, DigestPreference, DigestStatus, Frequency
from network.people.models import Membership, Person, Role

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLAIM_TIMEOUT = 3  # DIGEST_JOB_TIMEOUT of the rig: a dead worker's claim is stale after this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the SMTP server ------------------------------------------------------------------------


@dataclass
class Received:
    to: str
    message_id: str
    subject: str


class Sink:
    """aiosmtpd on a free port; each message parsed (MIME) and kept. `delay` slows each DATA,
    so a batch takes long enough to be interrupted."""

    def __init__(self, delay: float = 0.0) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.messages: list[Received] = []
        self.raw: list[bytes] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.raw.append(envelope.content)
            for rcpt in envelope.rcpt_tos:
                self.messages.append(
                    Received(rcpt, str(message["Message-ID"]), str(message["Subject"]))
                )
        return "250 OK"

    def __enter__(self) -> Sink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.raw.clear()

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)


# --- Redis of its own -----------------------------------------------------------------------


class RedisServer:
    """`redis-server` on a free port, appending to a file as in production (compose runs it
    with --appendonly yes): stopped and started again, it keeps what was queued."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--dir",
            str(self.dir),
        ]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        from redis import Redis

        deadline = time.monotonic() + 10
        while True:
            try:
                Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis writes its append-only file and exits
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self):
        from redis import Redis

        return Redis(port=self.port)

    def lose_everything(self) -> None:
        """Stopped, its files deleted, started empty: as a Redis restarted without its volume."""
        self.stop()
        shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.start()


# --- processes ------------------------------------------------------------------------------


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@dataclass
class Tally:
    """What one trial expected and what the SMTP server got."""

    expected: int = 0
    received: int = 0  # messages
    people: int = 0  # distinct recipients among the expected
    duplicates: int = 0  # a second, different Message-ID to the same person: must be 0
    repeats: int = 0  # the same Message-ID again (SMTP's one window): allowed, counted
    lost: int = 0  # expected recipients who got nothing
    unexpected: int = 0  # recipients who should have got nothing

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def exact(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.unexpected == 0


def tally(messages: list[Received], expected: set[str]) -> Tally:
    ids: dict[str, Counter] = {}
    for m in messages:
        ids.setdefault(m.to, Counter())[m.message_id] += 1
    t = Tally(expected=len(expected), received=len(messages))
    for to, counts in ids.items():
        if to not in expected:
            t.unexpected += 1
            continue
        t.people += 1
        t.duplicates += len(counts) - 1
        t.repeats += sum(counts.values()) - len(counts)
    t.lost = len(expected - set(ids))
    return t


@dataclass
class Rig:
    database_url: str
    base: Path
    sink: Sink
    redis: RedisServer
    readers: list[str] = field(default_factory=list)  # expected to get a digest
    not_readers: list[str] = field(default_factory=list)  # must get none
    admin_email: str = ""
    practice_id: int = 0
    procs: list[subprocess.Popen] = field(default_factory=list)
    log_paths: dict[int, Path] = field(default_factory=dict)
    # The API's port, known up front: tokens name the API's URL as their issuer.
    api_port: int = field(default_factory=free_port)

    def env(self, **extra: str) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLASK_", "GUNICORN_", "TEST_"))
            and k not in ("DATABASE_URL", "REDIS_URL", "MAIL_URL", "INSTANCE_PATH", "PORT")
        }
        keep.update(
            PYTHONUNBUFFERED="1",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            MAIL_URL=f"smtp://127.0.0.1:{self.sink.port}",
            INSTANCE_PATH=str(self.base / "instance"),
            SECRET_KEY="delivery-rig-secret",
            API_URL=f"http://127.0.0.1:{self.api_port}",
            DIGEST_JOB_TIMEOUT=str(CLAIM_TIMEOUT),
            JOB_RETRY_DELAYS="1,1,1",
        )
        keep.update(extra)
        return keep

    def commons(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(  # noqa: S603
            [str(BIN / "commons"), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"commons {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        path = self.base / f"{name}-{len(self.procs)}.log"
        log = open(path, "wb")  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603
            [*args],
            cwd=ROOT,
            env=self.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        self.log_paths[proc.pid] = path
        return proc

    def log_of(self, proc: subprocess.Popen) -> str:
        return self.log_paths[proc.pid].read_text(errors="replace")

    def worker(self, *queues: str, burst: bool = True) -> subprocess.Popen:
        args = [str(BIN / "commons"), "worker"]
        for q in queues:
            args += ["--queue", q]
        if burst:
            args.append("--burst")
        return self.spawn("worker", *args)

    def scheduler(self, every: int = 2) -> subprocess.Popen:
        args = ["scheduler", "--every", str(every), "--relay-every", "0.5"]
        return self.spawn("scheduler", str(BIN / "commons"), *args)

    def logs(self) -> str:
        parts = []
        for path in sorted(self.base.glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-3000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for proc in self.procs:
            stop(proc, signal.SIGKILL)

    def stop_processes(self) -> None:
        """Every process a trial left running (a worker would take another trial's jobs)."""
        for proc in self.procs:
            stop(proc)

    # The database.

    def session(self):
        engine = make_engine(self.database_url)
        return make_session_factory(engine)()

    def reset_digests(self) -> None:
        with self.session() as s:
            s.execute(delete(Digest))
            s.commit()
        self.redis.client().flushall()
        self.sink.clear()

    def digest_statuses(self) -> Counter:
        with self.session() as s:
            return Counter(str(st) for st in s.scalars(select(Digest.status)))


def seed(database_url: str, readers: int) -> tuple[list[str], list[str], str, int]:
    """A federation > PCN > two practices; `readers` people and a practice admin who take a
    daily digest due twelve hours before the rig starts, a problem posted on the PCN
    board (their news), its poster (no news: their own post) and one person who lost access
    after it was posted (nothing for them). Returns (readers' emails, emails that must get
    nothing, the practice admin's email, the practice's id)."""
    from tests import factories

    tag = os.urandom(4).hex()
    session = make_session_factory(make_engine(database_url))()
    with session:
        fed = factories.organisation(session, "federation", name=f"Federation {tag}")
        pcn = factories.organisation(session, "pcn", fed, name=f"PCN {tag}")
        one = factories.organisation(session, "practice", pcn, name=f"Practice one {tag}")
        two = factories.organisation(session, "practice", pcn, name=f"Practice two {tag}")
        people = [
            factories.person(
                session, email=f"reader{i}.{tag}@rig.example.org", member_of=(one, two)[i % 2]
            )
            for i in range(readers)
        ]
        poster = factories.person(session, email=f"poster.{tag}@rig.example.org", member_of=one)
        leaver = factories.person(session, email=f"leaver.{tag}@rig.example.org", member_of=two)
        admin = factories.person(
            session, email=f"admin.{tag}@rig.example.org", member_of=one, role=Role.admin
        )
        # Due twelve hours ago: no trial ever straddles the change of period. They joined
        # before that (someone who joins after their send time waits for the next one).
        hour = (utcnow().hour + 12) % 24
        for p in [*people, poster, leaver, admin]:
            p.created_at = utcnow() - timedelta(days=2)
            session.add(
                DigestPreference(
                    person_id=p.id,
                    frequency=Frequency.daily,
                    weekday=0,
                    hour=hour,
                    timezone="UTC",
                    content="full",
                )
            )
        session.flush()
        factories.problem(session, poster, pcn, title="Phones at 8am", body="Every day.")
        # Access lost between the activity and the digest: the item must not reach them.
        session.execute(delete(Membership).where(Membership.person_id == leaver.id))
        session.commit()
        return (
            [p.email for p in [*people, admin]],
            [poster.email, leaver.email],
            admin.email,
            one.id,
        )


# --- trials ---------------------------------------------------------------------------------


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def kill_trial(rig: Rig, rng: random.Random) -> Tally:
    """Enqueue everyone's digest; a worker sends some and is killed with SIGKILL at a random
    moment; once its claims are stale, the digests are enqueued again and a new worker runs.
    Everyone gets exactly one digest (distinct Message-IDs); then a run of the same period gives
    nothing more."""
    rig.reset_digests()
    expected = set(rig.readers)
    rig.commons("digests", "run", "--now")
    victim = rig.worker("digests")
    kill_after = rng.randint(1, max(1, len(expected) - 1))
    wait_for(lambda: rig.sink.count() >= kill_after or victim.poll() is not None, 60)
    time.sleep(rng.random() * 0.08)  # anywhere in the next send: claim, SMTP, mark
    stop(victim, signal.SIGKILL)
    # Stale once past the job's timeout (the digest's claim) and the runner's margin (the
    # outbox row's claim: `dispatch.runner`).
    time.sleep(CLAIM_TIMEOUT + CLAIM_MARGIN.total_seconds() + 0.5)
    rig.commons("digests", "run", "--now")
    rescuer = rig.worker("digests")
    rescuer.wait(timeout=180)
    result = tally(rig.sink.snapshot(), expected)
    if result.lost:
        _explain_lost(rig, expected - {m.to for m in rig.sink.snapshot()})
    # The same period again: nothing.
    before = rig.sink.count()
    rig.commons("digests", "run", "--now")
    rig.worker("digests").wait(timeout=120)
    result.duplicates += rig.sink.count() - before
    return result


def _batch_job(redis, person_id: int, period: str) -> dict:
    """The batch job (`workers.digests.batch_job_id`: digests-<period>-<first>-<last>-<hash>)
    whose people's ids span this person's, as Redis holds it."""
    for key in redis.scan_iter(match=f"rq:job:digests-{period}-*"):
        first, last = key.decode().removeprefix(f"rq:job:digests-{period}-").split("-")[:2]
        if int(first) <= person_id <= int(last):
            return redis.hgetall(key)
    return {}


def _explain_lost(rig: Rig, lost: set[str]) -> None:
    """Where each lost digest stands: its row, and its job in Redis."""
    redis = rig.redis.client()
    with rig.session() as s:
        for address in sorted(lost):
            person = s.scalar(select(Person).where(Person.email == address))
            rows = s.scalars(select(Digest).where(Digest.person_id == person.id)).all()
            for row in rows or [None]:
                period = row.period if row else "?"
                job = _batch_job(redis, person.id, period) if row else {}
                shown = {
                    k.decode(): v.decode()[:80]
                    for k, v in job.items()
                    if k in (b"status", b"exc_info")
                }
                print(
                    f"  lost {address} (person {person.id}): row "
                    f"{(row.status, row.attempts, row.error) if row else None}; job {shown}",
                    file=sys.stderr,
                    flush=True,
                )


def two_schedulers_trial(rig: Rig, seconds: float = 8.0) -> Tally:
    """Two `commons scheduler` processes fan out every 2 s for a while beside one worker:
    each person still gets one digest."""
    rig.reset_digests()
    expected = set(rig.readers)
    schedulers = [rig.scheduler(every=2), rig.scheduler(every=2)]
    worker = rig.worker("digests", burst=False)
    try:
        wait_for(lambda: rig.sink.count() >= len(expected), 90)
        time.sleep(seconds)  # more fan-outs from both: they must send nothing more
    finally:
        for proc in [*schedulers, worker]:
            stop(proc)
    return tally(rig.sink.snapshot(), expected)


@dataclass
class ApiServer:
    proc: subprocess.Popen
    url: str


def start_api(rig: Rig) -> ApiServer:
    port = rig.api_port
    proc = rig.spawn(
        "api",
        str(BIN / "gunicorn"),
        "--config",
        "python:api.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "api.wsgi:app",
        WEB_CONCURRENCY="2",
    )
    url = f"http://127.0.0.1:{port}"
    ok = wait_for(lambda: _answers(f"{url}/readyz"), 30, 0.1)
    if not ok:
        raise RuntimeError(f"gunicorn did not answer:\n{rig.logs()}")
    return ApiServer(proc, url)


def _answers(url: str) -> bool:
    try:
        with requests.Session() as http:
            http.trust_env = False
            return http.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def redis_down_trial(rig: Rig, api: ApiServer, trial: int, invites: int = 12) -> Tally:
    """Invite people while the rig's Redis is stopped for the middle of the run: every request
    succeeds, /readyz reports Redis down and a backlog, and once Redis is back every invitation
    arrives once (the scheduler's relay and a mail worker run throughout)."""
    rig.sink.clear()
    token = rig.commons("token", rig.admin_email).strip()
    emails = [f"invite{trial}.{i}.{os.urandom(3).hex()}@rig.example.org" for i in range(invites)]
    statuses: list[int] = []
    seen_down: dict | None = None
    with requests.Session() as http:
        http.trust_env = False
        for i, address in enumerate(emails):
            if i == invites // 4:
                rig.redis.stop()
            if i == 3 * invites // 4:
                seen_down = http.get(f"{api.url}/readyz", timeout=10).json()
                rig.redis.start()
            r = http.post(
                f"{api.url}/api/v1/organisations/{rig.practice_id}/members",
                json={"email": address, "name": f"Invitee {i}", "role": "member"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(r.status_code)
    # A job a worker had taken when Redis stopped is handed over again by the relay once it
    # looks again (`outbox.RECHECK`, 60 s) and any claim of the dead run has lapsed (the mail
    # queue's 60 s timeout): allow for both.
    wait_for(lambda: len({m.to for m in rig.sink.snapshot()} & set(emails)) == invites, 240, 0.2)
    time.sleep(1.0)  # anything more would be a duplicate
    result = tally([m for m in rig.sink.snapshot() if m.to in set(emails)], set(emails))
    result.unexpected += sum(1 for s in statuses if s != 201)
    # While Redis was down, /readyz said so (200, not 503) and showed the waiting jobs.
    down = seen_down or {}
    if down.get("redis") != "down" or down.get("relay_backlog", {}).get("jobs", 0) < 1:
        result.unexpected += 1
    return result


def redis_lost_trial(rig: Rig, api: ApiServer, trial: int, invites: int = 12) -> Tally:
    """Invite people while no mail worker runs, so their jobs wait in Redis; then Redis loses
    everything (restarted without its files) and a worker starts. The relay finds the handed-over
    rows whose jobs the queue no longer holds (`outbox.RECHECK`) and hands them over again: every
    invitation arrives, once."""
    rig.sink.clear()
    token = rig.commons("token", rig.admin_email).strip()
    emails = [f"lost{trial}.{i}.{os.urandom(3).hex()}@rig.example.org" for i in range(invites)]
    statuses: list[int] = []
    with requests.Session() as http:
        http.trust_env = False
        for i, address in enumerate(emails):
            r = http.post(
                f"{api.url}/api/v1/organisations/{rig.practice_id}/members",
                json={"email": address, "name": f"Invitee {i}", "role": "member"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(r.status_code)
    queued = rig.redis.client().llen("rq:queue:mail")
    rig.redis.lose_everything()
    worker = rig.worker("mail", "default", burst=False)
    try:
        wanted = set(emails)
        wait_for(lambda: len({m.to for m in rig.sink.snapshot()} & wanted) == invites, 180, 0.2)
        time.sleep(1.0)  # anything more would be a duplicate
    finally:
        stop(worker)
    result = tally([m for m in rig.sink.snapshot() if m.to in set(emails)], set(emails))
    result.unexpected += sum(1 for s in statuses if s != 201)
    result.unexpected += queued != invites  # the jobs were all in Redis when it lost them
    return result


@contextlib.contextmanager
def rig(server_url: str, base: Path, readers: int = 30, smtp_delay: float = 0.03):
    """Everything a trial needs, torn down afterwards (the database dropped)."""
    from network.migrate import upgrade
    from tests import factories

    name = f"commons_delivery_{os.getpid()}_{os.urandom(3).hex()}"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(factories.fresh_database(server_url, name))
        upgrade(url)
        sink = stack.enter_context(Sink(delay=smtp_delay))
        redis = RedisServer(base / "redis")
        redis.start()
        stack.callback(redis.stop)
        to, not_to, admin, practice = seed(url, readers)
        r = Rig(url, base, sink, redis, to, not_to, admin, practice)
        stack.callback(r.close)
        yield r


def digest_sent(rig: Rig) -> int:
    return rig.digest_statuses().get(str(DigestStatus.sent), 0)


def people_count(rig: Rig) -> int:
    with rig.session() as s:
        return len(list(s.scalars(select(Person.id))))
