"""A real server per backend, started once per test session (and xdist worker), for tests that
fire truly parallel HTTP requests at it.

- `sqlite`: the embedded default that `make run` serves: `commons db upgrade`, then
  `commons run` (the Flask CLI's threaded development server) over a SQLite file.
- `postgresql`: the production shape: a fresh PostgreSQL database, migrated, served by gunicorn
  with several sync processes (`api/gunicorn_conf.py`, `WEB_CONCURRENCY=3`), and Redis when
  `TEST_REDIS_URL` is set. Only with `TEST_DATABASE_URL`; skipped otherwise.

Each server gets a port from the OS, its own instance directory (tmp_path_factory) and, on
PostgreSQL, a database named after the xdist worker and the pid: workers never share one. The
tests seed the server's database directly (factories, then COMMIT) and mint tokens with the key
file in the shared instance directory."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.auth import keys as signing_keys
from network import migrate
from network.config import Settings, _database_url
from network.db import make_engine, make_session_factory
from network.organisations.models import Organisation
from network.people.models import Person, Role
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BACKENDS = ["sqlite", "postgresql"]
READY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0
# A 503 with Retry-After is retried like a real client would: at most this many tries in all,
# waiting what the server asks (capped).
MAX_TRIES = 5
MAX_RETRY_AFTER = 10.0

# Settings a developer's shell (or CI) may export that must not leak into the servers.
_SERVER_ENV_DROP = {
    "DATABASE_URL",
    "REDIS_URL",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
    "INSTANCE_PATH",
    "PORT",
    "API_URL",
    "PUBLIC_URL",
    "MAIL_URL",
    "SIGNING_KEY_FILE",
    "SECRET_KEY",
    "CORS_ORIGINS",
    "OIDC_ISSUERS",
    "TRUSTED_PROXIES",
    "READ_CACHE_SIZE",
    "WEB_CONCURRENCY",
}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """End the server and its children (its own process group: start_new_session). SIGINT:
    gunicorn's quick shutdown (SIGTERM waits for its workers), Ctrl+C for `commons run`."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output)"
    return text if len(text) <= limit else "...\n" + text[-limit:]


# --- the client -----------------------------------------------------------------------------


def _http() -> requests.Session:
    """A new connection per request, straight to the server: no proxy from the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


@dataclass
class Outcome:
    """One logical request: its final response, and the status of every try (503s retried)."""

    label: str
    status: int  # 0: no response at all (connection error, exception)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    tries: list[int] = field(default_factory=list)
    error: str | None = None

    def __repr__(self) -> str:  # short: pytest prints lists of them
        return f"<{self.label}: {self.tries} -> {self.status}>"

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag") or self.headers.get("etag")


def describe(outcomes: Sequence[Outcome], server_errors: str = "") -> str:
    """The statuses seen, and each distinct failing answer with the requests that got it."""
    final = Counter(o.status for o in outcomes)
    tries = Counter(s for o in outcomes for s in o.tries)
    lines = [
        f"final statuses {dict(sorted(final.items()))}; every try {dict(sorted(tries.items()))}"
    ]
    failing: dict[str, list[str]] = {}
    for o in outcomes:
        if o.status == 0 or o.status >= 500 or any(s >= 500 for s in o.tries):
            answer = f"tries {o.tries} -> {o.status}: {o.error or o.body!r}"[:400]
            failing.setdefault(answer, []).append(o.label)
    for answer, labels in failing.items():
        lines.append(f"  {len(labels)} x ({', '.join(labels)}) {answer}")
    if server_errors:
        lines.append("the server logged:\n" + server_errors)
    return "\n".join(lines)


def _server_failures(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """5xx are failures, except a 503 that said when to come back (and then a retry answered)."""
    return [
        o
        for o in outcomes
        if o.status == 0
        or o.status >= 500
        or o.error is not None
        or any(s >= 500 and s != 503 for s in o.tries)
    ]


# --- the server -----------------------------------------------------------------------------


@dataclass
class Network:
    """A fresh federation > PCN > practices, with members per practice and a federation admin."""

    federation: Organisation
    pcn: Organisation
    practices: list[Organisation]
    members: list[list[Person]]  # members[i]: the members of practices[i]
    admin: Person  # administers the federation (so every organisation under it)


@dataclass
class LiveServer:
    backend: str
    base_url: str
    env: dict[str, str]
    settings: Settings
    session_factory: sessionmaker
    log_path: Path
    proc: subprocess.Popen

    # Seeding and checking, straight in the server's database.

    @contextlib.contextmanager
    def seed(self) -> Iterator[Session]:
        """A session on the server's database, committed at the end (factories only flush)."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def scalar(self, statement) -> Any:
        with self.session_factory() as session:
            return session.scalar(statement)

    def count(self, model, *where) -> int:
        return self.scalar(select(func.count()).select_from(model).where(*where))

    def network(
        self, practices: int = 1, members: int | Sequence[int] = 1, *, role: Role = Role.member
    ) -> Network:
        """Fresh objects with unique names and emails: tests sharing one server never meet."""
        tag = uuid.uuid4().hex[:10]
        per_practice = [members] * practices if isinstance(members, int) else list(members)
        assert len(per_practice) == practices
        with self.seed() as s:
            fed = factories.organisation(s, "federation", name=f"Federation {tag}")
            pcn = factories.organisation(s, "pcn", fed, name=f"PCN {tag}")
            orgs = [
                factories.organisation(s, "practice", pcn, name=f"Practice {i} {tag}")
                for i in range(practices)
            ]
            people = [
                [
                    factories.person(
                        s,
                        name=f"Member {j} of practice {i} {tag}",
                        email=f"m{j}.p{i}.{tag}@live.example.org",
                        member_of=org,
                        role=role,
                    )
                    for j in range(count)
                ]
                for i, (org, count) in enumerate(zip(orgs, per_practice, strict=True))
            ]
            admin = factories.person(
                s,
                name=f"Admin {tag}",
                email=f"admin.{tag}@live.example.org",
                member_of=fed,
                role=Role.admin,
            )
        return Network(fed, pcn, orgs, people, admin)

    # HTTP.

    def token(self, person: Person) -> str:
        return factories.token_for_settings(self.settings, person)

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        label: str = "",
    ) -> Outcome:
        """One request to /api/v1`path`; a 503 carrying Retry-After is retried after that many
        seconds, up to MAX_TRIES tries in all. Never raises: errors come back as status 0."""
        url = f"{self.base_url}/api/v1{path}"
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        outcome = Outcome(label=label or f"{method} {path}", status=0)
        for _ in range(MAX_TRIES):
            try:
                with _http() as http:
                    r = http.request(method, url, json=json, headers=sent, timeout=REQUEST_TIMEOUT)
            except Exception as exc:
                outcome.status, outcome.error = 0, repr(exc)
                outcome.tries.append(0)
                return outcome
            outcome.tries.append(r.status_code)
            outcome.status, outcome.headers = r.status_code, dict(r.headers)
            try:
                outcome.body = r.json()
            except ValueError:
                outcome.body = r.text[:2000]
            retry_after = r.headers.get("Retry-After")
            if r.status_code != 503 or retry_after is None:
                return outcome
            try:
                wait = float(retry_after)
            except ValueError:
                wait = 1.0  # an HTTP date: not expected from this API
            time.sleep(min(max(wait, 0.0), MAX_RETRY_AFTER))
        return outcome

    def ok(self, method: str, path: str, token: str, expected: int = 200, **kwargs) -> Outcome:
        """A single request that must succeed (set-up and final checks)."""
        outcome = self.call(method, path, token, **kwargs)
        assert outcome.status == expected, describe([outcome]) + f"\nbody: {outcome.body!r}"
        return outcome

    # Bursts and their checks.

    def burst(self, calls: Sequence[Callable[[], Outcome]]) -> list[Outcome]:
        """Run every call on its own thread, all released at once by a barrier."""
        self._log_mark = self._log_size()
        barrier = threading.Barrier(len(calls))
        results: list[Outcome | None] = [None] * len(calls)

        def run(i: int) -> None:
            try:
                barrier.wait(timeout=30)
                results[i] = calls[i]()
            except Exception as exc:
                results[i] = Outcome(label=f"call {i}", status=0, error=repr(exc))

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=REQUEST_TIMEOUT * MAX_TRIES + 30)
        return [
            r or Outcome(label=f"call {i}", status=0, error="no result")
            for i, r in enumerate(results)
        ]

    def expect_no_server_errors(self, outcomes: Sequence[Outcome]) -> None:
        if _server_failures(outcomes):
            pytest.fail(
                f"server errors on {self.backend}:\n" + describe(outcomes, self.server_errors()),
                pytrace=False,
            )

    def expect(self, outcomes: Sequence[Outcome], expected: dict[int, int]) -> None:
        """No server errors, and exactly these final statuses (status: how many)."""
        self.expect_no_server_errors(outcomes)
        got = Counter(o.status for o in outcomes)
        if got != Counter(expected):
            pytest.fail(
                f"expected {dict(sorted(expected.items()))} on {self.backend}, got\n"
                + describe(outcomes, self.server_errors()),
                pytrace=False,
            )

    # The server's output.

    _log_mark: int = field(default=0, init=False, repr=False)

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def server_errors(self) -> str:
        """The exceptions the server logged since the last burst, counted."""
        with open(self.log_path, "rb") as f:
            f.seek(self._log_mark)
            text = f.read().decode(errors="replace")
        found = Counter(m.group(0)[:240] for m in _EXCEPTION_LINE.finditer(text))
        return "\n".join(f"  {n} x {line}" for line, n in found.most_common(10))

    def log(self) -> str:
        return _tail(self.log_path)


# The last line of a traceback in the server's plain-text output: `module.SomeError: message`.
_EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Violation)\b.*$", re.M
)


# --- starting servers -----------------------------------------------------------------------


def _base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SERVER_ENV_DROP and not k.startswith(("FLASK_", "GUNICORN_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 (our own commands)
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _start(
    backend: str, make_cmd: Callable[[int], list[str]], app_env: Callable[[int], dict], logs: Path
) -> tuple[subprocess.Popen, int, Path]:
    """Start the server on a free port and wait for /readyz; retried on another port when the
    one the OS gave was taken meanwhile. Fails with the server's output."""
    for attempt in itertools.count(1):
        port = _free_port()
        log_path = logs / f"{backend}-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 (our own commands)
                make_cmd(port),
                cwd=ROOT,
                env=_base_env(app_env(port)),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                _stop(proc)
                output = _tail(log_path)
                if "already in use" in output and attempt < 3:
                    break  # try another port
                pytest.fail(f"{backend} server exited with {proc.returncode}:\n{output}")
            try:
                with _http() as http:
                    r = http.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if r.status_code == 200:
                    return proc, port, log_path
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(
                    f"{backend} server did not answer GET /readyz with 200 within "
                    f"{READY_TIMEOUT:.0f}s:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
    raise AssertionError("unreachable")


# The live server's queued jobs (invitation mail) go to a Redis database of their own: the
# worker tests empty and count the suite's queues, and must not meet these.
LIVE_REDIS_DB = 14


def _own_redis_database(url: str | None) -> str | None:
    if not url:
        return None
    return urlsplit(url)._replace(path=f"/{LIVE_REDIS_DB}").geturl()


@pytest.fixture(scope="session", params=BACKENDS)
def live(request, tmp_path_factory) -> Iterator[LiveServer]:
    backend = request.param
    worker = _worker()
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            base = tmp_path_factory.mktemp(f"live-sqlite-{worker}")
            instance = base / "instance"
            database_url = f"sqlite:///{base / 'commons.db'}"
            redis_url = None
            cmd = [str(BIN / "commons"), "run", "--host", "127.0.0.1", "--port", "{port}"]
        else:
            raw = os.environ.get("TEST_DATABASE_URL")
            if not raw:
                pytest.skip("PostgreSQL + gunicorn: set TEST_DATABASE_URL (and TEST_REDIS_URL)")
            base = tmp_path_factory.mktemp(f"live-postgresql-{worker}")
            instance = base / "instance"
            server = make_url(_database_url(raw))
            name = f"{server.database or 'commons'}_live_{worker}_{os.getpid()}"
            # Failing to create it is a failure (not a skip): TEST_DATABASE_URL says it is there.
            database_url = stack.enter_context(
                factories.fresh_database(server.render_as_string(hide_password=False), name)
            )
            redis_url = _own_redis_database(os.environ.get("TEST_REDIS_URL"))
            cmd = [
                str(BIN / "gunicorn"),
                "-c",
                "python:api.gunicorn_conf",
                "--bind",
                "127.0.0.1:{port}",
                "api.wsgi:app",
            ]

        def app_env(port: int) -> dict[str, str]:
            env = {
                "INSTANCE_PATH": str(instance),
                "DATABASE_URL": database_url,
                "PORT": str(port),
                "API_URL": f"http://127.0.0.1:{port}",
            }
            if redis_url:
                env["REDIS_URL"] = redis_url
            if backend == "postgresql":
                env["WEB_CONCURRENCY"] = "3"
            return env

        # Migrate, and make the signing key before any process wants it: the server and the
        # tests then read the same file. SQLite as `make run` does it (`commons db upgrade`);
        # PostgreSQL in this process, which has the migrations loaded already (seconds faster).
        first = Settings.from_env(app_env(0))
        if backend == "sqlite":
            _run([str(BIN / "commons"), "db", "upgrade"], _base_env(app_env(0)), "db upgrade")
        else:
            migrate.upgrade(first.database_url)
        signing_keys.load(first.signing_key_file, generate=True)

        proc, port, log_path = _start(
            backend, lambda p: [part.replace("{port}", str(p)) for part in cmd], app_env, base
        )
        stack.callback(_stop, proc)
        env = app_env(port)
        settings = Settings.from_env(env)
        engine = make_engine(settings.database_url)
        stack.callback(engine.dispose)  # before the database is dropped
        server = LiveServer(
            backend=backend,
            base_url=f"http://127.0.0.1:{port}",
            env=env,
            settings=settings,
            session_factory=make_session_factory(engine),
            log_path=log_path,
            proc=proc,
        )
        yield server
        if proc.poll() is not None:
            pytest.fail(f"the {backend} server died during the tests:\n{server.log()}")
