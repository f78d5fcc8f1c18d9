"""Time `commons import-ods` on a national-size synthetic data set (budget: under a minute).

Generates an epraccur file of 14,000 rows and a PCN core partner file of about 1,300 PCNs in a
temporary directory, then runs the real command (`commons import-ods ... --json`, a subprocess,
so start-up is included) three times against DATABASE_URL:

1. full import into an empty database;
2. the same files again (idempotent: nothing may change);
3. "next month's" files: some practices moved PCN, some closed, some renamed.

    .venv/bin/python benchmarks/ods_import.py                       # a temporary SQLite file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/commons_bench_ods \\
        .venv/bin/python benchmarks/ods_import.py --reset           # PostgreSQL

The database must hold no organisations with ODS codes; `--reset` drops every table first
(only use it on a benchmark database)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from network import migrate
from network.config import _database_url
from network.db import make_engine
from network.organisations.models import Organisation
from network.organisations.ods.parsing import PCN_FILE_COLUMNS

ROWS = 14_000
GP_SHARE = 0.53  # about 7,400 of the national file's rows are GP practices (setting 4)
PCNS = 1_300
FEDERATION = "England"
COMMONS = Path(sys.executable).with_name("commons")

WORDS = [
    "PARK",
    "HILL",
    "BRIDGE",
    "VALLEY",
    "MARKET",
    "CASTLE",
    "RIVERSIDE",
    "GREEN",
    "ABBEY",
    "STATION",
    "CHURCH",
    "MILL",
    "ORCHARD",
    "MEADOW",
    "HARBOUR",
    "FOREST",
    "KING'S",
    "ST JOHN'S",
]
KINDS = ["SURGERY", "MEDICAL CENTRE", "HEALTH CENTRE", "MEDICAL PRACTICE", "FAMILY PRACTICE"]
TOWNS = ["LEEDS", "YORK", "DERBY", "BATH", "STOCKTON-ON-TEES", "NEWCASTLE UPON TYNE", "HULL"]
OTHER_SETTINGS = [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 22, 25]


@dataclass
class Practice:
    code: str
    name: str
    status: str
    setting: int
    pcn: str | None = None
    history: list[tuple[str, str, str]] = field(default_factory=list)  # (pcn, start, end)


def generate(rng: random.Random) -> tuple[list[Practice], dict[str, str], list[str]]:
    """The practices, the PCN names by code, and PCN-file practice codes missing from epraccur."""
    practices = []
    for n in range(ROWS):
        gp = rng.random() < GP_SHARE
        roll = rng.random()
        status = "A" if roll < 0.88 else "C" if roll < 0.985 else "D"
        name = f"{rng.choice(WORDS)}  {rng.choice(WORDS)} {rng.choice(KINDS)}"
        setting = 4 if gp else rng.choice(OTHER_SETTINGS)
        practices.append(Practice(f"{'ABCDEFGHJKLMNPY'[n % 15]}{n:05d}", name, status, setting))
    pcns = {f"U{n:05d}": f"{rng.choice(TOWNS)} {rng.choice(WORDS)}  PCN" for n in range(PCNS)}
    codes = sorted(pcns)
    for practice in practices:
        if practice.setting != 4:
            continue
        first = rng.choice(codes)
        if practice.status != "A":
            practice.history.append((first, "20190701", "20210331"))
        elif rng.random() < 0.05:  # moved PCN since 2019
            practice.history.append((first, "20190701", "20220331"))
            practice.pcn = rng.choice(codes)
        else:
            practice.pcn = first
    missing = [f"X{n:05d}" for n in range(40)]
    return practices, pcns, missing


def next_month(practices: list[Practice], pcns: dict[str, str], rng: random.Random) -> None:
    """Churn: 2% of member practices move PCN, 1% close, 1% are renamed."""
    codes = sorted(pcns)
    for practice in practices:
        if practice.pcn is None:
            continue
        roll = rng.random()
        if roll < 0.02:
            practice.history.append((practice.pcn, "20190701", "20240331"))
            practice.pcn = rng.choice(codes)
        elif roll < 0.03:
            practice.status = "C"
            practice.history.append((practice.pcn, "20190701", "20240331"))
            practice.pcn = None
        elif roll < 0.04:
            practice.name = "NEW " + practice.name


def write_files(
    directory: Path, practices: list[Practice], pcns: dict[str, str], missing: list[str]
) -> tuple[Path, Path]:
    epraccur = directory / "epraccur.csv"
    with epraccur.open("w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        for p in practices:
            row = [""] * 27
            row[0], row[1], row[2], row[3] = p.code, p.name, "Y63", "Q74"
            row[4:10] = ["THE HEALTH CENTRE", "HIGH  STREET", town_of(p.code), "", "", "LS1 1AA"]
            row[10], row[11], row[12], row[13] = (
                "19740401",
                "" if p.status == "A" else "20230331",
                p.status,
                "B",
            )
            row[14], row[15], row[17], row[21], row[23], row[25] = (
                "00K",
                "20130401",
                "0113 000000",
                "0",
                "00K",
                str(p.setting),
            )
            writer.writerow(row)
    partners = directory / "pcn-core-partners.csv"
    with partners.open("w", newline="") as f:
        writer = csv.writer(f)
        # As NHS England's file has them: line breaks inside two header cells.
        header = [name.replace(" Relationship ", "\nRelationship ") for name, _ in PCN_FILE_COLUMNS]
        writer.writerow(header)

        def relationship(code: str, pcn: str, start: str, end: str) -> None:
            writer.writerow(
                [
                    code,
                    "A PRACTICE",
                    "16C",
                    "SUB ICB",
                    pcn,
                    pcns[pcn],
                    "16C",
                    "SUB ICB",
                    start,
                    end,
                    "Y",
                ]
            )

        for p in practices:
            for pcn, start, end in p.history:
                relationship(p.code, pcn, start, end)
            if p.pcn is not None:
                relationship(p.code, p.pcn, "20220401" if p.history else "20190701", "")
        for code in missing:
            relationship(code, sorted(pcns)[0], "20190701", "")
    return epraccur, partners


def town_of(code: str) -> str:
    return ["LEEDS", "YORK", "DERBY", "BATH"][int(code[1:]) % 4]


def run_import(url: str, epraccur: Path, partners: Path) -> tuple[float, dict]:
    env = {**os.environ, "DATABASE_URL": url}
    command = [
        str(COMMONS),
        "import-ods",
        "--practices",
        str(epraccur),
        "--pcns",
        str(partners),
        "--federation",
        FEDERATION,
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


def startup_seconds(url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(COMMONS), "import-ods", "--help"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def prepare(url: str, reset: bool) -> None:
    engine = make_engine(url)
    if reset:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            else:
                for (table,) in connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type='table'")
                ):
                    connection.execute(text(f'DROP TABLE "{table}"'))
    migrate.upgrade(url)
    with engine.connect() as connection:
        existing = connection.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.ods_code.is_not(None))
        )
    engine.dispose()
    if existing:
        sys.exit(f"the database already holds {existing} organisations with ODS codes; use --reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="drop every table first")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ods-bench-") as tmp:
        directory = Path(tmp)
        url = _database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{directory / 'bench.db'}")
        prepare(url, args.reset)
        rng = random.Random(args.seed)
        practices, pcns, missing = generate(rng)
        epraccur, partners = write_files(directory, practices, pcns, missing)
        with partners.open(newline="") as f:
            relationships = sum(1 for _ in csv.reader(f)) - 1
        members = sum(1 for p in practices if p.pcn is not None)
        print(
            f"backend: {make_engine(url).dialect.name}; python {platform.python_version()}; "
            f"{os.cpu_count()} cores"
        )
        print(
            f"epraccur rows: {len(practices):,}; PCN file rows: {relationships:,}; "
            f"PCNs: {len(pcns):,}; practices with a current PCN: {members:,}"
        )
        print(f"process start-up (commons import-ods --help): {startup_seconds(url):.2f} s")

        first_s, first = run_import(url, epraccur, partners)
        report("1. full import", first_s, first)
        second_s, second = run_import(url, epraccur, partners)
        report("2. same files again", second_s, second)
        if second["created"] or second["updated"]:
            sys.exit("the second run changed something: the import is not idempotent")

        next_month(practices, pcns, rng)
        epraccur, partners = write_files(directory, practices, pcns, missing)
        third_s, third = run_import(url, epraccur, partners)
        report("3. next month's files", third_s, third)


def report(label: str, seconds: float, summary: dict) -> None:
    print(
        f"{label}: {seconds:.2f} s — created {summary['created']:,}, updated "
        f"{summary['updated']:,}, unchanged {summary['unchanged']:,}, "
        f"skipped {len(summary['skipped']):,}"
    )


if __name__ == "__main__":
    main()
