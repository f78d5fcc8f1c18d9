"""The bench network's joint work: each PCN's workstreams with their practices, linked problems,
actions, weekly huddles and measures (a point per practice per week), and the best-practice
library with versions and adoptions, each change with its activity as the services record it.

Sized per PCN (`workstreams_per_pcn`); the library has entries of PCNs and of federations,
taken up unevenly across each federation's practices. Notes and bodies are rendered by the
services' own functions, huddles fall on their meeting rule's occurrences (`meetings`), and
every denormalised count (`adopted_count`, `latest_version`) agrees with its rows.

Generated rows only (by column name); `bench` writes them. Draws come from the caller's seeded
random generator, in a fixed order: changing that order changes the whole data set."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from network.activity.descriptions import facts
from network.library.models import TAKEN_UP, AdoptionStatus, EntryStatus
from network.measures.models import Aggregate, Better
from network.problems.services import tags_of
from network.safety import excerpt, render_markdown
from network.seed.bulk import Row
from network.seed.chance import Weighted
from network.seed.practices import Organisations
from network.seed.problems import Thread
from network.text import london
from network.workstreams import meetings
from network.workstreams.models import ActionStatus, MeetingStatus, Workstream, WorkstreamStatus

_THEMES = [
    ("Workflow", "Clinical correspondence handled once, by the right person, within two days."),
    ("Access", "Patients who contact us by 10am are dealt with the same day."),
    ("Prescribing", "Repeat prescriptions turned round within 48 hours."),
    ("Long-term conditions", "Every diabetic patient reviewed on time this year."),
    ("Workforce", "Shared rotas that cover every session without locums."),
    ("Care homes", "Weekly rounds with one named clinician per home."),
    ("Digital", "Online requests triaged within the hour they arrive."),
    ("Estates", "Rooms booked across the network, none standing empty."),
]
_STATUS = Weighted(
    (WorkstreamStatus.active, 70),
    (WorkstreamStatus.proposed, 10),
    (WorkstreamStatus.paused, 8),
    (WorkstreamStatus.completed, 12),
)
_ACTION_STATUS = Weighted(
    (ActionStatus.open, 45), (ActionStatus.done, 45), (ActionStatus.dropped, 10)
)
_VERBS = ["Draft", "Agree", "Audit", "Pilot", "Share", "Train", "Review", "Map", "Test", "Write up"]
_OBJECTS = [
    "the triage template",
    "the docman workflow",
    "a shared rota",
    "the phone message",
    "the care home list",
    "the repeat protocol",
    "last month's figures",
    "the new pathway",
    "the reception script",
    "the booking rules",
]
_MEASURES = [
    ("Letters waiting over 2 days", "letters", Better.down, Aggregate.sum, 40.0),
    ("Same-day requests answered", "%", Better.up, Aggregate.ratio, 0.8),
    ("Repeat prescriptions over 48 h", "items", Better.down, Aggregate.sum, 25.0),
    ("Median wait to routine appointment", "days", Better.down, Aggregate.mean, 9.0),
]
_DAYS = ["MO", "TU", "WE", "TH", "FR"]
_ADOPTION = Weighted(
    (AdoptionStatus.adopted, 40),
    (AdoptionStatus.adapted, 15),
    (AdoptionStatus.trialling, 20),
    (AdoptionStatus.considering, 15),
    (AdoptionStatus.declined, 7),
    (AdoptionStatus.stopped, 3),
)
_LIBRARY_TAGS = ["access", "prescribing", "workforce", "it", "referrals", "phones", "training"]
# Huddles and measure points reach back this far (the weeks a live workstream keeps charting).
HISTORY_WEEKS = 26


@dataclass
class Work:
    workstreams: list[Row] = field(default_factory=list)
    participations: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    actions: list[Row] = field(default_factory=list)
    meetings: list[Row] = field(default_factory=list)
    measures: list[Row] = field(default_factory=list)
    points: list[Row] = field(default_factory=list)
    entries: list[Row] = field(default_factory=list)
    versions: list[Row] = field(default_factory=list)
    library_tags: list[Row] = field(default_factory=list)
    adoptions: list[Row] = field(default_factory=list)
    activity: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class FirstIds:
    workstream: int
    action: int
    meeting: int
    measure: int
    entry: int
    activity: int


def joint_work(
    rng: random.Random,
    orgs: Organisations,
    people_of: dict[int, list[int]],
    threads: list[Thread],
    board_of: dict[int, int],
    *,
    workstreams_per_pcn: float,
    first: FirstIds,
    end: datetime,
) -> Work:
    """The workstreams of every PCN and the library of every PCN and federation."""
    work = Work()
    ids = _Ids(first)
    names = {row["id"]: row["name"] for row in orgs.rows}
    problems_on: dict[int, list[int]] = {}
    for thread in threads:
        problems_on.setdefault(board_of[thread.problem_id], []).append(thread.problem_id)
    for pcn in orgs.pcn_ids:
        director = people_of[orgs.practices_of[pcn][0]][0]
        for _ in range(_count(rng, workstreams_per_pcn)):
            _workstream(rng, work, ids, orgs, people_of, names, pcn, director, problems_on, end)
    for board in [*orgs.pcn_ids, *orgs.federation_ids]:
        in_federation = orgs.federation_of.get(board, board)
        for _ in range(_count(rng, 0.6 if board in orgs.federation_of else 8.0)):
            _entry(
                rng, work, ids, orgs, people_of, names, board, orgs.practices_in[in_federation], end
            )
    return work


class _Ids:
    def __init__(self, first: FirstIds) -> None:
        self.next = {name: getattr(first, name) for name in FirstIds.__dataclass_fields__}

    def take(self, name: str) -> int:
        value = self.next[name]
        self.next[name] += 1
        return value


def _count(rng: random.Random, mean: float) -> int:
    """A count about `mean` (Poisson-like, by summing uniform draws)."""
    n, total = 0, rng.expovariate(1.0)
    while total < mean:
        n += 1
        total += rng.expovariate(1.0)
    return n


def _at(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def _activity(
    work: Work,
    ids: _Ids,
    *,
    at: datetime,
    board: int,
    actor: int,
    actor_practice: int | None,
    verb: str,
    subject: tuple[str, int],
    thread: tuple[str, int],
    **values: object,
) -> None:
    work.activity.append(
        {
            "id": ids.take("activity"),
            "at": at,
            "board_id": board,
            "actor_id": actor,
            "actor_practice_id": actor_practice,
            "anonymity": "none",
            "verb": verb,
            "subject_type": subject[0],
            "subject_id": subject[1],
            "thread_type": thread[0],
            "thread_id": thread[1],
            "data": facts(verb, **values),
        }
    )


def _workstream(
    rng: random.Random,
    work: Work,
    ids: _Ids,
    orgs: Organisations,
    people_of: dict[int, list[int]],
    names: dict[int, str],
    pcn: int,
    director: int,
    problems_on: dict[int, list[int]],
    end: datetime,
) -> None:
    practices = orgs.practices_of[pcn]
    theme, aim = rng.choice(_THEMES)
    status = _STATUS.draw(rng)
    created = _at(end - timedelta(days=rng.uniform(30, 400)))
    updated = _at(created + (end - created) * rng.uniform(0.3, 1.0))
    day, hour = rng.choice(_DAYS), rng.choice([8, 12, 13, 16])
    rule = f"FREQ=WEEKLY;BYDAY={day};BYHOUR={hour};BYMINUTE={rng.choice([0, 30])}"
    workstream_id = ids.take("workstream")
    title = f"{theme} {rng.randint(1, 99)}"
    row: Row = {
        "id": workstream_id,
        "organisation_id": pcn,
        "title": title,
        "purpose": f"{aim} Shared across the PCN's practices, reviewed at a weekly huddle.",
        "aim": aim,
        "lead_id": director,
        "status": str(status),
        "meeting_rule": rule,
        "meeting_minutes": 30,
        "version": 1,
        "hidden": False,
        "created_by_id": director,
        "created_at": created,
        "updated_at": updated,
    }
    work.workstreams.append(row)
    thread = ("workstream", workstream_id)
    _activity(
        work,
        ids,
        at=created,
        board=pcn,
        actor=director,
        actor_practice=practices[0],
        verb="workstream_created",
        subject=thread,
        thread=thread,
        title=title,
    )
    joined = [p for p in practices if p == practices[0] or rng.random() < 0.85]
    for practice in joined:
        at = _at(created + timedelta(days=rng.uniform(0, 14)))
        manager = people_of[practice][0]
        work.participations.append(
            {
                "workstream_id": workstream_id,
                "practice_id": practice,
                "joined_by_id": manager,
                "joined_at": at,
                "left_at": None,
            }
        )
        _activity(
            work,
            ids,
            at=at,
            board=pcn,
            actor=manager,
            actor_practice=practice,
            verb="practice_joined",
            subject=("practice", practice),
            thread=thread,
            title=title,
            practice=names[practice],
        )
    candidates = problems_on.get(pcn, [])
    for problem in rng.sample(candidates, min(len(candidates), rng.randint(0, 3))):
        work.links.append(
            {
                "workstream_id": workstream_id,
                "problem_id": problem,
                "linked_by_id": director,
                "linked_at": created,
            }
        )
    _meetings(rng, work, ids, row, joined, end)
    for _ in range(_count(rng, 12.0)):
        _action(rng, work, ids, row, joined, people_of, end)
    if status in (WorkstreamStatus.active, WorkstreamStatus.completed):
        for _ in range(rng.choice([1, 1, 2])):
            _measure(rng, work, ids, row, joined, people_of, end)


def _transient(row: Row) -> Workstream:
    return Workstream(
        meeting_rule=row["meeting_rule"],
        meeting_minutes=row["meeting_minutes"],
        status=WorkstreamStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _meetings(
    rng: random.Random,
    work: Work,
    ids: _Ids,
    row: Row,
    joined: list[int],
    end: datetime,
) -> None:
    """The huddles of the last weeks as they happened: written up, or now and then cancelled."""
    if row["status"] == WorkstreamStatus.proposed:
        return
    since = max(row["created_at"], end - timedelta(weeks=HISTORY_WEEKS))
    director = row["lead_id"]
    for occurrence in meetings.occurrences(_transient(row), since, end):
        meeting_id = ids.take("meeting")
        cancelled = rng.random() < 0.08
        notes = None
        if not cancelled:
            notes = (
                f"Went through the figures for {row['title']}. "
                f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)} before next week."
            )
        attended = [p for p in joined if rng.random() < 0.8] if not cancelled else []
        work.meetings.append(
            {
                "id": meeting_id,
                "workstream_id": row["id"],
                "starts_at": occurrence.starts_at,
                "minutes": 30,
                "location": "Teams",
                "notes": notes,
                "notes_html": render_markdown(notes) if notes else None,
                "decisions": [],
                "attended_practice_ids": attended,
                "status": str(MeetingStatus.cancelled if cancelled else MeetingStatus.held),
                "version": 1,
                "created_by_id": director,
                "created_at": occurrence.starts_at,
                "updated_at": _at(occurrence.ends_at),
            }
        )
        _activity(
            work,
            ids,
            at=_at(occurrence.ends_at),
            board=row["organisation_id"],
            actor=director,
            actor_practice=joined[0],
            verb="meeting_cancelled" if cancelled else "meeting_held",
            subject=("meeting", meeting_id),
            thread=("workstream", row["id"]),
            title=row["title"],
            when=london(occurrence.starts_at),
        )


def _action(
    rng: random.Random,
    work: Work,
    ids: _Ids,
    row: Row,
    joined: list[int],
    people_of: dict[int, list[int]],
    end: datetime,
) -> None:
    practice = rng.choice(joined)
    owner = rng.choice(people_of[practice])
    created = _at(row["created_at"] + (end - row["created_at"]) * rng.random())
    status = _ACTION_STATUS.draw(rng)
    done_at = _at(created + (end - created) * rng.random()) if status != ActionStatus.open else None
    action_id = ids.take("action")
    title = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    work.actions.append(
        {
            "id": action_id,
            "workstream_id": row["id"],
            "title": title,
            "owner_id": owner,
            "practice_id": practice,
            "due_on": (created + timedelta(days=rng.randint(3, 42))).date(),
            "status": str(status),
            "meeting_id": None,
            "decision": None,
            "completed_by_id": owner if status == ActionStatus.done else None,
            "completed_at": done_at if status == ActionStatus.done else None,
            "version": 1 if status == ActionStatus.open else 2,
            "hidden": False,
            "created_by_id": row["lead_id"],
            "created_at": created,
            "updated_at": done_at or created,
        }
    )
    thread = ("workstream", row["id"])
    subject = ("action", action_id)
    common = {"thread": thread, "subject": subject, "title": row["title"], "action": title}
    _activity(
        work,
        ids,
        at=created,
        board=row["organisation_id"],
        actor=row["lead_id"],
        actor_practice=joined[0],
        verb="action_added",
        **common,
    )
    if done_at is not None:
        _activity(
            work,
            ids,
            at=done_at,
            board=row["organisation_id"],
            actor=owner,
            actor_practice=practice,
            verb="action_done" if status == ActionStatus.done else "action_dropped",
            **common,
        )


def _measure(
    rng: random.Random,
    work: Work,
    ids: _Ids,
    row: Row,
    joined: list[int],
    people_of: dict[int, list[int]],
    end: datetime,
) -> None:
    name, unit, better, aggregate, level = rng.choice(_MEASURES)
    measure_id = ids.take("measure")
    created = row["created_at"]
    work.measures.append(
        {
            "id": measure_id,
            "workstream_id": row["id"],
            "name": name,
            "unit": unit,
            "better": str(better),
            "target": level * (0.7 if better == Better.down else 1.1),
            "aggregate": str(aggregate),
            "rebase_periods": [],
            "fix_after": None,
            "version": 1,
            "created_by_id": row["lead_id"],
            "created_at": created,
            "updated_at": created,
        }
    )
    monday = (end - timedelta(days=end.weekday())).date()
    first = max(created.date(), monday - timedelta(weeks=HISTORY_WEEKS))
    weeks = [monday - timedelta(weeks=k) for k in range((monday - first).days // 7, 0, -1)]
    for practice in joined:
        size = rng.lognormvariate(0, 0.4)
        poster = people_of[practice][0]
        # A shift for the better part way through, as a change that worked makes.
        shift_at = (
            rng.randint(len(weeks) // 3, max(len(weeks) // 3, len(weeks) - 1)) if weeks else 0
        )
        for k, period in enumerate(weeks):
            drift = 0.8 if k >= shift_at else 1.0
            if better == Better.up:
                drift = 2 - drift
            posted = datetime.combine(period + timedelta(days=7), datetime.min.time(), UTC)
            point = _point(rng, aggregate, level * size * drift)
            work.points.append(
                {
                    "measure_id": measure_id,
                    "practice_id": practice,
                    "period": period,
                    "value": point[0],
                    "denominator": point[1],
                    "posted_by_id": poster,
                    "posted_at": min(end, posted + timedelta(hours=9)),
                }
            )


def _point(rng: random.Random, aggregate: Aggregate, level: float) -> tuple[float, float | None]:
    if aggregate == Aggregate.ratio:
        asked = float(rng.randint(80, 200))
        share = min(1.0, max(0.0, rng.gauss(min(level, 0.98), 0.05)))
        return float(round(asked * share)), asked
    return round(max(0.0, rng.gauss(level, level * 0.15)), 1), None


def _entry(
    rng: random.Random,
    work: Work,
    ids: _Ids,
    orgs: Organisations,
    people_of: dict[int, list[int]],
    names: dict[int, str],
    board: int,
    federation_practices: list[int],
    end: datetime,
) -> None:
    writers = orgs.practices_of.get(board) or federation_practices
    practice = rng.choice(writers)
    author = rng.choice(people_of[practice])
    theme, aim = rng.choice(_THEMES)
    title = f"How we: {aim[0].lower()}{aim[1:-1]}"[:200]
    versions = rng.choice([1, 1, 1, 2, 2, 3])
    created = _at(end - timedelta(days=rng.uniform(20, 500)))
    entry_id = ids.take("entry")
    tags = tags_of([theme.lower().split()[0], rng.choice(_LIBRARY_TAGS)])
    published_at = created
    for number in range(1, versions + 1):
        at = _at(created + (end - created) * (number - 1) / versions)
        body = (
            f"## What we did\n\n{aim} We started with one practice and a weekly huddle.\n\n"
            f"## Version {number}\n\n{rng.choice(_VERBS)} {rng.choice(_OBJECTS)} first; "
            "share the figures every Monday."
        )
        summary = excerpt(body)
        work.versions.append(
            {
                "entry_id": entry_id,
                "number": number,
                "author_id": author,
                "title": title,
                "summary": summary,
                "body": body,
                "body_html": render_markdown(body),
                "tags": tags,
                "status": str(EntryStatus.published),
                "change_note": None if number == 1 else "Updated after the pilot.",
                "created_at": at,
            }
        )
        published_at = at if number == 1 else published_at
        _activity(
            work,
            ids,
            at=at,
            board=board,
            actor=author,
            actor_practice=practice,
            verb="library_published" if number == 1 else "library_updated",
            subject=("library_entry", entry_id),
            thread=("library_entry", entry_id),
            title=title,
            version=number,
            **({"excerpt": excerpt("Updated after the pilot.")} if number > 1 else {}),
        )
    latest = work.versions[-1]
    takers = min(len(federation_practices), int(rng.paretovariate(0.9)))
    adopted = 0
    for taker in rng.sample(federation_practices, takers):
        status = _ADOPTION.draw(rng)
        at = _at(published_at + (end - published_at) * rng.random())
        setter = people_of[taker][0]
        adopted += status in TAKEN_UP
        work.adoptions.append(
            {
                "entry_id": entry_id,
                "practice_id": taker,
                "status": str(status),
                "version": rng.randint(1, versions),
                "note": None,
                "set_by_id": setter,
                "created_at": at,
                "updated_at": at,
            }
        )
        _activity(
            work,
            ids,
            at=at,
            board=board,
            actor=setter,
            actor_practice=taker,
            verb="library_adoption",
            subject=("library_entry", entry_id),
            thread=("library_entry", entry_id),
            title=title,
            practice=names[taker],
            status=str(status),
            excerpt=None,
        )
    work.library_tags.extend({"entry_id": entry_id, "tag": tag} for tag in tags)
    work.entries.append(
        {
            "id": entry_id,
            "organisation_id": board,
            "author_id": author,
            "title": title,
            "summary": latest["summary"],
            "body": latest["body"],
            "body_html": latest["body_html"],
            "tags": tags,
            "status": str(EntryStatus.published),
            "withdrawn_reason": None,
            "review_by": (end + timedelta(days=rng.randint(30, 365))).date(),
            "source_problem_id": None,
            "source_workstream_id": None,
            "latest_version": versions,
            "adopted_count": adopted,
            "version": versions,
            "hidden": False,
            "created_at": created,
            "updated_at": latest["created_at"],
            "published_at": published_at,
        }
    )
