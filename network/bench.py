"""A realistic, deterministic data set for benchmarks: `commons seed bench --scale S|M|L`.

Skewed like real life: practices of varied size and staff mix, a few problems that most practices
have (Zipf-like `affected_count`) and many quiet ones, some practice-only posts, some anonymous
ones, comments concentrated on the problems that matter. Every denormalised count
(`affected_count`, `comment_count`, `last_activity_at`) agrees with the rows.

Rows are written in bulk: PostgreSQL `COPY ... FROM STDIN` through psycopg (same transaction as
the caller), elsewhere SQLAlchemy Core `insert()` with batches of dictionaries. Ids are assigned
here (after the current maximum), so rows can refer to each other without round trips; the
PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from time import perf_counter

import orjson
from sqlalchemy import Connection, Table, func, insert, select, text

from network.access import Anonymity
from network.activity.models import Activity
from network.errors import Conflict, Invalid
from network.organisations.models import Organisation, OrganisationKind
from network.people.models import Membership, Person, Role, StaffGroup
from network.problems.models import AffectedPractice, Comment, Problem, ProblemStatus, ProblemTag
from network.safety import excerpt
from network.uow import UnitOfWork

BATCH = 10_000
DOMAIN = "bench.example"


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


def federation_name(scale: str) -> str:
    return f"Bench Federation {scale}"


@dataclass
class BenchSummary:
    scale: str
    federation_id: int
    member_email: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


_STAFF = [
    (StaffGroup.gp, 16),
    (StaffGroup.nurse, 14),
    (StaffGroup.reception, 20),
    (StaffGroup.administration, 14),
    (StaffGroup.hca, 8),
    (StaffGroup.pharmacist, 5),
    (StaffGroup.allied_health, 6),
    (StaffGroup.billing, 4),
    (StaffGroup.management, 5),
    (StaffGroup.other, 8),
]
_FIRST = [
    "Amy",
    "Tariq",
    "Lucy",
    "Sam",
    "Priya",
    "Owen",
    "Grace",
    "Ravi",
    "Ellen",
    "Kwame",
    "Niamh",
    "Leah",
    "Idris",
    "Maya",
    "Joe",
    "Hannah",
    "Yusuf",
    "Carys",
    "Ben",
    "Zara",
    "Callum",
    "Aisha",
    "Rhys",
    "Ola",
    "Kate",
    "Dev",
    "Fiona",
    "Tom",
    "Amira",
    "Sian",
    "Marek",
    "Chloe",
    "Imran",
    "Ruth",
]
_LAST = [
    "Fletcher",
    "Malik",
    "Dunn",
    "Hughes",
    "Shah",
    "Price",
    "Adeyemi",
    "Kumar",
    "Walsh",
    "Mensah",
    "Byrne",
    "Cohen",
    "Khan",
    "Green",
    "Turner",
    "Lewis",
    "Ali",
    "Evans",
    "Wright",
    "Hussain",
    "Reid",
    "Begum",
    "Morgan",
    "Nowak",
    "Brennan",
    "Mistry",
    "Patel",
    "Okafor",
]
_PLACES = [
    "Castle Street",
    "Millbrook",
    "Oakfield",
    "Harbour View",
    "Stonebridge",
    "Riverside",
    "Park Lane",
    "Hillside",
    "Market Square",
    "Abbey Road",
    "Station Road",
    "Church Lane",
    "Orchard",
    "Meadowbank",
    "Valley",
    "Greenway",
    "Bridge End",
    "Westgate",
    "Northfield",
    "Southmead",
]
_KINDS = ["Surgery", "Medical Centre", "Practice", "Health Centre", "Family Practice"]
_TAGS = [
    ("prescribing", 30),
    ("workforce", 25),
    ("it", 22),
    ("referrals", 18),
    ("access", 16),
    ("estates", 10),
    ("phones", 9),
    ("pathology", 8),
    ("contracts", 6),
    ("training", 5),
    ("safeguarding", 4),
    ("finance", 4),
]
_SUBJECTS = [
    "Repeat prescriptions",
    "Phone queue at 8am",
    "Discharge letters",
    "Locum cover",
    "Blood test results",
    "Online consultations",
    "Hospital referrals",
    "Home visits",
    "Staff sickness",
    "Smartcard access",
    "Building maintenance",
    "Vaccine deliveries",
    "Patient registration",
    "Medication reviews",
    "Fit notes",
    "Care home rounds",
]
_TROUBLES = [
    "keep getting lost",
    "take far too long",
    "are rejected without a reason",
    "overwhelm reception every Monday",
    "need a shared template",
    "break after every update",
    "are duplicated across systems",
    "have no clear owner in the PCN",
]
_WORDS = [
    "patients",
    "practice",
    "team",
    "clinic",
    "system",
    "morning",
    "week",
    "appointments",
    "letters",
    "results",
    "hospital",
    "staff",
    "rota",
    "time",
    "process",
    "delay",
    "audit",
    "template",
    "pharmacy",
    "data",
    "form",
    "shared",
    "network",
    "request",
    "review",
    "call",
    "list",
    "cover",
    "workload",
    "safety",
    "training",
    "pathway",
    "reception",
    "manager",
    "nurse",
    "doctor",
]
_STATUSES = [
    (ProblemStatus.open, 55),
    (ProblemStatus.discussing, 25),
    (ProblemStatus.in_workstream, 10),
    (ProblemStatus.solved, 6),
    (ProblemStatus.closed, 4),
]
_ANONYMITY = [(Anonymity.none, 88), (Anonymity.person, 8), (Anonymity.practice, 4)]


def _pick(rng: random.Random, weighted: list[tuple]) -> object:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _sentence(rng: random.Random, words: int) -> str:
    text_ = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text_[0].upper() + text_[1:] + "."


def _paragraphs(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(sentences))


class _Writer:
    """Bulk rows into one connection: COPY on PostgreSQL, Core executemany elsewhere."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(
        self,
        table: Table,
        columns: list[str],
        rows: Iterable[tuple],
        json_columns: tuple[str, ...] = (),
    ) -> int:
        n = 0
        json_at = [columns.index(c) for c in json_columns]
        if self.pg:
            dbapi = self.conn.connection.dbapi_connection
            cols = ", ".join(f'"{c}"' for c in columns)
            with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as cp:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = orjson.dumps(row[i]).decode()
                    cp.write_row(row)
                    n += 1
        else:
            it: Iterator[tuple] = iter(rows)
            stmt = insert(table)
            while batch := list(islice(it, BATCH)):
                self.conn.execute(stmt, [dict(zip(columns, r, strict=True)) for r in batch])
                n += len(batch)
        self.counts[table.name] = self.counts.get(table.name, 0) + n
        return n


def _next_id(conn: Connection, table: Table) -> int:
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


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
    org_t, person_t, member_t = (
        Organisation.__table__,
        Person.__table__,
        Membership.__table__,
    )
    problem_t, tag_t, affected_t = (
        Problem.__table__,
        ProblemTag.__table__,
        AffectedPractice.__table__,
    )
    comment_t, activity_t = Comment.__table__, Activity.__table__

    name = federation_name(scale)
    exists_ = conn.scalar(
        select(org_t.c.id).where(
            org_t.c.kind == OrganisationKind.federation.value, org_t.c.name == name
        )
    )
    if exists_ is not None:
        raise Conflict(f"{name!r} already exists (id {exists_}); seed a fresh database.")
    w = _Writer(conn)

    def step(message: str) -> None:
        progress(f"[{perf_counter() - started:7.1f}s] {message}")

    # Organisations: a federation, its PCNs, practices spread unevenly over the PCNs.
    org_id = _next_id(conn, org_t)
    fed_id = org_id
    pcn_ids = list(range(fed_id + 1, fed_id + 1 + size.pcns))
    practice_ids = list(range(pcn_ids[-1] + 1, pcn_ids[-1] + 1 + size.practices))
    pcn_of: dict[int, int] = {}
    for i, pid in enumerate(practice_ids):
        # Every PCN gets at least one practice; the rest go 3-12 per PCN, unevenly.
        pcn_of[pid] = pcn_ids[i] if i < len(pcn_ids) else rng.choice(pcn_ids)
    practices_of: dict[int, list[int]] = {p: [] for p in pcn_ids}
    for pid in practice_ids:
        practices_of[pcn_of[pid]].append(pid)
    created0 = end - span - timedelta(days=30)
    org_rows = [(fed_id, "federation", name, None, True, created0, created0)]
    for n, pid in enumerate(pcn_ids, 1):
        org_rows.append(
            (
                pid,
                "pcn",
                f"{rng.choice(_PLACES)} PCN {scale}-{n:03}",
                fed_id,
                True,
                created0,
                created0,
            )
        )
    for n, pid in enumerate(practice_ids, 1):
        label = f"{rng.choice(_PLACES)} {rng.choice(_KINDS)} {scale}-{n:04}"
        org_rows.append((pid, "practice", label, pcn_of[pid], True, created0, created0))
    w.write(
        org_t, ["id", "kind", "name", "parent_id", "active", "created_at", "updated_at"], org_rows
    )
    step(f"{len(org_rows):,} organisations")

    # People: practice sizes vary (log-normal), each practice has at least a manager and one more.
    sizes = [rng.lognormvariate(0, 0.5) for _ in practice_ids]
    total = sum(sizes)
    spare = size.people - 2 * size.practices
    if spare < 0:
        raise Invalid("a scale needs at least two people per practice.")
    counts = [2 + int(spare * s / total) for s in sizes]
    counts[0] += size.people - sum(counts)
    person_id = _next_id(conn, person_t)
    people_of: dict[int, list[int]] = {}
    person_rows, member_rows = [], []
    member_email = ""
    for pid, count in zip(practice_ids, counts, strict=True):
        people_of[pid] = []
        for k in range(count):
            group = StaffGroup.management if k == 0 else _pick(rng, _STAFF)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}.{scale}{person_id}@{DOMAIN}".lower()
            joined = created0 + timedelta(days=rng.uniform(0, 200))
            person_rows.append(
                (person_id, email, f"{first} {last}", str(group), False, True, False, joined)
            )
            role = Role.admin if k == 0 else Role.member
            member_rows.append((person_id, pid, str(role), joined))
            if pid == practice_ids[0] and k == 1:
                member_email = email  # a plain member of the first practice: the benchmark user
            people_of[pid].append(person_id)
            person_id += 1
    # Clinical directors administer their PCN (and stay members of their practice); the first
    # practice manager administers the federation.
    for pcn in pcn_ids:
        cd = people_of[practices_of[pcn][0]][0]
        member_rows.append((cd, pcn, str(Role.admin), created0))
    member_rows.append((people_of[practice_ids[0]][0], fed_id, str(Role.admin), created0))
    w.write(
        person_t,
        [
            "id",
            "email",
            "name",
            "staff_group",
            "is_superuser",
            "is_active",
            "totp_enabled",
            "created_at",
        ],
        person_rows,
    )
    w.write(member_t, ["person_id", "organisation_id", "role", "created_at"], member_rows)
    step(f"{len(person_rows):,} people, {len(member_rows):,} memberships")

    # Problems: pass 1 decides each problem, its signals and its number of comments.
    problem_id = _next_id(conn, problem_t)
    plan: list[tuple] = []  # (id, board practices, affected, created, comment count, last comment)
    weights: list[float] = []
    problem_rows, tag_rows, affected_rows, activity_rows = [], [], [], []
    for _ in range(size.problems):
        author_practice = rng.choice(practice_ids)
        author = rng.choice(people_of[author_practice])
        r = rng.random()
        if r < 0.2:
            board, eligible = author_practice, [author_practice]
        elif r < 0.8:
            board = pcn_of[author_practice]
            eligible = practices_of[board]
        else:
            board, eligible = fed_id, practice_ids
        alpha = 0.9 if board == fed_id else 1.3
        affected_n = min(len(eligible), int(rng.paretovariate(alpha)))
        others = [p for p in eligible if p != author_practice]
        affected = [author_practice, *rng.sample(others, affected_n - 1)]
        # More recent problems are more common; a few years of history in all.
        created = end - span * (rng.random() ** 1.6) - timedelta(hours=1)
        created = created.replace(microsecond=0)
        last = created
        for practice in affected:
            if practice == author_practice:
                at, by = created, author
            else:
                at = min(end, created + timedelta(days=rng.expovariate(1 / 20)))
                at = at.replace(microsecond=0)
                by = rng.choice(people_of[practice])
            last = max(last, at)
            affected_rows.append((problem_id, practice, by, None, at))
        weights.append(min(200.0, (affected_n**0.8) * rng.paretovariate(1.2)))
        anonymity = _pick(rng, _ANONYMITY)
        if anonymity is Anonymity.practice and author_practice in affected:
            # Counted, not signalled: the practice the post hides (services.create).
            affected_rows.remove((problem_id, author_practice, author, None, created))
        subject, trouble = rng.choice(_SUBJECTS), rng.choice(_TROUBLES)
        title = f"{subject} {trouble}"
        body = _paragraphs(rng, rng.randint(2, 6))
        tags = sorted({_pick(rng, _TAGS) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))})
        status = _pick(rng, _STATUSES)
        plan.append((problem_id, eligible, affected, created, last))
        problem_rows.append(
            [
                problem_id,
                board,
                author,
                author_practice,
                str(anonymity),
                title,
                body,
                f"<p>{html.escape(body)}</p>",
                excerpt(body),
                tags,
                str(status),
                affected_n,
                0,  # comment_count, filled in below
                1,
                False,
                created,
                created,
                last,
            ]
        )
        tag_rows.extend((problem_id, t) for t in tags)
        activity_rows.append(
            (
                created,
                board,
                author,
                author_practice,
                str(anonymity),
                "posted",
                "problem",
                problem_id,
                problem_id,
                f"posted “{title}”",
            )
        )
        problem_id += 1

    # Comments: a fixed total shared out by weight (affected practices x a heavy tail).
    total_w = sum(weights)
    comment_counts = [int(size.comments * wt / total_w) for wt in weights]
    shortfall = size.comments - sum(comment_counts)
    for i in rng.choices(range(len(weights)), weights, k=max(0, shortfall)):
        comment_counts[i] += 1
    last_comment: list[datetime | None] = []
    for row, n, (_pid, _el, _aff, created, _last) in zip(
        problem_rows, comment_counts, plan, strict=True
    ):
        row[12] = n
        if n:
            lc = min(end, created + timedelta(days=rng.expovariate(1 / 45), minutes=5))
            lc = lc.replace(microsecond=0)
            row[17] = max(row[17], lc)
            last_comment.append(lc)
        else:
            last_comment.append(None)
    w.write(
        problem_t,
        [
            "id",
            "board_id",
            "author_id",
            "author_practice_id",
            "anonymity",
            "title",
            "body",
            "body_html",
            "excerpt",
            "tags",
            "status",
            "affected_count",
            "comment_count",
            "version",
            "hidden",
            "created_at",
            "updated_at",
            "last_activity_at",
        ],
        (tuple(r) for r in problem_rows),
        json_columns=("tags",),
    )
    step(f"{len(problem_rows):,} problems")
    w.write(tag_t, ["problem_id", "tag"], tag_rows)
    w.write(
        affected_t,
        ["problem_id", "practice_id", "signalled_by_id", "note", "created_at"],
        affected_rows,
    )
    step(f"{len(tag_rows):,} tags, {len(affected_rows):,} signals (affected practices)")
    del problem_rows, tag_rows, affected_rows

    activity_id = _next_id(conn, activity_t)
    w.write(
        activity_t,
        [
            "id",
            "at",
            "board_id",
            "actor_id",
            "actor_practice_id",
            "anonymity",
            "verb",
            "subject_type",
            "subject_id",
            "problem_id",
            "summary",
        ],
        ((activity_id + i, *row) for i, row in enumerate(activity_rows)),
    )
    step(f"{len(activity_rows):,} activity rows")
    del activity_rows

    # Pass 2: the comments themselves, streamed (scale L has a million).
    comment_id = _next_id(conn, comment_t)
    snippets = [_paragraphs(rng, k) for k in (1, 1, 2, 2, 3) for _ in range(40)]
    written = 0

    def comments() -> Iterator[tuple]:
        nonlocal comment_id, written
        for (pid, eligible, affected, created, _last), n, lc in zip(
            plan, comment_counts, last_comment, strict=True
        ):
            if not n:
                continue
            window = (lc - created).total_seconds()
            for k in range(n):
                at = lc if k == n - 1 else created + timedelta(seconds=int(rng.random() * window))
                practice = rng.choice(affected if rng.random() < 0.7 else eligible)
                author = rng.choice(people_of[practice])
                anonymity = _pick(rng, _ANONYMITY)
                kind = "idea" if rng.random() < 0.15 else "comment"
                body = rng.choice(snippets)
                yield (
                    comment_id,
                    pid,
                    author,
                    practice,
                    str(anonymity),
                    kind,
                    body,
                    f"<p>{html.escape(body)}</p>",
                    False,
                    False,
                    at,
                )
                comment_id += 1
                written += 1
                if written % 100_000 == 0:
                    step(f"  {written:,} comments")

    w.write(
        comment_t,
        [
            "id",
            "problem_id",
            "author_id",
            "author_practice_id",
            "anonymity",
            "kind",
            "body",
            "body_html",
            "accepted",
            "hidden",
            "created_at",
        ],
        comments(),
    )
    step(f"{written:,} comments")

    if w.pg:
        for table in (org_t, person_t, problem_t, comment_t, activity_t):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "  # noqa: S608 - our table names
                    f'(SELECT max(id) FROM "{table.name}"))'
                )
            )
        conn.execute(text("ANALYZE"))
        step("sequences moved on, statistics gathered (ANALYZE)")
    return BenchSummary(
        scale=scale,
        federation_id=fed_id,
        member_email=member_email,
        seconds=perf_counter() - started,
        counts=dict(w.counts),
    )
