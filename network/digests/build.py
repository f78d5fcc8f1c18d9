"""Building one person's digest: the news since their last digest on what they may read now,
ranked and capped, under what needs them; nothing they caused, nothing muted, and in `titles`
mode no text anyone wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select

from network import access
from network.access import Principal
from network.activity.descriptions import describe
from network.activity.models import Activity
from network.digests.models import DigestContent, Follow, Frequency, ThreadChoice
from network.digests.services import Preference
from network.people.models import Person
from network.problems.models import Problem
from network.render import day
from network.uow import UnitOfWork
from network.workstreams import standing

MAX_ITEMS = 20
# How many of the window's activity rows are read at most (newest first): more than a digest
# could ever show, however busy the network.
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


def _followed(uow: UnitOfWork, principal: Principal) -> set[tuple[str, int]]:
    """The threads the person follows: asked to, or by writing in them or their practice's
    signal (one statement)."""
    implicit = or_(
        and_(Activity.actor_id == principal.person_id, Activity.verb.in_(_WROTE)),
        and_(
            Activity.verb == "signalled",
            Activity.actor_practice_id.in_(sorted(principal.practices)),
        ),
    )
    rows = uow.session.execute(
        select(Activity.thread_type, Activity.thread_id)
        .where(implicit)
        .union(
            select(Follow.thread_type, Follow.thread_id).where(
                Follow.person_id == principal.person_id, Follow.choice == ThreadChoice.follow
            )
        )
    ).all()
    return {(t, i) for t, i in rows}


def _news(uow: UnitOfWork, principal: Principal, start: datetime, end: datetime):
    """The window's activity the person may read now, not caused by them, not muted: newest
    first, with the identities anonymity shows and the threads' current titles."""
    shown, title, _board = access.thread_columns(Activity.thread_type, Activity.thread_id)
    muted = exists().where(
        Follow.person_id == principal.person_id,
        Follow.choice == ThreadChoice.mute,
        Follow.thread_type == Activity.thread_type,
        Follow.thread_id == Activity.thread_id,
    )
    stmt = access.join_shown_identity(
        select(Activity, Person.name, access.SHOWN_PRACTICE.name, title),
        anonymity=Activity.anonymity,
        person_id=Activity.actor_id,
        practice_id=Activity.actor_practice_id,
    ).where(
        Activity.board_id.in_(sorted(access.readable_board_ids(principal))),
        shown,
        Activity.at >= start,
        Activity.at < end,
        or_(Activity.actor_id.is_(None), Activity.actor_id != principal.person_id),
        ~muted,
    )
    return uow.session.execute(
        stmt.order_by(Activity.at.desc(), Activity.id.desc()).limit(MAX_ROWS)
    ).all()


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
    principal = access.load_principal(uow.session, person)
    titles_only = preference.content is DigestContent.titles
    built = Built(
        person=person,
        period=period,
        window_start=window_start,
        window_end=now,
        titles_only=titles_only,
        activity_link=f"{public_url}/activity",
        settings_link=f"{public_url}/settings/digest",
        unsubscribe_link=unsubscribe_link,
    )
    zone = ZoneInfo(preference.timezone)
    today = now.astimezone(zone).date()
    horizon = timedelta(days=7 if preference.frequency is Frequency.weekly else 1)
    needs = _needs_you(
        uow, principal, public_url, today, today + horizon - timedelta(days=1), now, horizon
    )
    built.overdue = sum(1 for i in needs if i.note == "overdue")
    followed = _followed(uow, principal)
    sections = {key: [] for key in SECTIONS}  # type: dict[str, list[Item]]
    sections["needs_you"] = needs
    problems: dict[int, dict] = {}
    for activity, actor, practice, thread_title in _news(uow, principal, window_start, now):
        kind, thread_id = activity.thread_type, activity.thread_id
        who = actor or practice
        excerpt = None if titles_only else activity.data.get("excerpt")
        chart = None
        if activity.verb == "measure_signal" and not titles_only:
            chart = ChartRef(thread_id, activity.subject_id, activity.data.get("series"))
        item = Item(
            line=describe(activity.verb, activity.data, excerpts=False),
            link=_link(public_url, kind, thread_id),
            excerpt=excerpt,
            who=who,
            at=activity.at,
            chart=chart,
        )
        if (kind, thread_id) in followed:
            sections["following"].append(item)
        elif kind == "problem":
            if activity.verb in _PROBLEM_NEWS:
                entry = problems.setdefault(
                    thread_id, {"title": thread_title, "new": False, "signals": 0}
                )
                entry["new"] |= activity.verb == "posted"
                entry["signals"] += activity.verb == "signalled"
        elif kind == "workstream":
            if activity.verb in _WORKSTREAM_NEWS:
                sections["workstreams"].append(item)
        elif kind == "library_entry":
            sections["library"].append(item)
    sections["problems"] = _ranked_problems(uow, problems, public_url)
    news = sum(len(v) for k, v in sections.items() if k != "needs_you")
    built.news = news
    kept = MAX_ITEMS
    for key, title in SECTIONS.items():
        items = sections[key][: max(kept, 0)]
        kept -= len(items)
        if items:
            built.sections.append(Section(key, title, items))
    built.more = sum(len(v) for v in sections.values()) - built.shown
    built.subject = _subject(sections)
    return built


def _needs_you(uow, principal, public_url, today: date, by: date, now: datetime, horizon):
    items = []
    for action in standing.due_actions(uow, principal, by=by, today=today):
        items.append(
            Item(
                line=f"Your action “{action.title}” in “{action.workstream_title}”",
                link=_link(public_url, "workstream", action.workstream_id),
                note="overdue" if action.overdue else f"due {day(action.due_on)}",
            )
        )
    for huddle in standing.huddles(uow, principal, start=now, end=now + horizon):
        items.append(
            Item(
                line=f"Huddle of “{huddle.workstream_title}”",
                link=f"{public_url}/workstreams/{huddle.workstream_id}/agenda",
                at=huddle.starts_at,
                note="huddle",
            )
        )
    return items


def _ranked_problems(uow: UnitOfWork, problems: dict[int, dict], public_url: str) -> list[Item]:
    """One line per problem with news, most practices affected first."""
    if not problems:
        return []
    counts = dict(
        uow.session.execute(
            select(Problem.id, Problem.affected_count).where(Problem.id.in_(sorted(problems)))
        ).all()
    )
    ranked = sorted(problems, key=lambda pid: (-counts.get(pid, 0), -pid))
    items = []
    for pid in ranked:
        entry = problems[pid]
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


def _subject(sections: dict[str, list[Item]]) -> str:
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
        if sections[key]:
            parts.append(_plural(len(sections[key]), one, many))
    return " · ".join(parts[:3]) or "Nothing new"
