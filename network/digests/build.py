"""Building one person's digest: the news since their last digest on what they may read now,
ranked and capped, under what needs them; nothing they caused, nothing muted, and in `titles`
mode no text anyone wrote."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import islice, takewhile
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from network import access
from network.activity.descriptions import describe
from network.activity.models import Activity
from network.db import among
from network.digests.models import DigestContent, Follow, Frequency, ThreadChoice
from network.digests.services import Preference
from network.people.models import Person
from network.problems.models import Problem
from network.render import day
from network.uow import UnitOfWork
from network.workstreams import standing

MAX_ITEMS = 20
# How many of the window's activity rows on a reader's boards are read at most (newest first),
# before their own and muted ones are set aside: more than a digest could ever show, however
# busy the network (people who share their boards share this read).
MAX_ROWS = 1000
SECTIONS = {
    "needs_you": "Needs you",
    "problems": "Problems on your boards",
    "following": "On what you follow",
    "workstreams": "Workstreams",
    "library": "Best-practice library",
}
_PATHS = {
    "problem": "/problems/{}",
    "workstream": "/workstreams/{}",
    "library_entry": "/library/{}",
}
# What makes a thread followed without asking: the person posted or wrote in it, or their
# practice said "we have this too" (a practice-anonymous post records no signal of its practice).
_WROTE = ("posted", "comment", "idea")
# Unfollowed problems show only as news of the problem itself; unfollowed workstreams as these.
_PROBLEM_NEWS = ("posted", "signalled")
_WORKSTREAM_NEWS = (
    "workstream_created",
    "status_changed",
    "checked_in",
    "measure_signal",
    "meeting_held",
    "problem_linked",
    "practice_joined",
)


class ChartRef(NamedTuple):
    """A measure's chart: the network's (`practice_id` None) or one practice's."""

    workstream_id: int
    measure_id: int
    practice_id: int | None


@dataclass(frozen=True)
class Item:
    line: str
    link: str
    excerpt: str | None = None  # what someone wrote: never in `titles` mode
    who: str | None = None  # the actor or their practice, as anonymity allows
    at: datetime | None = None
    note: str | None = None  # "overdue", "due Tue 8 Dec", "3 practices"
    chart: ChartRef | None = None  # a special-cause signal's chart, drawn in the email


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: list[Item]


@dataclass
class Built:
    person: Person
    period: str
    window_start: datetime
    window_end: datetime
    titles_only: bool
    sections: list[Section] = field(default_factory=list)
    news: int = 0  # news items found (shown or not)
    overdue: int = 0
    more: int = 0  # items left out by the cap
    subject: str = ""
    activity_link: str = ""
    settings_link: str = ""
    unsubscribe_link: str = ""

    @property
    def worth_sending(self) -> bool:
        """News, or something overdue: standing items alone never make an email."""
        return self.news > 0 or self.overdue > 0

    @property
    def shown(self) -> int:
        return sum(len(s.items) for s in self.sections)


def _link(public_url: str, kind: str, thread_id: int) -> str:
    return public_url + _PATHS.get(kind, "/activity").format(thread_id)


@dataclass(frozen=True)
class Reader:
    """One person whose digest is built, with what differs from person to person."""

    person: Person
    preference: Preference
    period: str
    window_start: datetime
    unsubscribe_link: str = ""


def build(
    uow: UnitOfWork,
    person: Person,
    preference: Preference,
    *,
    period: str,
    window_start: datetime,
    now: datetime,
    public_url: str,
    unsubscribe_link: str = "",
) -> Built:
    """The digest `person` would get now for `period`, covering activity from `window_start`
    to `now`. Permissions are the person's as they are now."""
    reader = Reader(person, preference, period, window_start, unsubscribe_link)
    [built] = build_many(uow, [reader], now=now, public_url=public_url)
    return built


def build_many(
    uow: UnitOfWork, readers: Sequence[Reader], *, now: datetime, public_url: str
) -> list[Built]:
    """The digests of many people at once, each exactly as `build` would make it alone, in a
    fixed number of statements however many boards, follows or history each person has: what
    people share is read once for all of them (the news of each set of boards, the problems'
    counts), and what is each person's own (memberships, follows and mutes, actions, huddles) in
    one statement for the whole batch, then sorted out per person here. The news is read once
    per distinct set of readable boards (people of one practice share theirs)."""
    if not readers:
        return []
    principals = access.principals_of(uow.session, [r.person.id for r in readers])
    context = _Context(uow, readers, principals, now)
    news_of = _news_of_board_sets(uow, readers, principals, now, public_url)
    followed, muted = _follows(uow, principals, news_of.values())
    problem_ids = {
        row.thread[1]
        for rows in news_of.values()
        for row in rows
        if row.thread[0] == "problem" and row.verb in _PROBLEM_NEWS
    }
    counts = _affected_counts(uow, problem_ids)
    shared: dict[tuple[frozenset[int], datetime], _Shared] = {}
    found = []
    for reader in readers:
        pid = reader.person.id
        boards = principals[pid].belongs
        news = shared.get((boards, reader.window_start))
        if news is None:
            start = reader.window_start
            rows = list(takewhile(_since(start), news_of[boards]))
            news = shared[(boards, start)] = _Shared(rows, counts)
        found.append(
            _build_one(
                reader,
                context.needs_you(reader, public_url),
                news.seen_by(pid, followed[pid], muted[pid]),
                counts,
                now=now,
                public_url=public_url,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class _Row:
    """One activity row of the news, as every reader of its boards sees it: read and described
    once for all of them."""

    id: int
    at: datetime
    actor_id: int | None
    thread: tuple[str, int]
    verb: str
    title: str
    item: Item  # what `full` digests show
    titles_item: Item  # the same in `titles` mode: no excerpt, no chart


class _Context:
    """What needs each reader: their due actions and huddles, read for the whole batch."""

    def __init__(self, uow: UnitOfWork, readers, principals, now: datetime) -> None:
        self.now = now
        self.today: dict[int, date] = {}
        self.horizon: dict[int, timedelta] = {}
        for reader in readers:
            pid = reader.person.id
            zone = ZoneInfo(reader.preference.timezone)
            self.today[pid] = now.astimezone(zone).date()
            weekly = reader.preference.frequency is Frequency.weekly
            self.horizon[pid] = timedelta(days=7 if weekly else 1)
        latest_by = max(self.today[p] + self.horizon[p] - timedelta(days=1) for p in self.today)
        # `today` differs from zone to zone: each action's "overdue" is worked out per person.
        self.actions = standing.due_actions_of(
            uow, principals, by=latest_by, today=min(self.today.values())
        )
        ends = {p: now + self.horizon[p] for p in self.today}
        self.huddles = standing.huddles_of(uow, principals, start=now, ends=ends)

    def needs_you(self, reader: Reader, public_url: str) -> list[Item]:
        pid = reader.person.id
        today, horizon = self.today[pid], self.horizon[pid]
        by = today + horizon - timedelta(days=1)
        items = []
        for action in self.actions[pid]:
            if action.due_on > by:
                continue
            items.append(
                Item(
                    line=f"Your action “{action.title}” in “{action.workstream_title}”",
                    link=_link(public_url, "workstream", action.workstream_id),
                    note="overdue" if action.due_on < today else f"due {day(action.due_on)}",
                )
            )
        for huddle in self.huddles[pid]:
            items.append(
                Item(
                    line=f"Huddle of “{huddle.workstream_title}”",
                    link=f"{public_url}/workstreams/{huddle.workstream_id}/agenda",
                    at=huddle.starts_at,
                    note="huddle",
                )
            )
        return items


def _news_of_board_sets(
    uow: UnitOfWork, readers, principals, now: datetime, public_url: str
) -> dict[frozenset[int], list[_Row]]:
    """For each distinct set of readable boards among the readers: the activity on them from
    the earliest of their people's windows to `now`, newest first, at most MAX_ROWS, with the
    identities anonymity shows and the threads' current titles. Each person then keeps the
    rows of their own window, not caused by them, not muted.

    One statement for the whole batch: each board's newest MAX_ROWS rows since the earliest
    window, read once however many people read that board (everyone in a federation reads its
    board), then merged per set of boards. Any row among a set's newest MAX_ROWS is among its
    own board's newest MAX_ROWS, so the merge is what a query per set would return."""
    starts: dict[frozenset[int], datetime] = {}
    for reader in readers:
        boards = principals[reader.person.id].belongs
        starts[boards] = min(starts.get(boards, reader.window_start), reader.window_start)
    by_board = _news(uow, frozenset().union(*starts), min(starts.values()), now, public_url)
    found = {}
    for boards, start in starts.items():
        merged = heapq.merge(*(by_board.get(b, ()) for b in sorted(boards)), key=_newest_first)
        found[boards] = list(islice(takewhile(_since(start), merged), MAX_ROWS))
    return found


def _since(start: datetime) -> Callable[[_Row], bool]:
    return lambda row: row.at >= start


def _newest_first(row: _Row) -> tuple[float, int]:
    return (-row.at.timestamp(), -row.id)


def _news(
    uow: UnitOfWork, boards: frozenset[int], start: datetime, end: datetime, public_url: str
) -> dict[int, list[_Row]]:
    """Each board's newest MAX_ROWS rows of activity from `start` to `end`, newest first."""
    shown, title, _board = access.thread_columns(Activity.thread_type, Activity.thread_id)
    rank = (
        func.row_number()
        .over(partition_by=Activity.board_id, order_by=(Activity.at.desc(), Activity.id.desc()))
        .label("rank")
    )
    stmt = access.join_shown_identity(
        select(
            Activity.id,
            Activity.board_id,
            Activity.at,
            Activity.actor_id,
            Activity.thread_type,
            Activity.thread_id,
            Activity.verb,
            Activity.subject_id,
            Activity.data,
            Person.name.label("actor"),
            access.SHOWN_PRACTICE.name.label("practice"),
            title.label("title"),
            rank,
        ),
        anonymity=Activity.anonymity,
        person_id=Activity.actor_id,
        practice_id=Activity.actor_practice_id,
    ).where(
        among(uow.session, Activity.board_id, boards),
        shown,
        Activity.at >= start,
        Activity.at < end,
    )
    ranked = stmt.subquery()
    query = (
        select(ranked)
        .where(ranked.c.rank <= MAX_ROWS)
        .order_by(ranked.c.board_id, ranked.c.at.desc(), ranked.c.id.desc())
    )
    found: dict[int, list[_Row]] = {}
    for (
        row_id,
        board_id,
        at,
        actor_id,
        kind,
        thread_id,
        verb,
        subject_id,
        data,
        actor,
        practice,
        thread_title,
        _rank,
    ) in uow.session.execute(query):
        chart = None
        if verb == "measure_signal":
            chart = ChartRef(thread_id, subject_id, data.get("series"))
        titles_item = Item(
            line=describe(verb, data, excerpts=False),
            link=_link(public_url, kind, thread_id),
            who=actor or practice,
            at=at,
        )
        item = replace(titles_item, excerpt=data.get("excerpt"), chart=chart)
        found.setdefault(board_id, []).append(
            _Row(row_id, at, actor_id, (kind, thread_id), verb, thread_title, item, titles_item)
        )
    return found


def _follows(uow: UnitOfWork, principals, news) -> tuple[dict, dict]:
    """Each person's followed threads among those in the news — asked to, or by writing in them
    or their practice's signal — and their muted threads: two statements for the batch."""
    followed: dict[int, set[tuple[str, int]]] = {p: set() for p in principals}
    muted: dict[int, set[tuple[str, int]]] = {p: set() for p in principals}
    for person_id, kind, thread_id, choice in uow.session.execute(
        select(Follow.person_id, Follow.thread_type, Follow.thread_id, Follow.choice).where(
            among(uow.session, Follow.person_id, principals)
        )
    ):
        (followed if choice == ThreadChoice.follow else muted)[person_id].add((kind, thread_id))
    threads: dict[str, set[int]] = {kind: set() for kind in _PATHS}
    for rows in news:
        for row in rows:
            threads.setdefault(row.thread[0], set()).add(row.thread[1])
    by_practice: dict[int, list[int]] = {}
    for person_id, principal in principals.items():
        for practice_id in principal.practices:
            by_practice.setdefault(practice_id, []).append(person_id)
    implicit = or_(
        and_(among(uow.session, Activity.actor_id, principals), Activity.verb.in_(_WROTE)),
        and_(
            Activity.verb == "signalled",
            among(uow.session, Activity.actor_practice_id, by_practice),
        ),
    )
    in_news = or_(
        *(
            and_(Activity.thread_type == kind, among(uow.session, Activity.thread_id, ids))
            for kind, ids in sorted(threads.items())
        )
    )
    for actor_id, practice_id, verb, kind, thread_id in uow.session.execute(
        select(
            Activity.actor_id,
            Activity.actor_practice_id,
            Activity.verb,
            Activity.thread_type,
            Activity.thread_id,
        )
        .where(implicit, in_news)
        .distinct()
    ):
        if verb in _WROTE and actor_id in followed:
            followed[actor_id].add((kind, thread_id))
        if verb == "signalled" and practice_id is not None:
            for person_id in by_practice.get(practice_id, ()):
                followed[person_id].add((kind, thread_id))
    return followed, muted


def _affected_counts(uow: UnitOfWork, problem_ids: set[int]) -> dict[int, int]:
    return dict(
        uow.session.execute(
            select(Problem.id, Problem.affected_count).where(
                among(uow.session, Problem.id, problem_ids)
            )
        ).all()
    )


_PROBLEM, _WORKSTREAM, _LIBRARY = "problems", "workstreams", "library"


def _category(row: _Row) -> str | None:
    """Where a row shows for a reader who neither follows its thread nor muted it, nor wrote it:
    problems (as one line per problem), workstreams, the library, or nowhere."""
    kind = row.thread[0]
    if kind == "problem":
        return _PROBLEM if row.verb in _PROBLEM_NEWS else None
    if kind == "workstream":
        return _WORKSTREAM if row.verb in _WORKSTREAM_NEWS else None
    if kind == "library_entry":
        return _LIBRARY
    return None


def _tally(entries: dict[int, dict], row: _Row) -> None:
    entry = entries.get(row.thread[1])
    if entry is None:
        entry = entries[row.thread[1]] = {"title": row.title, "new": False, "signals": 0}
    entry["new"] |= row.verb == "posted"
    entry["signals"] += row.verb == "signalled"


@dataclass
class _Seen:
    """A reader's news, sorted into sections: each section's first MAX_ITEMS rows (newest
    first) or problems (ranked), and how many there are in all."""

    following: list[_Row]
    problems: list[tuple[int, dict]]
    workstreams: list[_Row]
    library: list[_Row]
    sizes: dict[str, int]


class _Shared:
    """The news of one set of boards from one moment on (up to MAX_ROWS rows, newest first),
    sorted once into what all its readers see, with indexes by thread and by actor. A reader's
    own digest differs from it only in the threads they touch — those they follow, muted or
    wrote in — so each reader then costs the rows of those threads and the first MAX_ITEMS of
    each section (`seen_by`), not the whole news: the people of a practice share theirs."""

    def __init__(self, rows: list[_Row], counts: dict[int, int]) -> None:
        self.rows = rows
        self.counts = counts
        self.by_thread: dict[tuple[str, int], list[int]] = {}
        self.by_actor: dict[int, list[int]] = {}
        self.categories: list[str | None] = []
        self.listed: dict[str, list[int]] = {_WORKSTREAM: [], _LIBRARY: []}
        self.problems: dict[int, dict] = {}
        for pos, row in enumerate(rows):
            self.by_thread.setdefault(row.thread, []).append(pos)
            if row.actor_id is not None:
                self.by_actor.setdefault(row.actor_id, []).append(pos)
            category = _category(row)
            self.categories.append(category)
            if category == _PROBLEM:
                _tally(self.problems, row)
            elif category is not None:
                self.listed[category].append(pos)
        self.ranked = sorted(self.problems, key=self._rank)

    def _rank(self, problem_id: int) -> tuple[int, int]:
        """Most practices affected first, then the newest problem."""
        return (-self.counts.get(problem_id, 0), -problem_id)

    def seen_by(
        self, person_id: int, followed: set[tuple[str, int]], muted: set[tuple[str, int]]
    ) -> _Seen:
        """The news as `person_id` sees it: nothing they did, nothing muted, and what they
        follow in a section of its own; the same as sorting every row for them alone."""
        rows = self.rows
        touched = {t for t in followed if t in self.by_thread}
        touched.update(t for t in muted if t in self.by_thread)
        touched.update(rows[pos].thread for pos in self.by_actor.get(person_id, ()))
        following: list[int] = []
        added: dict[str, list[int]] = {_WORKSTREAM: [], _LIBRARY: []}
        removed = {_WORKSTREAM: 0, _LIBRARY: 0}
        problems: dict[int, dict] = {}
        problems_removed = 0
        for thread in touched:
            if thread[0] == "problem" and thread[1] in self.problems:
                problems_removed += 1
            for pos in self.by_thread[thread]:
                category = self.categories[pos]
                if category in removed:
                    removed[category] += 1
                row = rows[pos]
                if thread in muted or row.actor_id == person_id:
                    continue
                if thread in followed:
                    following.append(pos)
                elif category == _PROBLEM:
                    _tally(problems, row)
                elif category is not None:
                    added[category].append(pos)
        sizes = {
            "following": len(following),
            _PROBLEM: len(self.problems) - problems_removed + len(problems),
        }
        listed: dict[str, list[_Row]] = {}
        for category, base in self.listed.items():
            kept = (pos for pos in base if rows[pos].thread not in touched)
            merged = heapq.merge(kept, sorted(added[category]))
            listed[category] = [rows[pos] for pos in islice(merged, MAX_ITEMS)]
            sizes[category] = len(base) - removed[category] + len(added[category])
        top = [
            (pid, self.problems[pid])
            for pid in islice(
                (pid for pid in self.ranked if ("problem", pid) not in touched), MAX_ITEMS
            )
        ]
        top += problems.items()
        top.sort(key=lambda pair: self._rank(pair[0]))
        return _Seen(
            following=[rows[pos] for pos in sorted(following)[:MAX_ITEMS]],
            problems=top[:MAX_ITEMS],
            workstreams=listed[_WORKSTREAM],
            library=listed[_LIBRARY],
            sizes=sizes,
        )


def _build_one(
    reader: Reader,
    needs: list[Item],
    seen: _Seen,
    counts: dict[int, int],
    *,
    now: datetime,
    public_url: str,
) -> Built:
    preference = reader.preference
    titles_only = preference.content is DigestContent.titles
    built = Built(
        person=reader.person,
        period=reader.period,
        window_start=reader.window_start,
        window_end=now,
        titles_only=titles_only,
        activity_link=f"{public_url}/activity",
        settings_link=f"{public_url}/settings/digest",
        unsubscribe_link=reader.unsubscribe_link,
    )
    built.overdue = sum(1 for i in needs if i.note == "overdue")

    def items(rows: list[_Row]) -> list[Item]:
        return [row.titles_item if titles_only else row.item for row in rows]

    sections = {
        "needs_you": needs,
        "problems": _ranked_problems(seen.problems, counts, public_url),
        "following": items(seen.following),
        "workstreams": items(seen.workstreams),
        "library": items(seen.library),
    }
    sizes = {"needs_you": len(needs), **seen.sizes}
    built.news = sum(n for k, n in sizes.items() if k != "needs_you")
    kept = MAX_ITEMS
    for key, title in SECTIONS.items():
        shown = sections[key][: max(kept, 0)]
        kept -= len(shown)
        if shown:
            built.sections.append(Section(key, title, shown))
    built.more = sum(sizes.values()) - built.shown
    built.subject = _subject(sections, sizes)
    return built


def _ranked_problems(
    problems: list[tuple[int, dict]], counts: dict[int, int], public_url: str
) -> list[Item]:
    """One line per problem with news, ranked already (most practices affected first)."""
    items = []
    for pid, entry in problems:
        affected = counts.get(pid, 0)
        what = (
            "new"
            if entry["new"]
            else f"{entry['signals']} more practice{'s' if entry['signals'] != 1 else ''} have it"
        )
        items.append(
            Item(
                line=f"“{entry['title']}”",
                link=_link(public_url, "problem", pid),
                note=f"{what} · {affected} practice{'s' if affected != 1 else ''} affected",
            )
        )
    return items


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _subject(sections: dict[str, list[Item]], sizes: dict[str, int]) -> str:
    """What needs them first, then the biggest news: "2 actions due · 5 problems shared"."""
    parts = []
    overdue = sum(1 for i in sections["needs_you"] if i.note == "overdue")
    due = sum(1 for i in sections["needs_you"] if i.note and i.note.startswith("due"))
    huddles = sum(1 for i in sections["needs_you"] if i.note == "huddle")
    if overdue:
        parts.append(_plural(overdue, "action overdue", "actions overdue"))
    if due:
        parts.append(_plural(due, "action due", "actions due"))
    if huddles:
        parts.append(_plural(huddles, "huddle", "huddles"))
    news = [
        ("problems", "problem shared", "problems shared"),
        ("following", "update on what you follow", "updates on what you follow"),
        ("workstreams", "workstream update", "workstream updates"),
        ("library", "library update", "library updates"),
    ]
    for key, one, many in news:
        if sizes[key]:
            parts.append(_plural(sizes[key], one, many))
    return " · ".join(parts[:3]) or "Nothing new"
