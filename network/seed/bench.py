"""A realistic, deterministic data set for benchmarks: `commons seed bench --scale S|M|L`.

The sizes, and the order of the work: the organisations and people (`practices`), then the
problems, their signals, tags and activity, then their comments (`problems`), all written in
bulk (`bulk`) in the caller's transaction, with progress as it goes. Ids are assigned here
(after the current maximum), so rows can refer to each other without round trips; the
PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import Connection, func, select, text

from network.activity.models import Activity
from network.errors import Conflict, Invalid
from network.library.models import Adoption, LibraryEntry, LibraryTag, LibraryVersion
from network.measures.models import Measure, MeasurePoint
from network.organisations.models import Organisation, OrganisationKind
from network.organisations.ods.parsing import (
    PracticeRecord,
    decode_text,
    parse_practices,
    read_practices,
)
from network.people.models import Membership, Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemTag
from network.seed import practices, problems, work
from network.seed.bulk import BulkWriter, Row
from network.uow import UnitOfWork
from network.workstreams.models import Action, LinkedProblem, Meeting, Participation, Workstream


@dataclass(frozen=True)
class Scale:
    pcns: int
    practices: int
    people: int
    problems: int
    comments: int  # signals (affected_practice rows) come on top, from the affected counts
    # The national tree instead: every active GP practice of an epraccur file, in this many
    # federations, with `people` people per practice.
    federations: int = 0
    # Joint work (workstreams, huddles, measures, the library), per PCN; none for S, M, L.
    workstreams_per_pcn: float = 0.0


# S, M, L from the issue; "T" is a tiny one for tests. M sits between S and L (3x S) so that the
# three sizes give a curve; L is the size the performance budget is stated for. N is England:
# 6,830 practices in about 1,250 PCNs under 42 federations, 25 people a practice, history in
# proportion (L has about 330 problems a practice over three years; N, a wider network where
# most posts stay local, about 60). "NT" is N's shape on a small file, for tests.
SCALES: dict[str, Scale] = {
    "T": Scale(pcns=2, practices=6, people=50, problems=200, comments=1_000),
    "S": Scale(pcns=10, practices=60, people=1_000, problems=10_000, comments=90_000),
    "M": Scale(pcns=30, practices=180, people=3_000, problems=30_000, comments=270_000),
    "L": Scale(pcns=50, practices=300, people=10_000, problems=100_000, comments=900_000),
    "N": Scale(
        pcns=0,
        practices=0,
        people=25,
        problems=400_000,
        comments=3_000_000,
        federations=42,
        workstreams_per_pcn=2.5,
    ),
    "NT": Scale(
        pcns=0,
        practices=0,
        people=6,
        problems=300,
        comments=1_500,
        federations=2,
        workstreams_per_pcn=2.0,
    ),
}
# The epraccur file N is made from (`network/seed/data/README.md`).
EPRACCUR = Path(__file__).parent / "data" / "epraccur.csv.gz"

# How often the comments, the longest step, report progress.
COMMENTS_PER_REPORT = 100_000


def federation_name(scale: str) -> str:
    return f"Bench Federation {scale}"


@dataclass
class BenchSummary:
    scale: str
    federation_id: int
    member_email: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def seed_bench(
    target: UnitOfWork | Connection,
    scale: str,
    progress: Callable[[str], None] = lambda _m: None,
    *,
    seed: int = 20240601,
    now: datetime | None = None,
    epraccur: Path | None = None,
) -> BenchSummary:
    """Write the bench network of `scale` (S, M, L, N; T and NT for tests). The caller commits.
    N reads its practices from `epraccur` (the shipped national file by default).

    Refuses (Conflict) when the bench federation of that scale already exists."""
    if scale not in SCALES:
        raise Invalid(f"scale is one of {', '.join(s for s in SCALES if 'T' not in s)}.")
    size = SCALES[scale]
    conn = target.session.connection() if isinstance(target, UnitOfWork) else target
    started = perf_counter()
    rng = random.Random(f"{seed}-{scale}")  # noqa: S311 - test data, not secrets
    end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    span = timedelta(days=3 * 365)
    founded = end - span - timedelta(days=30)

    name = federation_name(scale)
    exists = conn.scalar(
        select(Organisation.id).where(
            Organisation.kind == OrganisationKind.federation, Organisation.name == name
        )
    )
    if exists is not None:
        raise Conflict(f"{name!r} already exists (id {exists}); seed a fresh database.")
    bulk = BulkWriter(conn)
    # Millions of rows: the content scopes are raised once at the end, not by a trigger per row
    # at commit (minutes on PostgreSQL).
    bulk.hold_content_triggers()

    def step(message: str) -> None:
        progress(f"[{perf_counter() - started:7.1f}s] {message}")

    if size.federations:
        records = _epraccur(epraccur or EPRACCUR)
        step(f"{len(records):,} rows read from {(epraccur or EPRACCUR).name}")
        orgs = practices.national(
            rng,
            records,
            federation=name,
            federations=size.federations,
            first_id=bulk.next_id(Organisation),
            founded=founded,
        )
        codes = [row["ods_code"] for row in orgs.rows if row["ods_code"]]
        taken = conn.scalar(
            select(func.count(Organisation.id)).where(Organisation.ods_code.in_(codes[:5000]))
        )
        if taken:
            raise Conflict(
                "the database already holds these practices (ODS codes); seed a fresh one."
            )
        people = size.people * len(orgs.practice_ids)
    else:
        orgs = practices.organisations(
            rng,
            scale=scale,
            federation=name,
            pcns=size.pcns,
            practices=size.practices,
            first_id=bulk.next_id(Organisation),
            founded=founded,
        )
        people = size.people
    bulk.write(Organisation, orgs.rows)
    step(
        f"{len(orgs.rows):,} organisations ({len(orgs.practices_in)} federations, "
        f"{len(orgs.pcn_ids):,} PCNs, {len(orgs.practice_ids):,} practices)"
    )

    staff = practices.staff(
        rng,
        orgs,
        scale=scale,
        people=people,
        first_id=bulk.next_id(Person),
        founded=founded,
    )
    bulk.write(Person, staff.people)
    bulk.write(Membership, staff.memberships)
    step(f"{len(staff.people):,} people, {len(staff.memberships):,} memberships")

    posts = problems.posts(
        rng,
        orgs,
        staff.people_of,
        problems=size.problems,
        comments=size.comments,
        first_problem_id=bulk.next_id(Problem),
        first_activity_id=bulk.next_id(Activity),
        end=end,
        span=span,
    )
    bulk.write(Problem, posts.problems)
    step(f"{len(posts.problems):,} problems")
    bulk.write(ProblemTag, posts.tags)
    bulk.write(AffectedPractice, posts.signals)
    step(f"{len(posts.tags):,} tags, {len(posts.signals):,} signals (affected practices)")
    bulk.write(Activity, posts.activity)
    step(f"{len(posts.activity):,} activity rows")
    threads = posts.threads
    board_of = {row["id"]: row["board_id"] for row in posts.problems}
    del posts  # the rows are written; scale L's comments need the room

    comments = problems.comments(rng, threads, staff.people_of, first_id=bulk.next_id(Comment))
    written = bulk.write(Comment, _reporting(comments, COMMENTS_PER_REPORT, "comments", step))
    step(f"{written:,} comments")

    if size.workstreams_per_pcn:
        _joint_work(bulk, rng, orgs, staff.people_of, threads, board_of, size, end, step)

    bulk.release_content_triggers()
    if bulk.pg:
        bulk.move_sequences_on(
            Organisation,
            Person,
            Problem,
            Comment,
            Activity,
            *(_WORK if size.workstreams_per_pcn else ()),
        )
        conn.execute(text("ANALYZE"))
        step("sequences moved on, statistics gathered (ANALYZE)")
    return BenchSummary(
        scale=scale,
        federation_id=orgs.federation_id,
        member_email=staff.member_email,
        seconds=perf_counter() - started,
        counts=dict(bulk.counts),
    )


_WORK = (Workstream, Action, Meeting, Measure, LibraryEntry)


def _joint_work(
    bulk: BulkWriter,
    rng: random.Random,
    orgs: practices.Organisations,
    people_of: dict[int, list[int]],
    threads: list[problems.Thread],
    board_of: dict[int, int],
    size: Scale,
    end: datetime,
    step: Callable[[str], None],
) -> None:
    first = work.FirstIds(
        workstream=bulk.next_id(Workstream),
        action=bulk.next_id(Action),
        meeting=bulk.next_id(Meeting),
        measure=bulk.next_id(Measure),
        entry=bulk.next_id(LibraryEntry),
        activity=bulk.next_id(Activity),
    )
    done = work.joint_work(
        rng,
        orgs,
        people_of,
        threads,
        board_of,
        workstreams_per_pcn=size.workstreams_per_pcn,
        first=first,
        end=end,
    )
    for model, rows in (
        (Workstream, done.workstreams),
        (Participation, done.participations),
        (LinkedProblem, done.links),
        (Meeting, done.meetings),
        (Action, done.actions),
        (Measure, done.measures),
        (MeasurePoint, done.points),
        (LibraryEntry, done.entries),
        (LibraryVersion, done.versions),
        (LibraryTag, done.library_tags),
        (Adoption, done.adoptions),
        (Activity, done.activity),
    ):
        bulk.write(model, rows)
    step(
        f"{len(done.workstreams):,} workstreams, {len(done.actions):,} actions, "
        f"{len(done.meetings):,} huddles, {len(done.points):,} measure points, "
        f"{len(done.entries):,} library entries, {len(done.adoptions):,} adoptions, "
        f"{len(done.activity):,} activity rows"
    )


def _epraccur(path: Path) -> list[PracticeRecord]:
    """The practices of an epraccur file, plain or gzip-compressed."""
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise Invalid(f"{path}: cannot be read ({exc})") from None
        return parse_practices(decode_text(data, path.name), source=path.name)
    return read_practices(path)


def _reporting(
    rows: Iterable[Row], every: int, what: str, step: Callable[[str], None]
) -> Iterator[Row]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % every == 0:
            step(f"  {n:,} {what}")
