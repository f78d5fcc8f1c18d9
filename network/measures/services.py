"""Changing measures: the workstream's managers define them; members of the practices taking part
post their own practice's points (the managers, any practice's). One value per practice and
period: posting again replaces it."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from network.access import Principal
from network.activity.services import Ref
from network.db import utcnow
from network.errors import Forbidden, Invalid, NotFound
from network.measures import series as measure_series
from network.measures import spc
from network.measures.models import Aggregate, Better, Measure, MeasurePoint
from network.measures.series import Row
from network.organisations.models import Organisation
from network.preconditions import ANY_VERSION, IfMatch, bump_version
from network.safety import refuse_nhs_numbers
from network.text import LONDON, clean_name
from network.uow import UnitOfWork
from network.workstreams import activity
from network.workstreams import queries as workstream_queries

MIN_FIX_AFTER = 12
MAX_POINTS = 5000  # in one request
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
REBASES = 20
CHUNK = 1000  # rows per statement: 7,000 parameters
SETTLED_LOOKBACK = 4  # periods a network point is compared with (`_settled`)


@dataclass(frozen=True)
class Signal:
    """A special-cause signal a post completed: the series (a practice's, or the network's when
    `practice` is None) whose latest point now shows it."""

    practice: Organisation | None
    period: date  # the series' latest point
    variation: str  # improvement_low, concern_high, ...
    rules: tuple[str, ...]  # the rules that fired for that point


@dataclass(frozen=True)
class Posted:
    count: int  # points stored (a practice's period given twice counts once)
    signals: list[Signal]


@dataclass(frozen=True)
class PointIn:
    period: date
    value: float
    practice_id: int | None = None
    denominator: float | None = None


def _managed(uow: UnitOfWork, principal: Principal, workstream_id: int):
    view = workstream_queries.get(uow, principal, workstream_id)
    if not view.rights.manage:
        raise Forbidden("Only the workstream's managers define its measures.")
    return view


def _rebases(values: list[date]) -> list[str]:
    if len(values) > REBASES:
        raise Invalid(f"rebase_periods: at most {REBASES}.", field="rebase_periods")
    return [d.isoformat() for d in sorted(set(values))]


def _check(measure: Measure) -> None:
    if measure.fix_after is not None and measure.fix_after < MIN_FIX_AFTER:
        raise Invalid(
            f"fix_after: limits are fixed from {MIN_FIX_AFTER} points or more.", field="fix_after"
        )
    if measure.target is not None and not math.isfinite(measure.target):
        raise Invalid("target: a number.", field="target")


def create(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    name: str,
    unit: str,
    better: Better,
    target: float | None = None,
    aggregate: Aggregate = Aggregate.mean,
    rebase_periods: list[date] | None = None,
    fix_after: int | None = None,
) -> Measure:
    view = _managed(uow, principal, workstream_id)
    refuse_nhs_numbers([("name", name), ("unit", unit)])
    now = utcnow()
    measure = Measure(
        workstream_id=view.workstream.id,
        name=clean_name(name, field="name"),
        unit=clean_name(unit, field="unit"),
        better=Better(better),
        target=target,
        aggregate=Aggregate(aggregate),
        rebase_periods=_rebases(rebase_periods or []),
        fix_after=fix_after,
        created_by_id=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    _check(measure)
    uow.session.add(measure)
    uow.session.flush()
    return measure


def get(uow: UnitOfWork, principal: Principal, workstream_id: int, measure_id: int):
    """(the workstream's view, the measure) for a reader of the workstream."""
    view = workstream_queries.get(uow, principal, workstream_id)
    measure = uow.session.get(Measure, measure_id)
    if measure is None or measure.workstream_id != view.workstream.id:
        raise NotFound(f"Measure {measure_id} not found.")
    return view, measure


def update(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    measure_id: int,
    *,
    if_match: IfMatch | None = None,
    **changes: Any,
) -> Measure:
    """Rename, retarget or rebase a measure (the managers). Its aggregate stays: the points
    posted were posted for it."""
    _managed(uow, principal, workstream_id)
    _, measure = get(uow, principal, workstream_id, measure_id)
    if "rebase_periods" in changes:
        changes["rebase_periods"] = _rebases(changes["rebase_periods"] or [])
    changes = {k: v for k, v in changes.items() if v != getattr(measure, k)}
    if not changes:
        return measure  # nothing changes: no new version
    bump_version(uow.session, measure, if_match or ANY_VERSION)
    for name in ("name", "unit"):
        if name in changes:
            refuse_nhs_numbers([(name, changes[name])])
            setattr(measure, name, clean_name(changes[name], field=name))
    for name in ("better", "target", "rebase_periods", "fix_after"):
        if name in changes:
            setattr(measure, name, changes[name])
    _check(measure)
    measure.updated_at = utcnow()
    uow.session.flush()
    return measure


def post_points(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    measure_id: int,
    points: list[PointIn],
) -> Posted:
    """Post points (replacing a practice's value for a period it had one): for the caller's own
    practice when they are a member of one taking part, for any practice taking part when they
    manage the workstream. All or nothing: one bad point refuses the lot, naming it."""
    view, measure = get(uow, principal, workstream_id, measure_id)
    if not points:
        raise Invalid("points: at least one.", field="points")
    if len(points) > MAX_POINTS:
        raise Invalid(f"points: at most {MAX_POINTS} in one request.", field="points")
    taking_part = workstream_queries.participating(uow, view.workstream.id)
    own = principal.practices & taking_part
    now = utcnow()
    today = now.astimezone(LONDON).date()
    rows: dict[tuple[int, date], PointIn] = {}
    for n, point in enumerate(points):
        where = f"points[{n}]"
        practice_id = point.practice_id
        if not view.rights.manage and not own:
            raise Forbidden("Your practice does not take part in this workstream.")
        if practice_id is None:
            if len(own) != 1:
                raise Invalid(
                    f"{where}.practice_id: say which practice it is for.", field="practice_id"
                )
            practice_id = next(iter(own))
        if not view.rights.manage and practice_id not in own:
            raise Forbidden("Members post their own practice's points; the managers, any.")
        if practice_id not in taking_part:
            raise Invalid(
                f"{where}.practice_id: practice {practice_id} does not take part.",
                field="practice_id",
            )
        if not EARLIEST <= point.period <= LATEST:
            raise Invalid(f"{where}.period: a date from 2000 to 2099.", field="period")
        if point.period > today:
            raise Invalid(
                f"{where}.period: {point.period.isoformat()} has not begun yet.", field="period"
            )
        if not math.isfinite(point.value) or abs(point.value) > 1e12:
            raise Invalid(f"{where}.value: a finite number.", field="value")
        if measure.aggregate is Aggregate.ratio:
            if point.denominator is None or not (0 < point.denominator <= 1e12):
                raise Invalid(
                    f"{where}.denominator: a ratio measure's points need one above 0.",
                    field="denominator",
                )
        elif point.denominator is not None:
            raise Invalid(
                f"{where}.denominator: only ratio measures have one.", field="denominator"
            )
        rows[(practice_id, point.period)] = PointIn(
            point.period, point.value, practice_id, point.denominator
        )
    # Posts to one measure take turns (SQLite's writers already do), so each judges its
    # signals against the series as the one before left it: two at once never both announce
    # the same signal, nor each miss the one their points make together.
    uow.session.execute(select(Measure.id).where(Measure.id == measure.id).with_for_update())
    before = measure_series.rows(uow, measure)
    # One statement that inserts or replaces: a read-then-insert would let two posts of the
    # same practice and period both find nothing and both insert (a primary-key error).
    values = [
        {
            "measure_id": measure.id,
            "practice_id": practice_id,
            "period": period,
            "value": point.value,
            "denominator": point.denominator,
            "posted_by_id": principal.person_id,
            "posted_at": now,
        }
        for (practice_id, period), point in rows.items()
    ]
    insert = (
        postgresql.insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    for start in range(0, len(values), CHUNK):  # within either database's bound parameters
        stmt = insert(MeasurePoint).values(values[start : start + CHUNK])
        uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["measure_id", "practice_id", "period"],
                set_={
                    name: stmt.excluded[name]
                    for name in ("value", "denominator", "posted_by_id", "posted_at")
                },
            )
        )
    after = {(r.practice_id, r.period): r for r in before} | {
        key: Row(key[0], key[1], point.value, point.denominator) for key, point in rows.items()
    }
    signals = completed_signals(
        uow, measure, before, list(after.values()), {practice_id for practice_id, _ in rows}
    )
    posted_for = {practice_id for practice_id, _ in rows}
    acting_for = next(iter(posted_for)) if len(posted_for) == 1 else None
    for signal in signals:
        activity.record(
            uow,
            principal,
            view.workstream,
            "measure_signal",
            subject=Ref("measure", measure.id),
            practice_id=activity.shown_practice(principal, acting_for),
            measure=measure.name,
            practice=signal.practice.name if signal.practice else None,
            series=signal.practice.id if signal.practice else None,
            variation=signal.variation,
            rules=list(signal.rules),
            period=signal.period.isoformat(),
        )
    return Posted(len(rows), signals)


def _settled(points: list[measure_series.SeriesPoint]) -> list[measure_series.SeriesPoint]:
    """The network's series without its latest periods while they combine fewer practices than
    the most that posted any of the few periods before: practices post a week's values one by
    one, and a week only some have posted (a sum with half its practices, say) is not a signal
    of anything. (After a practice leaves, the network's signals wait a few periods.)"""
    end = len(points)
    while end >= 2:
        recent = max(p.practices for p in points[max(0, end - 1 - SETTLED_LOOKBACK) : end - 1])
        if points[end - 1].practices >= recent:
            break
        end -= 1
    return points[:end]


def completed_signals(
    uow: UnitOfWork,
    measure: Measure,
    before: list[Row],
    after: list[Row],
    practice_ids: set[int],
) -> list[Signal]:
    """The series a post changed (the network's, and each practice's it posted for) whose
    latest point now shows special cause that it did not show before: the variation icon
    turned from common cause, or from one kind to another. A signal that merely goes on (the
    eighth point of a shift) is not news again. The network's latest periods count once they
    are settled (`_settled`)."""
    found: list[tuple[int | None, spc.ChartPoint, str]] = []
    for practice_id in [None, *sorted(practice_ids)]:
        was, now = (
            measure_series.analyse(
                measure, _settled(measure_series.series(measure, rows, practice_id))
            )
            for rows in (before, after)
        )
        if now.variation not in (None, "common_cause", was.variation):
            found.append((practice_id, now.points[-1], now.variation))
    if not found:
        return []
    named = {
        organisation.id: organisation
        for organisation in uow.session.scalars(
            select(Organisation).where(
                Organisation.id.in_([p for p, _, _ in found if p is not None])
            )
        )
    }
    return [
        Signal(
            named[practice_id] if practice_id is not None else None,
            point.period,
            variation,
            point.signals,
        )
        for practice_id, point, variation in found
    ]


def parse_csv(uow: UnitOfWork, text: str) -> list[PointIn]:
    """`period,value[,practice_ods_code]` lines (a ratio measure's: `period,value,denominator
    [,practice_ods_code]` when the header says so), with or without a header line naming the
    columns; periods as YYYY-MM-DD."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise Invalid("The CSV has no rows.", field="csv")
    columns = ["period", "value", "practice_ods_code"]
    first = [cell.strip().lower() for cell in rows[0]]
    header = bool(first) and first[0] == "period"
    if header:
        unknown = set(first) - {"period", "value", "denominator", "practice_ods_code"}
        if unknown or "value" not in first:
            raise Invalid(
                "csv: columns are period, value, denominator and practice_ods_code.", field="csv"
            )
        columns, rows = first, rows[1:]
    codes: set[str] = set()
    parsed: list[dict[str, str]] = []
    for line, row in enumerate(rows, start=2 if header else 1):
        if len(row) > len(columns) or len(row) < 2:
            raise Invalid(f"csv line {line}: {len(row)} columns.", field="csv")
        cells = dict(zip(columns, (c.strip() for c in row), strict=False))
        parsed.append(cells | {"line": str(line)})
        if cells.get("practice_ods_code"):
            codes.add(cells["practice_ods_code"].upper())
    found = uow.session.execute(
        select(Organisation.ods_code, Organisation.id).where(
            Organisation.ods_code.in_(sorted(codes))
        )
    )
    by_code: dict[str | None, int] = {code: org_id for code, org_id in found}
    points = []
    for cells in parsed:
        where = cells["line"]
        try:
            period = date.fromisoformat(cells["period"])
            value = float(cells["value"])
            denominator = float(cells["denominator"]) if cells.get("denominator") else None
        except (ValueError, KeyError):
            raise Invalid(
                f"csv line {where}: a date (YYYY-MM-DD) and a number.", field="csv"
            ) from None
        code = cells.get("practice_ods_code", "").upper()
        if code and code not in by_code:
            raise Invalid(f"csv line {where}: no practice has the ODS code {code}.", field="csv")
        points.append(PointIn(period, value, by_code.get(code), denominator))
    return points
