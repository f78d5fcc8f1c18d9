"""Measure `GET /api/v1/problems?sort=hot` (25 items, as a practice member) at scales S and L,
against a bare Flask endpoint of the same body size and a hand-written SQL version of the list,
in one run on the same gunicorn settings (budget: DESIGN.md, "Performance budgets").

    apt-get install -y wrk                      # Debian's package (wrk 4.1)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/commons \\
        .venv/bin/python benchmarks/hot_list.py [--rounds 3] [--duration 10] [--readers 100]

1. Seeds scale S into `commons_bench_s` and L into `commons_bench_l` on the same server
   (created and migrated when missing; `commons seed bench` when the bench federation is not
   there yet).
2. Per scale: starts gunicorn `api.wsgi:app` (twice: `api` as configured, `api-nc` with
   `READ_CACHE_SIZE=0`, the read cache off) and gunicorn `benchmarks.bare_app:app` on loopback
   ports, mints 60-minute tokens with `commons token`, checks each endpoint answers 200. All
   servers of all scales run for the whole measurement.
3. At the last scale, also the API's list read by one member of each of `--readers` practices in
   turn (`api L x100`), alone and beside a writer that says "we have this too" and withdraws it
   at each rate of `--write-rates` (each write empties every process's read cache).
4. Runs `wrk --latency` with 16 connections per endpoint (a warm-up the first time), every
   endpoint in turn, S next to L, for `--rounds` rounds. The uncached list and the SQL endpoint
   are measured side by side, in turn in `--slices` short slices each (A B B A ...), since
   their ratio is a budget; `--only` measures just the endpoints named.
5. Prints the median of the rounds per endpoint with the lowest and highest, the ratios, and
   whether the budget was met in each round.

Everything is bounded in time and on loopback, and the servers are stopped on exit. The writer's
signal ends as it began (its problem's last activity and the activity feed keep the writes)."""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from network import migrate
from network.config import _database_url
from network.seed.bench import federation_name

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


def ensure_database(admin_url: str, name: str, scale: str, env: dict) -> str:
    """The scale's database, created, migrated and seeded when it is not yet; returns its URL."""
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
    engine.dispose()
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
    return url


def readers(url: str, scale: str, count: int) -> list[tuple[int, str]]:
    """(id, email) of the first plain member of each of the scale's first `count` practices
    (for N, practices of the first federations, in id order): readers with different sets of
    boards. The first is the member `seed bench` prints, the one the single-reader endpoints
    read as."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (o.id) p.id, p.email FROM person p "
                "JOIN membership m ON m.person_id = p.id "
                "JOIN organisation o ON o.id = m.organisation_id "
                "JOIN organisation pcn ON pcn.id = o.parent_id "
                "JOIN organisation f ON f.id = pcn.parent_id "
                "WHERE (f.name = :n OR f.name LIKE :others) "
                "AND o.kind = 'practice' AND m.role = 'member' "
                "ORDER BY o.id, p.id LIMIT :count"
            ),
            {"n": federation_name(scale), "others": f"{federation_name(scale)}-%", "count": count},
        ).all()
    engine.dispose()
    return [(person_id, email) for person_id, email in rows]


def outsiders(url: str, scale: str, reader_ids: list[int], count: int) -> list[str]:
    """Emails of plain members of `count` practices in as many federations none of the readers
    is in, one each: the writers elsewhere."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "WITH fed AS (SELECT o.id AS practice, pcn.parent_id AS federation "
                "  FROM organisation o JOIN organisation pcn ON pcn.id = o.parent_id "
                "  WHERE o.kind = 'practice'), "
                "mine AS (SELECT DISTINCT fed.federation FROM membership m "
                "  JOIN fed ON fed.practice = m.organisation_id WHERE m.person_id = ANY(:readers)) "
                "SELECT DISTINCT ON (fed.federation) p.email FROM person p "
                "JOIN membership m ON m.person_id = p.id AND m.role = 'member' "
                "JOIN fed ON fed.practice = m.organisation_id "
                "JOIN organisation f ON f.id = fed.federation "
                "WHERE f.name LIKE :prefix AND fed.federation NOT IN (SELECT federation FROM mine) "
                "ORDER BY fed.federation, p.id LIMIT :count"
            ),
            {"readers": reader_ids, "prefix": f"{federation_name(scale)}%", "count": count},
        ).all()
    engine.dispose()
    return [email for (email,) in rows]


def work_pages(url: str, person_id: int) -> list[tuple[str, str]]:
    """(name, path) of issue 22's new pages as the reader sees them: an active workstream of
    their PCN that charts a measure, its actions, its agenda, that measure's SPC response, and
    a library search. None when the scale has no joint work (S, M, L)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT w.id, m.id FROM workstream w JOIN measure m ON m.workstream_id = w.id "
                "JOIN organisation practice ON practice.parent_id = w.organisation_id "
                "JOIN membership mb ON mb.organisation_id = practice.id "
                "WHERE mb.person_id = :p AND w.status = 'active' ORDER BY w.id, m.id LIMIT 1"
            ),
            {"p": person_id},
        ).first()
    engine.dispose()
    if found is None:
        return []
    ws, measure = found
    base = f"/api/v1/workstreams/{ws}"
    return [
        ("workstream", base),
        ("actions", f"{base}/actions"),
        ("agenda", f"{base}/agenda"),
        ("spc", f"{base}/measures/{measure}/spc"),
        ("library", "/api/v1/library?q=huddle"),
    ]


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
    threads = args.threads or getattr(gunicorn_conf, "threads", 1)
    return f"{workers} x {worker_class}" + (f" ({threads} threads)" if threads > 1 else "")


def mint_tokens(env: dict, emails: list[str]) -> list[str]:
    tokens = subprocess.run(
        [str(BIN / "commons"), "token", *emails, "--minutes", "60"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    if len(tokens) != len(emails):
        raise SystemExit(f"commons token printed {len(tokens)} tokens for {len(emails)} people")
    return tokens


def fetch(url: str, token: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if method == "PUT":
        request.add_header("Content-Type", "application/json")
        request.data = b"{}"
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def fetch_ok(url: str, token: str | None = None) -> bytes:
    status, body = fetch(url, token)
    if status != 200:
        raise SystemExit(f"{url} answered {status}")
    return body


# Each wrk thread sends the requests in turn with each reader's token, starting at a random one.
ROTATE_TOKENS = """
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do tokens[#tokens + 1] = line end
local i = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[i]})
end
"""


class Writer(threading.Thread):
    """Writes through the API at a steady rate while a measurement runs: "we have this too" for a
    problem on a shared board, then withdrawn, in turn, so the data ends as it began. Each write
    changes a problem's count, so every process's read cache is emptied by it."""

    def __init__(self, base: str, token: str, problem_id: int, rate: float):
        super().__init__(daemon=True)
        self.url = f"{base}/api/v1/problems/{problem_id}/affected"
        self.token, self.rate = token, rate
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.signalled: bool | None = None  # the practice's signal as the writer found it
        self.state: bool | None = None

    def _write(self, method: str, measured: bool = True) -> None:
        started = time.perf_counter()
        try:
            status, _ = fetch(self.url, self.token, method)
        except urllib.error.HTTPError as exc:
            status = exc.code
        if measured:
            self.latencies.append((time.perf_counter() - started) * 1000)
        if status not in (200, 201, 204):
            self.failures.append(f"{method} {status}")
        if self.signalled is None:
            self.signalled = status == 200  # PUT answers 200 when the signal was already there
        self.state = method == "PUT"

    def run(self) -> None:
        began = time.monotonic()
        n = 0
        while not self.stop.is_set():
            self._write("PUT" if n % 2 == 0 else "DELETE")
            n += 1
            self.stop.wait(max(0.0, began + n / self.rate - time.monotonic()))
        if self.signalled is not None and self.state != self.signalled:
            self._write("PUT" if self.signalled else "DELETE", measured=False)


def pick_write(base: str, token: str, board_kind: str | None = None) -> int:
    """A problem the writer reads on a shared board (of `board_kind`, when given: "pcn" for
    their own PCN's), posted by another practice."""
    me = orjson.loads(fetch_ok(f"{base}/api/v1/me", token))
    mine = {m["organisation"]["id"] for m in me["memberships"]}
    cursor = ""
    for _ in range(20):  # pages of the hot list, until one fits
        page = orjson.loads(fetch_ok(f"{base}/api/v1/problems?sort=hot&limit=100{cursor}", token))
        for item in page["items"]:
            if (
                item["practice"]
                and item["practice"]["id"] not in mine
                and item["board"]["id"] not in mine
                and (board_kind is None or item["board"]["kind"] == board_kind)
            ):
                return item["id"]
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    raise SystemExit(f"no problem of another practice on a {board_kind or 'shared'} board")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * _UNITS[unit]


@dataclass
class Endpoint:
    name: str
    url: str
    token: str | None = None
    tokens_file: Path | None = None  # many readers: each request with the next reader's token
    # Writers beside the readers: (API base, token, problem, writes/s) each.
    writes: tuple[tuple[str, str, int, float], ...] = ()


def wrk(endpoint: Endpoint, args: argparse.Namespace, duration: int, script: Path) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{duration}s", "--latency"]
    cmd += ["--timeout", "5s"]
    env = dict(os.environ)
    if endpoint.token:
        cmd += ["-H", f"Authorization: Bearer {endpoint.token}"]
    if endpoint.tokens_file:
        cmd += ["--script", str(script)]
        env["BENCH_TOKENS_FILE"] = str(endpoint.tokens_file)
    writers = [Writer(*w) for w in endpoint.writes]
    for writer in writers:
        writer.start()
    try:
        out = subprocess.run(
            [*cmd, endpoint.url],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 30,
            env=env,
        ).stdout
    finally:
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=30)
    failures = [f for writer in writers for f in writer.failures]
    if failures:
        raise SystemExit(f"{endpoint.name}: writes failed: {failures[:5]}")
    latencies = [ms for writer in writers for ms in writer.latencies]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "writes": len(latencies),
        "write_p50": statistics.median(latencies) if latencies else None,
    }


def interleaved(a: Endpoint, b: Endpoint, args: argparse.Namespace, script: Path) -> dict:
    """`a` and `b` measured in turn in `--slices` slices each (A B B A A B ...), for the same
    `--duration` in all: each one's req/s and p50 are the medians of its slices, p99 the
    highest (the worst slice, not an average of tails). Two endpoints measured ten seconds
    apart on a shared machine differ by whatever the machine did meanwhile; side by side, a
    slow spell costs both, and a stall within one slice (seen: a 5-second stop of the machine
    in one 2-second slice) does not decide the figure."""
    slices = max(1, args.slices)
    seconds = max(1, round(args.duration / slices))
    got: dict[str, list[dict]] = {a.name: [], b.name: []}
    for i in range(slices):
        for endpoint in (a, b) if i % 2 == 0 else (b, a):
            got[endpoint.name].append(wrk(endpoint, args, seconds, script))
    return {
        name: {
            "rps": statistics.median(r["rps"] for r in rs),
            "p50": statistics.median(r["p50"] for r in rs),
            "p99": max(r["p99"] for r in rs),
            "non2xx": sum(r["non2xx"] for r in rs),
            "socket_errors": " ".join(r["socket_errors"] for r in rs if r["socket_errors"]),
            "writes": 0,
            "write_p50": None,
            "slices": [r["rps"] for r in rs],
        }
        for name, rs in got.items()
    }


def _print_result(name: str, r: dict) -> None:
    writes = f"  {r['writes']} writes, p50 {r['write_p50']:.1f} ms" if r["writes"] else ""
    slices = f"  slices {', '.join(f'{v:.0f}' for v in r['slices'])}" if r.get("slices") else ""
    print(
        f"  {name:<20} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  "
        f"p99 {r['p99']:6.2f} ms  non-2xx {r['non2xx']} {r['socket_errors']}{writes}{slices}",
        file=sys.stderr,
        flush=True,
    )


def start_scale(scale: str, admin_url: str, base_env: dict, args, last: bool) -> list[Endpoint]:
    """The scale's servers (API, API without its read cache, bare and SQL yardsticks) and its
    endpoints; at the last scale also many readers, with and without writers."""
    name = f"commons_bench_{scale.lower()}{args.database_suffix}"
    url = ensure_database(admin_url, name, scale, base_env)
    env = {**base_env, "DATABASE_URL": url}
    members = readers(url, scale, args.readers if last else 1)
    if not members:
        raise SystemExit(f"no plain practice member in {federation_name(scale)}")
    person_id, email = members[0]
    tokens = mint_tokens(env, [e for _, e in members])
    instance = Path(env["INSTANCE_PATH"])
    api = start_gunicorn("api.wsgi:app", env, args)
    path = "/api/v1/problems?sort=hot&limit=25"
    body = fetch_ok(f"{api}{path}", tokens[0])
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
    sql_body = fetch_ok(f"{bare}/sql")
    # The same API with its read cache off: every request reads the database.
    uncached = start_gunicorn("api.wsgi:app", {**env, "READ_CACHE_SIZE": "0"}, args)
    if fetch_ok(f"{uncached}{path}", tokens[0]) != body:
        raise SystemExit("the API answers differently with its read cache off")
    print(
        f"scale {scale}: member {email} (person {person_id}); API body {len(body):,} bytes, "
        f"SQL body {len(sql_body):,} bytes",
        file=sys.stderr,
        flush=True,
    )
    endpoints = [
        Endpoint(f"api {scale}", f"{api}{path}", tokens[0]),
        Endpoint(f"api-nc {scale}", f"{uncached}{path}", tokens[0]),
        Endpoint(f"bare {scale}", f"{bare}/bare"),
        Endpoint(f"sql {scale}", f"{bare}/sql"),
    ]
    if last:
        pages = work_pages(url, person_id)
        for name, page in pages:
            fetch_ok(f"{api}{page}", tokens[0])
            endpoints.append(Endpoint(f"{name} {scale}", f"{api}{page}", tokens[0]))
        # The same pages worked out on every request: what a first reader, or a reader just
        # after a change, waits for.
        for name, page in pages:
            endpoints.append(Endpoint(f"{name}-nc {scale}", f"{uncached}{page}", tokens[0]))
    if last and args.readers > 1:
        tokens_file = instance / f"tokens-{scale}.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        for token in tokens:  # every reader answers before anything is measured
            fetch_ok(f"{api}{path}", token)
        problem = pick_write(api, tokens[0])
        many = f"api {scale} x{len(tokens)}"
        endpoints.append(Endpoint(many, f"{api}{path}", tokens_file=tokens_file))
        for rate in args.write_rates:
            endpoints.append(
                Endpoint(
                    f"{many} +{rate:g}w/s",
                    f"{api}{path}",
                    tokens_file=tokens_file,
                    writes=((api, tokens[0], problem, rate),),
                )
            )
        if args.writes_elsewhere or args.writes_near:
            writes = national_writes(api, url, env, members, tokens, args)
            label = f"+{args.writes_elsewhere:g}/{args.writes_near:g}w/s"
            endpoints.append(
                Endpoint(f"{many} {label}", f"{api}{path}", tokens_file=tokens_file, writes=writes)
            )
    return endpoints


def national_writes(
    api: str, url: str, env: dict, members: list[tuple[int, str]], tokens: list[str], args
) -> tuple[tuple[str, str, int, float], ...]:
    """Writers elsewhere (`--writes-elsewhere` a second over 4 federations no reader is in) and
    near (`--writes-near` a second over 2 readers' own PCN boards)."""
    writes: list[tuple[str, str, int, float]] = []
    if args.writes_elsewhere:
        scale = args.scales.split(",")[-1]
        emails = outsiders(url, scale, [person_id for person_id, _ in members], 4)
        if len(emails) < 4:
            raise SystemExit("fewer than 4 federations without readers: seed scale N")
        for token in mint_tokens(env, emails):
            writes.append((api, token, pick_write(api, token), args.writes_elsewhere / 4))
    if args.writes_near:
        for token in (tokens[0], tokens[len(tokens) // 2]):
            writes.append((api, token, pick_write(api, token, "pcn"), args.writes_near / 2))
    return tuple(writes)


def _spread(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    low, mid, high = (format(v, fmt) for v in (min(values), statistics.median(values), max(values)))
    return f"{mid} ({low}-{high})"


def main() -> int:
    """Measures and prints; exits 1 when any budget it judged was missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="S,L", help="comma-separated, e.g. S,M,L")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of every endpoint")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--readers", type=int, default=100, help="members of as many practices (last scale)"
    )
    parser.add_argument(
        "--write-rates",
        default="1,10",
        type=lambda v: [float(x) for x in v.split(",") if x],
        help="writes/s beside the many readers, comma-separated ('' for none)",
    )
    parser.add_argument(
        "--writes-elsewhere",
        type=float,
        default=0,
        help="writes/s in federations none of the many readers is in (scale N: 20)",
    )
    parser.add_argument(
        "--writes-near", type=float, default=0, help="writes/s in the readers' PCNs (N: 2)"
    )
    parser.add_argument(
        "--database-suffix",
        default="",
        help="after commons_bench_<scale>: another copy of a scale's database",
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="the uncached list and the SQL endpoint in turn, in this many slices each",
    )
    parser.add_argument(
        "--only", help="comma-separated endpoint names to measure (e.g. 'api-nc N,sql N')"
    )
    parser.add_argument("--workers", type=int, help="default: api/gunicorn_conf.py (cores)")
    parser.add_argument("--worker-class", help="default: api/gunicorn_conf.py (sync)")
    parser.add_argument("--threads", type=int, help="gthread workers' threads")
    args = parser.parse_args()
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    admin_url = _database_url(
        os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/commons"
    )
    if not admin_url.startswith("postgresql"):
        raise SystemExit("DATABASE_URL must be PostgreSQL")
    instance = Path(tempfile.mkdtemp(prefix="commons-bench-"))
    script = instance / "rotate_tokens.lua"
    script.write_text(ROTATE_TOKENS)
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PORT")
    }
    base_env.update(INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT))

    scales = args.scales.split(",")
    # Every server of every scale runs from the start, and each round measures every endpoint
    # in turn, a scale's figure next to the other's: a slow spell of the machine then shows in
    # one round of every endpoint, not in every round of one.
    per_scale = [
        start_scale(scale, admin_url, base_env, args, last=scale == scales[-1]) for scale in scales
    ]
    endpoints = [e for group in zip(*[g[:4] for g in per_scale], strict=True) for e in group]
    endpoints += per_scale[-1][4:]
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        endpoints = [e for e in endpoints if e.name in wanted]
        if not endpoints:
            raise SystemExit(f"--only matches no endpoint: {args.only}")
    by_name = {e.name: e for e in endpoints}
    # The uncached list and the hand-written SQL are measured side by side: in turn, in short
    # slices (A B B A ...), so a slow spell of the machine falls on both alike.
    partner = {
        f"api-nc {s}": by_name[f"sql {s}"]
        for s in scales
        if f"api-nc {s}" in by_name and f"sql {s}" in by_name
    }
    paired = {p.name for p in partner.values()}
    results: dict[str, list[dict]] = {e.name: [] for e in endpoints}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_} of {args.rounds}", file=sys.stderr, flush=True)
        for endpoint in endpoints:
            if endpoint.name in paired:
                continue  # measured beside its partner
            other = partner.get(endpoint.name)
            if round_ == 1 and args.warmup:
                for each in (endpoint, other) if other else (endpoint,):
                    wrk(each, args, args.warmup, script)
            if other is None:
                measured = {endpoint.name: wrk(endpoint, args, args.duration, script)}
            else:
                measured = interleaved(endpoint, other, args, script)
            for name, r in measured.items():
                results[name].append(r)
                _print_result(name, r)
    _stop_all()
    return 1 if report(results, scales, args) else 0


def report(results: dict[str, list[dict]], scales: list[str], args) -> int:
    """Prints the table and a verdict per budget; returns how many budgets were missed (in
    any round)."""
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99")}
        for name, rs in results.items()
    }
    print()
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs; gunicorn {_server_settings(args)}; "
        f"wrk -t2 -c{args.connections} -d{args.duration}s; {args.rounds} rounds: "
        "median (lowest-highest)"
    )
    print(f"{'endpoint':<22}{'req/s':>20}{'p50 ms':>24}{'p99 ms':>24}{'non-2xx':>9}")
    for name, rs in results.items():
        print(
            f"{name:<22}{_spread([r['rps'] for r in rs], '.0f'):>20}"
            f"{_spread([r['p50'] for r in rs], '.2f'):>24}"
            f"{_spread([r['p99'] for r in rs], '.2f'):>24}{sum(r['non2xx'] for r in rs):>9}"
        )
    print()
    for scale in scales:
        if not all(f"{n} {scale}" in med for n in ("api", "bare", "sql")):
            continue  # not measured (--only)
        a, b, s = (med[f"{n} {scale}"] for n in ("api", "bare", "sql"))
        print(
            f"scale {scale}: API/bare req/s {a['rps'] / b['rps']:.2f}, API/SQL req/s "
            f"{a['rps'] / s['rps']:.2f}; p50 API/bare {a['p50'] / b['p50']:.1f}x, "
            f"API/SQL {a['p50'] / s['p50']:.1f}x"
        )
    last = scales[-1]
    missed = 0  # budgets not met in every round
    if f"api-nc {last}" in med and f"sql {last}" in med:
        ratios = [
            a["rps"] / b["rps"]
            for a, b in zip(results[f"api-nc {last}"], results[f"sql {last}"], strict=True)
        ]
        kept = [ratio >= 0.8 for ratio in ratios]
        missed += not all(kept)
        print(
            f"budget uncached (API/SQL req/s >= 0.8 at scale {last}, side by side in "
            f"{args.slices} slices each): {_spread(ratios, '.2f')}, "
            f"{'met' if all(kept) else 'NOT met'} ({sum(kept)} of {len(kept)} rounds)"
        )
    for name, rs in results.items():
        if (
            getattr(args, "writes_elsewhere", 0)
            and name.startswith(f"api {last} x")
            and "/" in name
        ):
            kept = [r["rps"] >= 1000 and r["p99"] <= 50 for r in rs]
            missed += not all(kept)
            print(
                f"budget while writing ({name}: >= 1,000 req/s, p99 <= 50 ms): "
                f"{'met' if all(kept) else 'NOT met'} ({sum(kept)} of {len(kept)} rounds)"
            )
    for page in ("workstream", "actions", "agenda", "spc", "library"):
        if f"{page} {last}" in results:
            kept = [r["rps"] >= 500 and r["p99"] <= 50 for r in results[f"{page} {last}"]]
            missed += not all(kept)
            print(
                f"budget for {page} (>= 500 req/s, p99 <= 50 ms at scale {last}): "
                f"{'met' if all(kept) else 'NOT met'} ({sum(kept)} of {len(kept)} rounds)"
            )
        if f"{page}-nc {last}" in med:
            fresh = med[f"{page}-nc {last}"]
            print(
                f"  {page} worked out on every request (read cache off): "
                f"{fresh['rps']:.0f} req/s, p99 {fresh['p99']:.1f} ms"
            )
    if f"api {last}" not in results:
        return missed
    rounds = results[f"api {last}"]
    met = [r["rps"] >= 1000 and r["p99"] <= 50 for r in rounds]
    if "S" in scales and "L" in scales:
        # Per round: the two figures were taken a minute apart, not several.
        ratios = [
            lr["p50"] / sr["p50"] for lr, sr in zip(results["api L"], results["api S"], strict=True)
        ]
        print(f"p50 L / p50 S (API), per round: {_spread(ratios, '.2f')} (budget <= 1.2)")
        met = [m and ratio <= 1.2 for m, ratio in zip(met, ratios, strict=True)]
    verdict = "met" if all(met) else "NOT met"
    print(
        f"budget (>= 1,000 req/s, p99 <= 50 ms at scale {last}"
        f"{', p50 L/S <= 1.2' if 'S' in scales and 'L' in scales else ''}): {verdict} "
        f"({sum(met)} of {len(met)} rounds)"
    )
    missed += not all(met)
    return missed


if __name__ == "__main__":
    sys.exit(main())
