"""The huddle's agenda, built from what changed since the last one, in a fixed order: what was
carried over, special-cause signals of the workstream's measures, problems newly taken on or newly
shared, overdue actions, actions due before the next huddle, check-ins, and what got done.

Everything is read as this reader reads it: problems on boards they cannot read, and hidden
actions and check-ins, are not there; practices that say "we have this too" are counted, never
named. A constant number of statements, whatever the workstream holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from network import access
from network.access import Principal
from network.access import problems as problem_rules
from network.access import workstreams as rules
from network.activity.models import Activity
from network.db import utcnow
from network.measures.models import Measure
from network.organisations.models import Organisation
from network.problems.models import AffectedPractice, Problem
from network.safety import excerpt
from network.text import LONDON
from network.uow import UnitOfWork
from network.workstreams import huddles, meetings, queries
from network.workstreams.models import (
    Action,
    ActionStatus,
    CheckIn,
    LinkedProblem,
)

SECTIONS = {
    "carried_over": "Carried over from last time",
    "signals": "Special-cause signals",
    "problems": "Problems taken on, and more practices affected",
    "overdue_actions": "Overdue actions",
    "due_actions": "Due before the next huddle",
    "check_ins": "Check-ins from practices",
    "completed_actions": "Done since last time",
}
# Every item has every field (those its kind does not use are null), so clients get one exact
# type: kind, text, subject and link always; the rest by kind.
ITEM_FIELDS: dict[str, Any] = {
    "decision": None,  # decision: its index in the meeting's decisions
    "action": None,  # decision: the action it became
    "owner": None,  # action
    "practice": None,  # action, check_in
    "due_on": None,  # action
    "status": None,  # action
    "was_due": False,  # action: carried over, due by the last huddle
    "completed_at": None,  # action done since the last huddle
    "practices_affected": None,  # problem_linked, problem_signals
    "new_practices": None,  # problem_signals
    "author": None,  # check_in
    "created_at": None,  # check_in
    "measure": None,  # signal: {id, name}
    "variation": None,  # signal: improvement_low, concern_high, ...
    "rules": None,  # signal: the rules that fired
    "period": None,  # signal: the point that completed it
}

ORDER = tuple(SECTIONS)  # the order API.md gives
# Improvement first, then concern, then a change in a measure that has no better direction.
_SIGNAL_ORDER = {"improvement": 0, "concern": 1, "neutral": 2}


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    items: list[dict[str, Any]]
    minutes: int = 0  # a suggested share of the huddle


@dataclass(frozen=True)
class Agenda:
    workstream: Any  # the Workstream
    owner: Any  # its Organisation
    last: huddles.MeetingView | None
    meeting: huddles.MeetingView | None
    since: datetime
    sections: list[Section]
    link: str
    # From this moment the clock alone may change it (a huddle starts or ends, a day turns):
    # a remembered copy is built afresh from then on.
    stands_until: datetime | None = None


def _link(public_url: str, path: str) -> str:
    return f"{public_url}{path}"


def _named(row: Any) -> dict[str, Any] | None:
    return None if row is None else {"id": row.id, "name": row.name}


def build(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    public_url: str,
    now: datetime | None = None,
) -> Agenda:
    """The agenda of the workstream's next huddle (or of the one under way) for this reader."""
    view = queries.get(uow, principal, workstream_id)
    workstream = view.workstream
    now = now or utcnow()
    around = huddles.around(uow, view, now)
    since = around.last.starts_at if around.last else workstream.created_at
    until = min(now, around.this.starts_at) if around.this else now
    today = until.astimezone(LONDON).date()
    last_day = around.last.starts_at.astimezone(LONDON).date() if around.last else None
    this_day = around.this.starts_at.astimezone(LONDON).date() if around.this else today
    following_day = (
        around.following.starts_at.astimezone(LONDON).date()
        if around.following
        else this_day + timedelta(days=7)
    )
    here = f"/workstreams/{workstream.id}"

    def action_item(row: queries.ActionView, **more: Any) -> dict[str, Any]:
        action = row.action
        return {
            "kind": "action",
            "text": action.title,
            "subject": {"type": "action", "id": action.id},
            "link": _link(public_url, here),
            "owner": _named(row.owner),
            "practice": _named(row.practice),
            "due_on": action.due_on,
            "status": action.status.value,
            **more,
        }

    open_actions = _actions(
        uow, workstream.id, Action.status == ActionStatus.open, Action.due_on < following_day
    )
    carried = [a for a in open_actions if last_day is not None and a.action.due_on <= last_day]
    overdue = [a for a in open_actions if a not in carried and a.action.due_on < today]
    due = [a for a in open_actions if today <= a.action.due_on]
    done = _actions(
        uow,
        workstream.id,
        Action.status == ActionStatus.done,
        Action.completed_at >= since,
        Action.completed_at < until,
        order=Action.completed_at,
    )

    sections: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ORDER}
    if around.last is not None and around.last.meeting is not None:
        decisions = _decisions(uow, view, around.last, public_url, here)
        sections["carried_over"] += decisions
        # An action a decision became is followed up with its decision, not twice.
        followed = {d["action"]["id"] for d in decisions if d["action"] is not None}
        overdue = [a for a in overdue if a.action.id not in followed]
        due = [a for a in due if a.action.id not in followed]
    sections["carried_over"] += [action_item(a, was_due=True) for a in carried]
    sections["signals"] += _signals(uow, workstream.id, since, until, public_url, here)
    sections["problems"] += _problems(uow, principal, workstream.id, since, until, public_url)
    sections["overdue_actions"] += [action_item(a) for a in overdue]
    sections["due_actions"] += [action_item(a) for a in due]
    sections["check_ins"] += _check_ins(uow, workstream.id, since, until, public_url, here)
    sections["completed_actions"] += [
        action_item(a, completed_at=a.action.completed_at) for a in done
    ]
    present = [
        Section(kind, SECTIONS[kind], [ITEM_FIELDS | item for item in items])
        for kind, items in sections.items()
        if items
    ]
    length = around.this.minutes if around.this else workstream.meeting_minutes
    return Agenda(
        workstream,
        view.owner,
        around.last,
        around.this,
        since,
        _timed(present, length),
        _link(public_url, f"{here}/agenda"),
        _stands_until(around, now),
    )


# A row is stamped with its writer's clock; one a little ahead of this reader's shows within this.
_CLOCKS_APART = timedelta(minutes=1)


def _stands_until(around: huddles.Around, now: datetime) -> datetime:
    """The first moment after `now` at which the same rows could make another agenda: a huddle
    around it starts or ends (which one is next, or under way, changes), the last one leaves
    the year looked back on, or the day turns in London (overdue, due)."""
    local = now.astimezone(LONDON)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), LONDON)
    moments = [now + _CLOCKS_APART, midnight]
    for huddle in (around.last, around.this, around.following):
        if huddle is not None:
            moments += [huddle.starts_at, huddle.ends_at]
    if around.last is not None:
        moments.append(around.last.starts_at + meetings.LONGEST_SPAN)
    return min(m for m in moments if m > now)


def _timed(sections: list[Section], minutes: int) -> list[Section]:
    """Each section's suggested minutes, in proportion to its items and at least one each,
    adding up to the huddle's length (largest remainders)."""
    if not sections:
        return sections
    weights = [len(s.items) for s in sections]
    spare = max(0, minutes - len(sections))
    shares = [spare * w / sum(weights) for w in weights]
    given = [1 + int(share) for share in shares]
    left = minutes - sum(given)
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - int(shares[i]))
    for i in reversed(by_remainder[-left:] if left > 0 else []):
        given[i] += 1
    return [Section(s.kind, s.title, s.items, n) for s, n in zip(sections, given, strict=True)]


def _actions(uow: UnitOfWork, workstream_id: int, *where: Any, order: Any = None):
    stmt = queries.action_rows().where(
        Action.workstream_id == workstream_id, rules.action_shown(), *where
    )
    stmt = stmt.order_by(*(o for o in (order, Action.due_on, Action.id) if o is not None))
    return [queries.ActionView(*row) for row in uow.session.execute(stmt).all()]


def _decisions(
    uow: UnitOfWork,
    view: queries.WorkstreamView,
    last: huddles.MeetingView,
    public_url: str,
    here: str,
) -> list[dict[str, Any]]:
    """The last huddle's decisions, each with the action it became (if the reader sees it)."""
    made = {
        action.decision: action
        for action in uow.session.scalars(
            select(Action).where(Action.meeting_id == last.id, rules.action_shown())
        )
    }
    items = []
    for n, text in enumerate(last.decisions):
        action = made.get(n)
        items.append(
            {
                "kind": "decision",
                "text": text,
                "subject": {"type": "meeting", "id": last.id},
                "link": _link(public_url, here),
                "decision": n,
                "action": None
                if action is None
                else {
                    "id": action.id,
                    "title": action.title,
                    "status": action.status.value,
                    "due_on": action.due_on,
                },
            }
        )
    return items


def _problems(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    since: datetime,
    until: datetime,
    public_url: str,
) -> list[dict[str, Any]]:
    """Problems newly taken on, then linked problems more practices now have, for this reader:
    of problems on boards they do not read, nothing."""
    readable = (
        Problem.board_id.in_(access.readable_board_ids(principal)),
        problem_rules.shown(),
    )
    linked = uow.session.execute(
        select(Problem.id, Problem.title, Problem.affected_count, LinkedProblem.linked_at)
        .join(LinkedProblem, LinkedProblem.problem_id == Problem.id)
        .where(LinkedProblem.workstream_id == workstream_id, *readable)
    ).all()
    new = sorted(
        (row for row in linked if since <= row.linked_at < until), key=lambda r: r.linked_at
    )
    new_ids = {row.id for row in new}
    others = {row.id: row for row in linked if row.id not in new_ids}
    counted = uow.session.execute(
        select(AffectedPractice.problem_id, func.count())
        .where(
            AffectedPractice.problem_id.in_(sorted(others)),
            AffectedPractice.created_at >= since,
            AffectedPractice.created_at < until,
        )
        .group_by(AffectedPractice.problem_id)
    )
    signals = {problem_id: int(count) for problem_id, count in counted}
    items = [
        {
            "kind": "problem_linked",
            "text": row.title,
            "subject": {"type": "problem", "id": row.id},
            "link": _link(public_url, f"/problems/{row.id}"),
            "practices_affected": row.affected_count,
        }
        for row in new
    ]
    for problem_id, count in sorted(signals.items(), key=lambda kv: (-kv[1], kv[0])):
        row = others[problem_id]
        items.append(
            {
                "kind": "problem_signals",
                "text": row.title,
                "subject": {"type": "problem", "id": row.id},
                "link": _link(public_url, f"/problems/{row.id}"),
                "practices_affected": row.affected_count,
                "new_practices": count,
            }
        )
    return items


def _check_ins(
    uow: UnitOfWork,
    workstream_id: int,
    since: datetime,
    until: datetime,
    public_url: str,
    here: str,
) -> list[dict[str, Any]]:
    rows = uow.session.execute(
        queries.check_in_rows()
        .where(
            CheckIn.workstream_id == workstream_id,
            rules.check_in_shown(),
            CheckIn.created_at >= since,
            CheckIn.created_at < until,
        )
        .order_by(CheckIn.created_at, CheckIn.id)
    ).all()
    items = []
    for check_in, author, practice in rows:
        items.append(
            {
                "kind": "check_in",
                "text": excerpt(check_in.body),
                "subject": {"type": "check_in", "id": check_in.id},
                "link": _link(public_url, here),
                "author": _named(author),
                "practice": _named(practice),
                "created_at": check_in.created_at,
            }
        )
    return items


def _signals(
    uow: UnitOfWork,
    workstream_id: int,
    since: datetime,
    until: datetime,
    public_url: str,
    here: str,
) -> list[dict[str, Any]]:
    """Special-cause signals posted since the last huddle: the latest of each series (a
    measure's network series or one practice's), improvement first. Every reader of the
    workstream sees every practice's series, so every one of them sees these."""
    rows = uow.session.execute(
        select(Activity.data, Activity.subject_id, Measure.name)
        .join(Measure, Measure.id == Activity.subject_id)
        .where(
            Activity.thread_type == "workstream",
            Activity.thread_id == workstream_id,
            Activity.verb == "measure_signal",
            Activity.subject_type == "measure",
            Activity.at >= since,
            Activity.at < until,
        )
        .order_by(Activity.at, Activity.id)
    ).all()
    latest = {(measure_id, data.get("series")): (data, name) for data, measure_id, name in rows}
    names = dict(
        uow.session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_(sorted({s for _, s in latest if s is not None}))
            )
        ).all()
    )
    items = []
    for (measure_id, series), (data, name) in latest.items():
        practice = None if series is None else {"id": series, "name": names.get(series, "")}
        items.append(
            {
                "kind": "signal",
                "text": name,
                "subject": {"type": "measure", "id": measure_id},
                "link": _link(public_url, here),
                "measure": {"id": measure_id, "name": name},
                "practice": practice,
                "variation": data.get("variation"),
                "rules": list(data.get("rules") or []),
                "period": date.fromisoformat(data["period"]),
            }
        )
    items.sort(
        key=lambda i: (
            _SIGNAL_ORDER.get(str(i["variation"]).partition("_")[0], 3),
            i["measure"]["name"],
            i["practice"] is not None,
            i["practice"]["name"] if i["practice"] else "",
        )
    )
    return items
