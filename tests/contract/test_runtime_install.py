"""The production image's install, without Docker: a fresh virtualenv gets ONLY
requirements.lock (hash-checked) and then the project itself with `--no-deps`, as the Dockerfile
does; then, from outside the source tree, `commons db upgrade`, gunicorn answering /readyz,
`commons worker --help` and importing every module must work.

A package the code imports at run time but that is pinned only in requirements-dev.lock (the
.venv the rest of the suite runs in has both) fails here, rather than when the image starts.
Needs the package index (pip installs the lock); everything it builds lives in pytest's
temporary directory, nothing in the repository.

One test with subtests, not several tests sharing a module fixture: each xdist worker would
build its own virtualenv (`xdist_group` is not honoured with pytest 9 and pytest-xdist 3.8).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "network", "workers", "dispatch")
# With the packages, what the Dockerfile copies before `pip install --no-deps .`.
PROJECT_FILES = ("pyproject.toml", "README.md")
PIP_TIMEOUT = 600
COMMAND_TIMEOUT = 120
READY_TIMEOUT = 60.0

# What the processes under test must not inherit from whoever runs the suite (pytest-xdist puts
# the repository on PYTHONPATH): only this test configures the install (network/config.py,
# api/gunicorn_conf.py).
INHERITED_SETTINGS = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "GUNICORN_CMD_ARGS",
    "DATABASE_URL",
    "REDIS_URL",
    "MAIL_URL",
    "MAIL_FROM",
    "API_URL",
    "PUBLIC_URL",
    "PORT",
    "SIGNING_KEY_FILE",
    "SECRET_KEY",
    "CORS_ORIGINS",
    "OIDC_ISSUERS",
    "TRUSTED_PROXIES",
    "READ_CACHE_SIZE",
    "INSTANCE_PATH",
    "WEB_CONCURRENCY",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
)

# Run by the script below in the installed virtualenv: not only what starting the server
# touches (a job module importing a dev-only package would fail on the worker, later).
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, traceback
failures = []
for top in ("api", "network", "workers", "dispatch"):
    package = importlib.import_module(top)
    for module in pkgutil.walk_packages(package.__path__, top + "."):
        if module.name.startswith("network.migrations"):  # run by Alembic, not importable alone
            continue
        try:
            importlib.import_module(module.name)
        except BaseException as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            error = traceback.format_exception_only(exc)[-1].strip()
            failures.append(f"{module.name}: {error} ({where.filename}:{where.lineno})")
print("\\n".join(failures))
"""


@dataclass(frozen=True)
class Install:
    bin: Path
    site_packages: Path
    source: Path  # the copy of the project that was installed
    workdir: Path  # the current directory of every command: outside the source tree
    env: dict[str, str]

    def run(self, *args: str | Path, timeout: float = COMMAND_TIMEOUT) -> str:
        return _run([str(a) for a in args], cwd=self.workdir, env=self.env, timeout=timeout)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run a command; on failure, fail the test with its whole output."""
    try:
        done = subprocess.run(  # noqa: S603 (our own commands)
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout:.0f} s\n{_output(exc)}")
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited with {done.returncode}\n{_output(done)}")
    return done.stdout


def _output(result: subprocess.CompletedProcess | subprocess.TimeoutExpired) -> str:
    def text(value: str | bytes | None) -> str:
        return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

    return f"--- stdout ---\n{text(result.stdout)}\n--- stderr ---\n{text(result.stderr)}"


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in INHERITED_SETTINGS and not k.startswith("FLASK_")
    }
    env |= {
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return env


def _copy_project(dest: Path) -> None:
    """What the Dockerfile copies, so that building the wheel writes nothing into the repo."""
    dest.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)


@pytest.fixture
def installed(tmp_path: Path) -> Install:
    source, venv, workdir, instance = (tmp_path / d for d in ("src", "venv", "work", "instance"))
    workdir.mkdir()
    _copy_project(source)
    env = _clean_env()
    # The interpreter of the suite (the lock is compiled for its version), in a venv of its own.
    _run([sys.executable, "-m", "venv", str(venv)], cwd=workdir, env=env, timeout=COMMAND_TIMEOUT)
    bin_ = venv / "bin"
    pip = [str(bin_ / "python"), "-m", "pip", "install", "--quiet"]
    lock = ["--require-hashes", "-r", str(ROOT / "requirements.lock")]
    _run(pip + lock, cwd=workdir, env=env, timeout=PIP_TIMEOUT)
    _run([*pip, "--no-deps", str(source)], cwd=workdir, env=env, timeout=PIP_TIMEOUT)

    env |= {
        "PATH": f"{bin_}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'commons.db'}",
        "WEB_CONCURRENCY": "1",
    }
    purelib = _run(
        [str(bin_ / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=workdir,
        env=env,
        timeout=COMMAND_TIMEOUT,
    )
    return Install(
        bin=bin_,
        site_packages=Path(purelib.strip()).resolve(),
        source=source,
        workdir=workdir,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="the runtime install does not depend on the database: it ran in the SQLite pass",
)
def test_the_runtime_lock_alone_runs_the_app(
    installed: Install, subtests: pytest.Subtests, tmp_path: Path
) -> None:
    with subtests.test("the packages import from site-packages, not the source tree"):
        check_imports_resolve_to_the_install(installed)
    with subtests.test("every module and data file is installed"):
        check_every_file_is_installed(installed)
    with subtests.test("commons db upgrade"):
        check_db_upgrade(installed)
    with subtests.test("gunicorn answers /readyz"):
        check_gunicorn_ready(installed, tmp_path / "gunicorn.log")
    with subtests.test("commons worker --help"):
        out = installed.run(installed.bin / "commons", "worker", "--help")
        assert "Run jobs from Redis" in out
    with subtests.test("every module imports"):
        failures = installed.run(installed.bin / "python", "-c", IMPORT_EVERY_MODULE).strip()
        if failures:
            pytest.fail(f"modules that do not import from the runtime install:\n{failures}")


def check_imports_resolve_to_the_install(installed: Install) -> None:
    out = installed.run(
        installed.bin / "python",
        "-c",
        "import json, api, network, workers; "
        "print(json.dumps({m.__name__: m.__file__ for m in (api, network, workers)}))",
    )
    for name, file in json.loads(out).items():
        path = Path(file).resolve()
        assert path.is_relative_to(installed.site_packages), f"{name} imported from {path}"
        assert not path.is_relative_to(ROOT), f"{name} imported from the source tree: {path}"


def check_every_file_is_installed(installed: Install) -> None:
    """Every module and data file (migrations, templates, static) of the packages is in
    site-packages: a non-editable install has nothing else. A data file that pyproject's
    `[tool.setuptools.package-data]` does not name is missing here."""
    source_files = {
        path.relative_to(installed.source)
        for package in PACKAGES
        for path in (installed.source / package).rglob("*")
        if path.is_file()
    }
    assert Path("network/migrations/script.py.mako") in source_files
    missing = sorted(str(p) for p in source_files if not (installed.site_packages / p).is_file())
    assert not missing, (
        f"not in the installed package (add them to [tool.setuptools.package-data]): {missing}"
    )


def check_db_upgrade(installed: Install) -> None:
    out = installed.run(installed.bin / "commons", "db", "upgrade")
    assert "database at head" in out
    database = installed.env["DATABASE_URL"].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as db:
        versions = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(versions) == 1, versions


def check_gunicorn_ready(installed: Install, log: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/readyz"
    gunicorn = [str(installed.bin / "gunicorn"), "-c", "python:api.gunicorn_conf"]
    command = [*gunicorn, "--bind", f"127.0.0.1:{port}", "api.wsgi:app"]
    with _started(command, installed, log) as process:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                    body = json.loads(response.read())
                    assert (body["status"], body["database"]) == ("ok", "ok")
                    return
            except urllib.error.HTTPError as exc:
                last = f"{exc.code} {exc.read()[:500]!r}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.25)
        pytest.fail(
            f"GET /readyz gave no 200 in {READY_TIMEOUT:.0f} s (last: {last}); "
            f"gunicorn's output:\n{log.read_text()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _started(cmd: list[str], installed: Install, log: Path) -> Iterator[subprocess.Popen]:
    """A server in a process group of its own, killed with its workers whatever happens."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own command)
            cmd,
            cwd=installed.workdir,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
        process.wait(timeout=5)
