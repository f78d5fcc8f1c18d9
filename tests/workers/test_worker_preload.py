"""What a worker loads before RQ forks its work horses is frozen out of the garbage collector's
view: a horse's full collections neither walk it nor write to the pages it shares."""

import os
import subprocess
import sys
from pathlib import Path


def test_the_worker_freezes_what_it_preloads(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/commons.db")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc; from workers.cli import _preload; _preload(); print(gc.get_freeze_count())",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert int(out.split()[-1]) > 100_000
