"""The bench network's problems and what gathers on them: signals (affected practices), tags,
comments and ideas, and the activity of each post.

Skewed like real life: a few problems most practices have (Zipf-like `affected_count`) and many
quiet ones, some practice-only posts, some anonymous ones, comments concentrated on the problems
that matter. Every denormalised count (`affected_count`, `comment_count`, `last_activity_at`)
agrees with the rows. Text is rendered, excerpted, tagged and described by the same functions
the services use, so the data set cannot drift from what posting through the API stores.

Generated rows only (by column name); `bench` writes them. Draws come from the caller's seeded
random generator, in a fixed order: changing that order changes the whole data set."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from network.access import Anonymity
from network.activity.descriptions import facts
from network.problems.models import CommentKind, ProblemStatus
from network.problems.services import tags_of
from network.safety import excerpt, render_markdown
from network.seed.bulk import Row
from network.seed.chance import Weighted
from network.seed.practices import Organisations

_TAGS = Weighted(
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
)
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
_STATUSES = Weighted(
    (ProblemStatus.open, 55),
    (ProblemStatus.discussing, 25),
    (ProblemStatus.in_workstream, 10),
    (ProblemStatus.solved, 6),
    (ProblemStatus.closed, 4),
)
_ANONYMITY = Weighted((Anonymity.none, 88), (Anonymity.person, 8), (Anonymity.practice, 4))


@dataclass(slots=True)
class Thread:
    """A problem as its comments are drawn: who may comment, and when."""

    problem_id: int
    eligible: list[int]  # the practices that read its board
    affected: list[int]  # the practices that have it (the author's first)
    created: datetime
    comments: int = 0
    last_comment: datetime | None = None


@dataclass(frozen=True)
class Posts:
    """The rows of the problems, and each problem's thread for the comments to come."""

    problems: list[Row]
    tags: list[Row]
    signals: list[Row]
    activity: list[Row]
    threads: list[Thread]


def posts(
    rng: random.Random,
    orgs: Organisations,
    people_of: dict[int, list[int]],
    *,
    problems: int,
    comments: int,
    first_problem_id: int,
    first_activity_id: int,
    end: datetime,
    span: timedelta,
) -> Posts:
    """`problems` problems posted over `span` before `end` by people of their practice, on its
    board, its PCN's or its federation's, and `comments` comments shared out among them."""
    problem_rows: list[Row] = []
    tag_rows: list[Row] = []
    signal_rows: list[Row] = []
    activity_rows: list[Row] = []
    threads: list[Thread] = []
    weights: list[float] = []
    for n in range(problems):
        problem_id = first_problem_id + n
        author_practice = rng.choice(orgs.practice_ids)
        author = rng.choice(people_of[author_practice])
        r = rng.random()
        if r < 0.2:
            board, eligible = author_practice, [author_practice]
        elif r < 0.8:
            board = orgs.pcn_of[author_practice]
            eligible = orgs.practices_of[board]
        else:
            board = orgs.federation_of[orgs.pcn_of[author_practice]]
            eligible = orgs.practices_in[board]
        alpha = 0.9 if board in orgs.practices_in else 1.3
        affected_n = min(len(eligible), int(rng.paretovariate(alpha)))
        others = [p for p in eligible if p != author_practice]
        affected = [author_practice, *rng.sample(others, affected_n - 1)]
        # More recent problems are more common; a few years of history in all.
        created = end - span * (rng.random() ** 1.6) - timedelta(hours=1)
        created = created.replace(microsecond=0)
        signals = []
        for practice in affected:
            if practice == author_practice:
                at, by = created, author
            else:
                at = min(end, created + timedelta(days=rng.expovariate(1 / 20)))
                at = at.replace(microsecond=0)
                by = rng.choice(people_of[practice])
            signals.append(
                {
                    "problem_id": problem_id,
                    "practice_id": practice,
                    "signalled_by_id": by,
                    "note": None,
                    "created_at": at,
                }
            )
        last = max(signal["created_at"] for signal in signals)
        weights.append(min(200.0, (affected_n**0.8) * rng.paretovariate(1.2)))
        anonymity = _ANONYMITY.draw(rng)
        if anonymity is Anonymity.practice:
            # Counted, not signalled: the practice the post hides (services.create).
            signals = [s for s in signals if s["practice_id"] != author_practice]
        signal_rows.extend(signals)
        title = f"{rng.choice(_SUBJECTS)} {rng.choice(_TROUBLES)}"
        body = _paragraphs(rng, rng.randint(2, 6))
        summary = excerpt(body)
        tags = tags_of(sorted({_TAGS.draw(rng) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))}))
        status = _STATUSES.draw(rng)
        threads.append(Thread(problem_id, eligible, affected, created))
        problem_rows.append(
            {
                "id": problem_id,
                "board_id": board,
                "author_id": author,
                "author_practice_id": author_practice,
                "anonymity": str(anonymity),
                "title": title,
                "body": body,
                "body_html": render_markdown(body),
                "excerpt": summary,
                "tags": tags,
                "status": str(status),
                "affected_count": affected_n,
                "comment_count": 0,  # when the comments are shared out, below
                "version": 1,
                "hidden": False,
                "created_at": created,
                "updated_at": created,
                "last_activity_at": last,
            }
        )
        tag_rows.extend({"problem_id": problem_id, "tag": tag} for tag in tags)
        activity_rows.append(
            {
                "id": first_activity_id + n,
                "at": created,
                "board_id": board,
                "actor_id": author,
                "actor_practice_id": author_practice,
                "anonymity": str(anonymity),
                "verb": "posted",
                "subject_type": "problem",
                "subject_id": problem_id,
                "thread_type": "problem",
                "thread_id": problem_id,
                "data": facts("posted", title=title, excerpt=summary),
            }
        )
    _share_out_comments(rng, comments, weights, threads, problem_rows, end)
    return Posts(problem_rows, tag_rows, signal_rows, activity_rows, threads)


def _share_out_comments(
    rng: random.Random,
    total: int,
    weights: list[float],
    threads: list[Thread],
    problem_rows: list[Row],
    end: datetime,
) -> None:
    """A fixed total shared out by weight (affected practices x a heavy tail); each problem's
    count and last activity follow."""
    total_weight = sum(weights)
    counts = [int(total * weight / total_weight) for weight in weights]
    shortfall = total - sum(counts)
    for i in rng.choices(range(len(weights)), weights, k=max(0, shortfall)):
        counts[i] += 1
    for thread, row, n in zip(threads, problem_rows, counts, strict=True):
        thread.comments = row["comment_count"] = n
        if n:
            last = min(end, thread.created + timedelta(days=rng.expovariate(1 / 45), minutes=5))
            thread.last_comment = last.replace(microsecond=0)
            row["last_activity_at"] = max(row["last_activity_at"], thread.last_comment)


def comments(
    rng: random.Random,
    threads: list[Thread],
    people_of: dict[int, list[int]],
    *,
    first_id: int,
) -> Iterator[Row]:
    """The comments of each thread, streamed (scale L has a million): mostly from the practices
    that have the problem, the last one at the thread's last comment. Bodies come from a few
    hundred snippets, each rendered once."""
    snippets = [_paragraphs(rng, k) for k in (1, 1, 2, 2, 3) for _ in range(40)]
    rendered = {snippet: render_markdown(snippet) for snippet in snippets}
    comment_id = first_id
    for thread in threads:
        n, last = thread.comments, thread.last_comment
        if not n or last is None:
            continue
        window = (last - thread.created).total_seconds()
        for k in range(n):
            at = (
                last
                if k == n - 1
                else thread.created + timedelta(seconds=int(rng.random() * window))
            )
            practice = rng.choice(thread.affected if rng.random() < 0.7 else thread.eligible)
            author = rng.choice(people_of[practice])
            anonymity = _ANONYMITY.draw(rng)
            kind = CommentKind.idea if rng.random() < 0.15 else CommentKind.comment
            body = rng.choice(snippets)
            yield {
                "id": comment_id,
                "problem_id": thread.problem_id,
                "author_id": author,
                "author_practice_id": practice,
                "anonymity": str(anonymity),
                "kind": str(kind),
                "body": body,
                "body_html": rendered[body],
                "accepted": False,
                "hidden": False,
                "created_at": at,
            }
            comment_id += 1


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraphs(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(sentences))
