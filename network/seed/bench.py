"""A realistic, deterministic data set for benchmarks: `commons seed bench --scale S|M|L`.

The sizes, and the order of the work: the organisations and people (`practices`), then the
problems, their signals, tags and activity, then their comments (`problems`), all written in
bulk (`bulk`) in the caller's transaction, with progress as it goes. Ids are assigned here
(after the current maximum), so rows can refer to each other without round trips; the
PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from time import perf_counter

from sqlalchemy import Connection, select, text

from network.activity.models import Activity
from network.errors import Conflict, Invalid
from network.organisations.models import Organisation, OrganisationKind
from network.people.models import Membership, Person
from network.problems.models import AffectedPractice, Comment, Problem, ProblemTag
from network.seed import practices, problems
from network.seed.bulk import BulkWriter, Row
from network.uow import UnitOfWork


@dataclass(frozen=True)
class Scale:
    pcns: int
    practices: int
    people: int
    problems: int
    comments: int  # signals (affected_practice rows) come on top, from the affected counts


# S, M, L from the issue; "T" is a tiny one for tests. M sits between S and L (3x S) so that the
# three sizes give a curve; L is the size the performance budget is stated for.
SCALES: dict[str, Scale] = {
    "T": Scale(pcns=2, practices=6, people=50, problems=200, comments=1_000),
    "S": Scale(pcns=10, practices=60, people=1_000, problems=10_000, comments=90_000),
    "M": Scale(pcns=30, practices=180, people=3_000, problems=30_000, comments=270_000),
    "L": Scale(pcns=50, practices=300, people=10_000, problems=100_000, comments=900_000),
}

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
) -> BenchSummary:
    """Write the bench network of `scale` (S, M, L; T for tests). The caller commits.

    Refuses (Conflict) when the bench federation of that scale already exists."""
    if scale not in SCALES:
        raise Invalid(f"scale is one of {', '.join(s for s in SCALES if s != 'T')}.")
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

    def step(message: str) -> None:
        progress(f"[{perf_counter() - started:7.1f}s] {message}")

    orgs = practices.organisations(
        rng,
        scale=scale,
        federation=name,
        pcns=size.pcns,
        practices=size.practices,
        first_id=bulk.next_id(Organisation),
        founded=founded,
    )
    bulk.write(Organisation, orgs.rows)
    step(f"{len(orgs.rows):,} organisations")

    staff = practices.staff(
        rng,
        orgs,
        scale=scale,
        people=size.people,
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
    del posts  # the rows are written; scale L's comments need the room

    comments = problems.comments(rng, threads, staff.people_of, first_id=bulk.next_id(Comment))
    written = bulk.write(Comment, _reporting(comments, COMMENTS_PER_REPORT, "comments", step))
    step(f"{written:,} comments")

    if bulk.pg:
        bulk.move_sequences_on(Organisation, Person, Problem, Comment, Activity)
        conn.execute(text("ANALYZE"))
        step("sequences moved on, statistics gathered (ANALYZE)")
    return BenchSummary(
        scale=scale,
        federation_id=orgs.federation_id,
        member_email=staff.member_email,
        seconds=perf_counter() - started,
        counts=dict(bulk.counts),
    )


def _reporting(
    rows: Iterable[Row], every: int, what: str, step: Callable[[str], None]
) -> Iterator[Row]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % every == 0:
            step(f"  {n:,} {what}")
