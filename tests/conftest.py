"""Test fixtures: schema built once by `alembic upgrade head`, each test in a rolled-back
transaction (`join_transaction_mode="create_savepoint"`), one database per xdist worker.

SQLite by default; `TEST_DATABASE_URL` (PostgreSQL) and `TEST_REDIS_URL` run the same suite
against real services, and a service that does not answer fails the run."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from network import migrate
from network.config import Settings, _database_url
from network.db import make_engine
from tests import factories


def _worker(config) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, request):
    raw = os.environ.get("TEST_DATABASE_URL")
    worker = _worker(request.config)
    if not raw:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / f'commons-{worker}.db'}"
        return
    url = make_url(_database_url(raw))
    # One database per run and worker: runs side by side on one server do not collide.
    name = f"{url.database or 'commons'}_test_{worker}_{os.getpid()}"
    with contextlib.ExitStack() as stack:
        try:
            fresh = stack.enter_context(
                factories.fresh_database(url.render_as_string(hide_password=False), name)
            )
        except Exception as exc:
            pytest.exit(
                f"TEST_DATABASE_URL is set but PostgreSQL does not answer: {exc}", returncode=3
            )
        yield fresh


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL") or None
    if url:
        from redis import Redis

        try:
            Redis.from_url(url).ping()
        except Exception as exc:
            pytest.exit(f"TEST_REDIS_URL is set but Redis does not answer: {exc}", returncode=3)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    migrate.upgrade(database_url)
    yield engine
    engine.dispose()  # before the database is dropped


@pytest.fixture
def connection(engine):
    conn = engine.connect()
    outer = conn.begin()
    if conn.dialect.name == "postgresql":
        # The content version's triggers run at commit, and a test never commits: run them
        # with each change instead, as they would at each request's commit.
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection):
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory):
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "instance"


@pytest.fixture
def settings(instance_path, database_url, redis_url) -> Settings:
    env = {"INSTANCE_PATH": str(instance_path), "DATABASE_URL": database_url}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return Settings.from_env(env)


@pytest.fixture
def app(settings, session_factory):
    app = create_app(settings, session_factory=session_factory)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def forget(app):
    """`forget()` empties the app's read cache: the next request works everything out, as the
    first request of a process does (to count what an uncached read costs)."""

    def forget() -> None:
        cache = app.extensions["commons"].read_cache
        if cache is not None:
            cache.clear()

    return forget


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def net(session):
    return factories.network(session)


@pytest.fixture
def auth(app):
    """`auth(person)` -> headers carrying a valid access token for that person."""

    def headers(person, **overrides) -> dict[str, str]:
        return {"Authorization": f"Bearer {factories.token(app, person, **overrides)}"}

    return headers


@pytest.fixture
def count_statements(connection):
    """Counts the SQL statements run on the test connection inside a `with` block."""

    class Counter:
        def __init__(self) -> None:
            self.statements: list[str] = []

        def __enter__(self):
            event.listen(connection, "before_cursor_execute", self._record)
            return self

        def __exit__(self, *exc) -> None:
            event.remove(connection, "before_cursor_execute", self._record)

        def _record(self, conn, cursor, statement, *args) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                self.statements.append(statement)

        @property
        def count(self) -> int:
            return len(self.statements)

    return Counter


@pytest.fixture
def frozen_after(tmp_path):
    """`frozen_after(code)` -> how many objects `gc.freeze()` holds once `code` has run in a
    fresh interpreter of this checkout (an empty SQLite database, no Redis)."""

    def run(code: str) -> int:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/commons.db")
        out = subprocess.run(  # noqa: S603 (the code is the calling test's own)
            [sys.executable, "-c", f"import gc; {code}; print(gc.get_freeze_count())"],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        return int(out.split()[-1])

    return run
