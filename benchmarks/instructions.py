"""Instructions per request of the hot list in the API (read cache off) against the bare and
hand-written SQL endpoints (`benchmarks/bare_app.py`), counted by valgrind's callgrind: the same
count for the same code and data whatever else the machine does, where requests/s on a shared
machine swing by a quarter between runs.

    apt-get install -y valgrind
    .venv/bin/python benchmarks/instructions.py [--requests 300] [--scale N] \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/commons_bench_n]

Each endpoint runs in its own process under callgrind, called through WSGI directly (no HTTP
server: gunicorn's share is the same for all three), as the first plain member of the scale's
first practice, the person `benchmarks/hot_list.py` reads as. After 50 requests to warm up
(prepared statements, caches) the counters are zeroed (`callgrind_control -z`), then
`--requests` more are counted and dumped (`callgrind_control -d`) before the process exits:
the interpreter's shutdown (a full garbage collection, module teardown: ~90 M instructions at
scale L) would otherwise be shared out over the requests, and it differs between the three.
PostgreSQL's own work is in its processes, not counted: both database endpoints send the same
two statements. Prints instructions per request and the ratios."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WARM_UP = 50


def _serve(which: str, count: int, work: Path) -> None:
    """In the process under callgrind: warm up, say so, wait to be zeroed, serve `count`
    requests, say so, and wait for the dump before exiting (the interpreter's
    shutdown is not a request's cost)."""
    if which == "api":
        from api.wsgi import app

        path, query = "/api/v1/problems", "sort=hot&limit=25"
        headers = [("Authorization", f"Bearer {os.environ['BENCH_TOKEN']}")]
    else:
        from benchmarks.bare_app import app

        path, query, headers = f"/{which}", "", []
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path=path, query_string=query, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ).get_environ()

    def one() -> None:
        status: list[str] = []
        body = app({**environ, "wsgi.input": io.BytesIO()}, lambda s, h, e=None: status.append(s))
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()
        if not status[0].startswith("200"):
            raise SystemExit(f"{which} answered {status[0]}")

    for _ in range(WARM_UP):
        one()
    _signal_and_wait(work / f"{which}.ready", work / f"{which}.go")
    for _ in range(count):
        one()
    _signal_and_wait(work / f"{which}.done", work / f"{which}.exit")


def _signal_and_wait(mine: Path, theirs: Path) -> None:
    mine.write_text(str(os.getpid()))
    while not theirs.exists():
        time.sleep(0.1)


def _await(path: Path, proc: subprocess.Popen, what: str, log: Path) -> str:
    deadline = time.monotonic() + 1800
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{what}: see {log}")
        time.sleep(0.5)
    return path.read_text()


def _count(which: str, count: int, env: dict, work: Path) -> int:
    """Counted from the zeroing after the warm-up to a dump after the last request: neither
    start-up nor shutdown is in the figure (the file written at exit, which has the shutdown,
    is not read)."""
    out, log = work / f"{which}.callgrind", work / f"{which}.log"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
    cmd += [__file__, "--serve", which, "--requests", str(count), "--work", str(work)]
    with log.open("wb") as output:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    pid = _await(work / f"{which}.ready", proc, f"{which} did not warm up", log)
    subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
    (work / f"{which}.go").touch()
    _await(work / f"{which}.done", proc, f"{which} failed", log)
    subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
    (work / f"{which}.exit").touch()
    if proc.wait(timeout=600) != 0:
        raise SystemExit(f"{which} failed: see {log}")
    # The first dump (part 1; callgrind_control has been seen to trigger a second one, later).
    # Its `summary` is the count since the zeroing; its `totals` line adds a constant that does
    # not grow with the requests (9 M for the bare endpoint, 87 M for the API), so it is not read.
    dump = out.with_name(f"{out.name}.1")
    summary = re.search(r"^summary: (\d+)", dump.read_text(), re.M) if dump.exists() else None
    if summary is None:
        raise SystemExit(f"no summary in {dump}")
    return int(summary.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scale", default="N", help="the seeded scale: S, M, L or N")
    parser.add_argument(
        "--database-url",
        help="that scale's database (default: commons_bench_<scale> on the local PostgreSQL)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.requests, Path(args.work))
        return

    sys.path.insert(0, str(ROOT))
    from benchmarks.hot_list import mint_tokens, readers

    work = Path(tempfile.mkdtemp(prefix="commons-instructions-"))
    scale = args.scale.upper()
    url = (
        args.database_url
        or f"postgresql+psycopg://postgres@127.0.0.1:5432/commons_bench_{scale.lower()}"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PORT")}
    env.update(
        INSTANCE_PATH=str(work),
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        READ_CACHE_SIZE="0",
        BENCH_DATABASE_URL=url.replace("postgresql+psycopg://", "postgresql://"),
    )
    found = readers(url, scale, 1)
    if not found:
        raise SystemExit(f"no plain practice member of scale {scale} in {url}")
    person_id, email = found[0]
    env.update(BENCH_PERSON_ID=str(person_id), BENCH_TOKEN=mint_tokens(env, [email])[0])
    counts = {}
    for which in ("api", "sql", "bare"):
        print(f"counting {which} ({args.requests} requests) ...", file=sys.stderr, flush=True)
        counts[which] = _count(which, args.requests, env, work) / args.requests
    for which, per_request in counts.items():
        print(f"{which:5} {per_request / 1e6:6.2f} M instructions per request")
    print(
        f"API / SQL {counts['api'] / counts['sql']:.2f}; "
        f"beyond the bare endpoint: API {(counts['api'] - counts['bare']) / 1e6:.2f} M, "
        f"SQL {(counts['sql'] - counts['bare']) / 1e6:.2f} M"
    )


if __name__ == "__main__":
    main()
