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
`--requests` more are counted. PostgreSQL's own work is in its processes, not counted: both
database endpoints send the same two statements. Prints instructions per request and the
ratios."""

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


def _serve(which: str, count: int, ready: Path, go: Path) -> None:
    """In the process under callgrind: warm up, say so, wait to be zeroed, then count."""
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
    ready.write_text(str(os.getpid()))
    while not go.exists():
        time.sleep(0.1)
    for _ in range(count):
        one()


def _count(which: str, count: int, env: dict, work: Path) -> int:
    ready, go, out = work / f"{which}.ready", work / f"{which}.go", work / f"{which}.callgrind"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
    cmd += [__file__, "--serve", which, "--requests", str(count), "--work", str(work)]
    with (work / f"{which}.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{which} did not warm up: see {work / f'{which}.log'}")
        time.sleep(0.5)
    subprocess.run(["callgrind_control", "-z", ready.read_text()], check=True, capture_output=True)
    go.touch()
    if proc.wait(timeout=1800) != 0:
        raise SystemExit(f"{which} failed: see {work / f'{which}.log'}")
    summary = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
    if summary is None:
        raise SystemExit(f"no totals in {out}")
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
        work = Path(args.work)
        _serve(args.serve, args.requests, work / f"{args.serve}.ready", work / f"{args.serve}.go")
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
