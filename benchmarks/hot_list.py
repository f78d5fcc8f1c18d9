"""Measure `GET /api/v1/problems?sort=hot` (25 items, as a practice member) at scales S and L,
against a bare Flask endpoint of the same body size and a hand-written SQL version of the list,
in one run on the same gunicorn settings (budget: DESIGN.md, "Performance budgets").

    apt-get install -y wrk                      # Debian's package (wrk 4.1)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/commons \\
        .venv/bin/python benchmarks/hot_list.py [--duration 15] [--workers 4]

1. Seeds scale S into `commons_bench_s` and L into `commons_bench_l` on the same server
   (created and migrated when missing; `commons seed bench` when the bench federation is not
   there yet).
2. Per scale: starts gunicorn `api.wsgi:app` (twice: `api` as configured, `api-nc` with
   `READ_CACHE_SIZE=0`, the read cache off) and gunicorn `benchmarks.bare_app:app` on loopback
   ports, mints a 60-minute token with `commons token EMAIL`, checks each endpoint answers 200.
3. Runs `wrk --latency` with 16 connections: a warm-up, then the measured run, per endpoint.
4. Prints requests/s, p50, p99 per endpoint and the ratios.

Everything is bounded in time, loopback only, and the servers are stopped on exit."""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from network import migrate
from network.bench import federation_name
from network.config import _database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_children: list[subprocess.Popen] = []


def _stop_all() -> None:
    for proc in _children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in _children:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    _children.clear()


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def ensure_database(admin_url: str, name: str, scale: str, env: dict) -> tuple[str, str]:
    """The scale's database, seeded; returns its URL and the benchmark member's email."""
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(
        make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        fed = conn.scalar(
            text("SELECT id FROM organisation WHERE kind = 'federation' AND name = :n"),
            {"n": federation_name(scale)},
        )
    if fed is None:
        print(f"seeding scale {scale} into {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "commons"), "seed", "bench", "--scale", scale],
            env={**env, "DATABASE_URL": url},
            check=True,
            timeout=1800,
        )
        print(f"seeded {scale} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    with engine.connect() as conn:
        # The member `seed bench` prints: the first plain member of the federation's first practice.
        email = conn.scalar(
            text(
                "SELECT p.email FROM person p JOIN membership m ON m.person_id = p.id "
                "JOIN organisation o ON o.id = m.organisation_id "
                "JOIN organisation pcn ON pcn.id = o.parent_id "
                "WHERE pcn.parent_id = (SELECT id FROM organisation WHERE kind = 'federation' "
                "AND name = :n) AND o.kind = 'practice' AND m.role = 'member' "
                "ORDER BY o.id, p.id LIMIT 1"
            ),
            {"n": federation_name(scale)},
        )
    engine.dispose()
    return url, email


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, env: dict, args: argparse.Namespace) -> str:
    port = _free_port()
    # The API's own gunicorn settings (api/gunicorn_conf.py, as in docker-compose.yml) for
    # every server in the run; --workers/--worker-class/--threads override them for experiments.
    cmd = [str(BIN / "gunicorn"), "--config", "python:api.gunicorn_conf"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    for flag, value in (
        ("--workers", args.workers),
        ("--worker-class", args.worker_class),
        ("--threads", args.threads),
    ):
        if value is not None:
            cmd += [flag, str(value)]
    cmd.append(app)
    # The servers' own output (the app logs every request) goes to a file, not the terminal.
    log = open(Path(env["INSTANCE_PATH"]) / f"gunicorn-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
    )
    _children.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn {app} exited with {proc.returncode}") from None
            time.sleep(0.2)
    raise SystemExit(f"gunicorn {app} did not listen within 30s")


def _server_settings(args: argparse.Namespace) -> str:
    from api import gunicorn_conf

    workers = args.workers or gunicorn_conf.workers
    worker_class = args.worker_class or gunicorn_conf.worker_class
    threads = args.threads or gunicorn_conf.threads
    return f"{workers} x {worker_class} (threads {threads})"


def fetch(url: str, token: str | None = None) -> bytes:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
        return response.read()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, token: str | None, args: argparse.Namespace, duration: int) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{duration}s", "--latency"]
    cmd += ["--timeout", "5s"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, check=True, timeout=duration + 30
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="S,L", help="comma-separated, e.g. S,M,L")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, help="default: api/gunicorn_conf.py (cores)")
    parser.add_argument("--worker-class", help="default: api/gunicorn_conf.py (gthread)")
    parser.add_argument("--threads", type=int, help="default: api/gunicorn_conf.py (1)")
    args = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    admin_url = _database_url(
        os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/commons"
    )
    if not admin_url.startswith("postgresql"):
        raise SystemExit("DATABASE_URL must be PostgreSQL")
    instance = Path(tempfile.mkdtemp(prefix="commons-bench-"))
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PORT")
    }
    base_env.update(INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT))

    results: dict[tuple[str, str], dict] = {}
    body_sizes: dict[str, int] = {}
    for scale in args.scales.split(","):
        url, email = ensure_database(admin_url, f"commons_bench_{scale.lower()}", scale, base_env)
        env = {**base_env, "DATABASE_URL": url}
        token = subprocess.run(
            [str(BIN / "commons"), "token", email, "--minutes", "60"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        person_id = int(
            create_engine(url)
            .connect()
            .execute(text("SELECT id FROM person WHERE email = :e"), {"e": email})
            .scalar()
        )
        api = start_gunicorn("api.wsgi:app", env, args)
        api_url = f"{api}/api/v1/problems?sort=hot&limit=25"
        body = fetch(api_url, token)
        body_sizes[scale] = len(body)
        body_file = instance / f"body-{scale}.json"
        body_file.write_bytes(body)
        bare = start_gunicorn(
            "benchmarks.bare_app:app",
            {
                **env,
                "BARE_BODY_FILE": str(body_file),
                "BENCH_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
                "BENCH_PERSON_ID": str(person_id),
            },
            args,
        )
        sql_body = fetch(f"{bare}/sql")
        print(
            f"scale {scale}: member {email} (person {person_id}); API body {len(body):,} bytes, "
            f"SQL body {len(sql_body):,} bytes",
            file=sys.stderr,
            flush=True,
        )
        # The same API with its read cache off: every request reads the database.
        uncached = start_gunicorn("api.wsgi:app", {**env, "READ_CACHE_SIZE": "0"}, args)
        uncached_url = f"{uncached}/api/v1/problems?sort=hot&limit=25"
        if fetch(uncached_url, token) != body:
            raise SystemExit("the API answers differently with its read cache off")
        for name, target, tok in (
            ("api", api_url, token),
            ("api-nc", uncached_url, token),
            ("bare", f"{bare}/bare", None),
            ("sql", f"{bare}/sql", None),
        ):
            wrk(target, tok, args, args.warmup)
            results[(scale, name)] = wrk(target, tok, args, args.duration)
            r = results[(scale, name)]
            print(
                f"  {name:<6} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  "
                f"p99 {r['p99']:6.2f} ms  non-2xx {r['non2xx']} {r['socket_errors']}",
                file=sys.stderr,
                flush=True,
            )
        _stop_all()

    print()
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs; gunicorn {_server_settings(args)}; "
        f"wrk -t2 -c{args.connections} -d{args.duration}s"
    )
    print(f"{'endpoint':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for (scale, name), r in results.items():
        print(
            f"{name + ' ' + scale:<14}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
            f"{r['non2xx']:>9}"
        )
    print()
    for scale in args.scales.split(","):
        a, b, s = (results[(scale, n)] for n in ("api", "bare", "sql"))
        print(
            f"scale {scale}: API/bare req/s {a['rps'] / b['rps']:.2f}, API/SQL req/s "
            f"{a['rps'] / s['rps']:.2f}; p50 API/bare {a['p50'] / b['p50']:.1f}x, "
            f"API/SQL {a['p50'] / s['p50']:.1f}x"
        )
    scales = args.scales.split(",")
    if "S" in scales and "L" in scales:
        ratio = results[("L", "api")]["p50"] / results[("S", "api")]["p50"]
        print(f"p50 L / p50 S (API): {ratio:.2f} (budget <= 1.2)")
    worst = results[(scales[-1], "api")]
    met = worst["rps"] >= 1000 and worst["p99"] <= 50
    print(
        f"budget (>= 1,000 req/s, p99 <= 50 ms at scale {scales[-1]}): "
        f"{'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
