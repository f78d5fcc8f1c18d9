"""Fault injection against real processes: does every digest and every mail arrive exactly once?

    .venv/bin/python benchmarks/delivery_faults.py --trials 20 --redis-trials 20

Each trial runs on one rig (tests/live/delivery.py): a fresh PostgreSQL database, a Redis server
of its own on another port (the shared one is never stopped), a local SMTP server (aiosmtpd)
that parses what it receives, and `commons` processes:

- kill -9: `commons digests run --now` enqueues everyone's digest; a `commons worker` sends some
  and is killed with SIGKILL at a random moment (claiming, sending or marking); once its claims
  are stale (DIGEST_JOB_TIMEOUT=3 s) the digests are enqueued again and a new worker runs; then
  the same period is run once more, which must send nothing.
- Redis down: gunicorn takes invitations (each one queues a mail job) while the rig's Redis is
  stopped for the middle half of them; `commons scheduler`'s relay and a mail worker run
  throughout. Every request must succeed and every invitation arrive once.
- Redis lost: gunicorn takes invitations while no mail worker runs, so their jobs wait in
  Redis; Redis is then restarted without its files (everything queued is gone) and a worker
  starts. The relay must find the rows whose jobs the queue lost and hand them over again.
- two schedulers: two `commons scheduler --every 2` beside one digest worker.

Figures per kind: trials, expected, received, duplicates (a second, different Message-ID to one
person: must be 0), repeats (the same Message-ID again: SMTP's one window, allowed), lost.
PostgreSQL at BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)."""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from network.config import _database_url  # noqa: E402
from tests.live import delivery  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="kill -9 trials")
    parser.add_argument("--redis-trials", type=int, default=20, help="Redis-down trials")
    parser.add_argument("--scheduler-trials", type=int, default=3, help="two-scheduler trials")
    parser.add_argument("--lost-trials", type=int, default=5, help="Redis-lost trials")
    parser.add_argument("--readers", type=int, default=30, help="people due a digest")
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    server = _database_url(
        os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    rng = random.Random(args.seed)
    totals: dict[str, delivery.Tally] = {}
    counts: dict[str, int] = {}
    started = time.monotonic()

    def record(kind: str, n: int, result: delivery.Tally) -> None:
        totals.setdefault(kind, delivery.Tally()).add(result)
        counts[kind] = counts.get(kind, 0) + 1
        flag = "ok" if result.exact else "FAILED"
        print(
            f"{kind:<15} trial {n:>2}: expected {result.expected}, received {result.received}, "
            f"duplicates {result.duplicates}, repeats {result.repeats}, lost {result.lost}, "
            f"unexpected {result.unexpected}  {flag}",
            flush=True,
        )

    with delivery.rig(server, Path(tempfile.mkdtemp()), readers=args.readers) as rig:
        for n in range(1, args.trials + 1):
            record("kill -9", n, delivery.kill_trial(rig, rng))
        for n in range(1, args.scheduler_trials + 1):
            record("two schedulers", n, delivery.two_schedulers_trial(rig, seconds=5))
        if args.redis_trials or args.lost_trials:
            api = delivery.start_api(rig)
            rig.scheduler(every=3600)
            for n in range(1, args.lost_trials + 1):  # each starts (and stops) its own worker
                record("redis lost", n, delivery.redis_lost_trial(rig, api, n))
            rig.worker("mail", "default", burst=False)
            for n in range(1, args.redis_trials + 1):
                record("redis down", n, delivery.redis_down_trial(rig, api, n))

    print(f"\nin {time.monotonic() - started:.0f} s; {args.readers + 1} people due a digest")
    print(
        f"{'kind':<15}{'trials':>7}{'expected':>10}{'received':>10}{'duplicates':>12}"
        f"{'repeats':>9}{'lost':>6}{'unexpected':>12}"
    )
    failed = False
    for kind, t in totals.items():
        print(
            f"{kind:<15}{counts[kind]:>7}{t.expected:>10}{t.received:>10}{t.duplicates:>12}"
            f"{t.repeats:>9}{t.lost:>6}{t.unexpected:>12}"
        )
        failed |= not t.exact
    print("verdict:", "FAILED" if failed else "every digest and mail exactly once")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
