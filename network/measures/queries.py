"""Reading measures: each practice's series, the network's (combined by the measure's
aggregate), their SPC charts, and the summary a network meeting reads at a glance. Every
practice taking part sees the others' series within the workstream; the summary is ordered by
name (the network first), never ranked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from network.access import Principal
from network.errors import NotFound
from network.measures import spc
from network.measures.models import Aggregate, Measure, MeasurePoint
from network.measures.services import get
from network.organisations.models import Organisation
from network.pagination import Page, decode_cursor, page_from_rows
from network.uow import UnitOfWork
from network.workstreams import queries as workstream_queries
from network.workstreams.models import Participation


def get_all(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page[Measure]:
    """A workstream's measures, oldest first."""
    workstream_queries.get(uow, principal, workstream_id)
    stmt = select(Measure).where(Measure.workstream_id == workstream_id)
    after = decode_cursor(cursor, (int,))
    if after is not None:
        stmt = stmt.where(Measure.id > after[0])
    rows = list(uow.session.scalars(stmt.order_by(Measure.id).limit(limit + 1)))
    return page_from_rows(rows, limit, lambda m: (m.id,))


@dataclass(frozen=True)
class SeriesPoint:
    period: date
    value: float
    practices: int  # how many practices' values it combines (1 for a practice's own)


def _value(measure: Measure, value: float, denominator: float | None) -> float:
    """A point as charted: a ratio measure's is a percentage."""
    if measure.aggregate is Aggregate.ratio and denominator:
        return 100.0 * value / denominator
    return value


def _rows(uow: UnitOfWork, measure: Measure) -> list[MeasurePoint]:
    return list(
        uow.session.scalars(
            select(MeasurePoint)
            .where(MeasurePoint.measure_id == measure.id)
            .order_by(MeasurePoint.period, MeasurePoint.practice_id)
        )
    )


def practice_series(measure: Measure, rows: Iterable[MeasurePoint], practice_id: int):
    return [
        SeriesPoint(r.period, _value(measure, r.value, r.denominator), 1)
        for r in rows
        if r.practice_id == practice_id
    ]


def network_series(measure: Measure, rows: Iterable[MeasurePoint]) -> list[SeriesPoint]:
    """The practices' points combined per period: added up, averaged, or Σ numerators over
    Σ denominators. A practice with no value for a period is left out of it, never a zero."""
    by_period: dict[date, list[MeasurePoint]] = defaultdict(list)
    for row in rows:
        by_period[row.period].append(row)
    found = []
    for period in sorted(by_period):
        points = by_period[period]
        if measure.aggregate is Aggregate.sum:
            value = sum(p.value for p in points)
        elif measure.aggregate is Aggregate.ratio:
            value = 100.0 * sum(p.value for p in points) / sum(p.denominator or 0 for p in points)
        else:
            value = sum(p.value for p in points) / len(points)
        found.append(SeriesPoint(period, value, len(points)))
    return found


def _chart(measure: Measure, series: list[SeriesPoint], screen_outliers: bool) -> spc.Chart:
    return spc.analyse(
        [(p.period, p.value) for p in series],
        better=measure.better.value,
        target=measure.target,
        rebase=measure.rebase_dates,
        fix_after=measure.fix_after,
        screen_outliers=screen_outliers,
    )


@dataclass(frozen=True)
class MeasureChart:
    measure: Measure
    practice: Organisation | None  # None: the network's series
    owner: Organisation
    series: list[SeriesPoint]
    chart: spc.Chart


def _practices(uow: UnitOfWork, workstream_id: int) -> list[Organisation]:
    """The practices that take or took part, by name."""
    return list(
        uow.session.scalars(
            select(Organisation)
            .join(Participation, Participation.practice_id == Organisation.id)
            .where(Participation.workstream_id == workstream_id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def chart(
    uow: UnitOfWork,
    principal: Principal,
    workstream_id: int,
    measure_id: int,
    *,
    practice_id: int | None = None,
    screen_outliers: bool = False,
) -> MeasureChart:
    """One practice's chart (a practice that takes or took part), or the network's."""
    view, measure = get(uow, principal, workstream_id, measure_id)
    practice = None
    if practice_id is not None:
        practice = next((p for p in _practices(uow, workstream_id) if p.id == practice_id), None)
        if practice is None:
            raise NotFound(f"Practice {practice_id} has no series here: it never took part.")
    rows = _rows(uow, measure)
    series = (
        practice_series(measure, rows, practice_id)
        if practice_id is not None
        else network_series(measure, rows)
    )
    return MeasureChart(
        measure, practice, view.owner, series, _chart(measure, series, screen_outliers)
    )


@dataclass(frozen=True)
class SummaryRow:
    organisation: Organisation
    network: bool
    latest: SeriesPoint | None
    chart: spc.Chart


def summary(
    uow: UnitOfWork, principal: Principal, workstream_id: int, measure_id: int
) -> list[SummaryRow]:
    """The network's series, then each practice that takes or took part, by name: its latest
    value and its two icons. In a constant number of statements."""
    view, measure = get(uow, principal, workstream_id, measure_id)
    rows = _rows(uow, measure)
    found = []
    network = network_series(measure, rows)
    found.append(
        SummaryRow(
            view.owner, True, network[-1] if network else None, _chart(measure, network, False)
        )
    )
    for practice in _practices(uow, workstream_id):
        series = practice_series(measure, rows, practice.id)
        found.append(
            SummaryRow(
                practice, False, series[-1] if series else None, _chart(measure, series, False)
            )
        )
    return found
