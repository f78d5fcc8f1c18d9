"""A measure's series as charted: each practice's own, and the network's (the practices' points
combined by the measure's aggregate). Shared by what reads charts and by posting, which judges
whether a point completed a signal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import select

from network.measures import spc
from network.measures.models import Aggregate, Measure, MeasurePoint
from network.uow import UnitOfWork


class Row(NamedTuple):
    """One stored point: a practice's value (a ratio measure's numerator) for a period."""

    practice_id: int
    period: date
    value: float
    denominator: float | None


@dataclass(frozen=True)
class SeriesPoint:
    period: date
    value: float
    practices: int  # how many practices' values it combines (1 for a practice's own)


def rows(uow: UnitOfWork, measure: Measure) -> list[Row]:
    """Every point of the measure, by period and practice, in one statement."""
    found = uow.session.execute(
        select(
            MeasurePoint.practice_id,
            MeasurePoint.period,
            MeasurePoint.value,
            MeasurePoint.denominator,
        )
        .where(MeasurePoint.measure_id == measure.id)
        .order_by(MeasurePoint.period, MeasurePoint.practice_id)
    )
    return [Row(*row) for row in found]


def _value(measure: Measure, value: float, denominator: float | None) -> float:
    """A point as charted: a ratio measure's is a percentage."""
    if measure.aggregate is Aggregate.ratio and denominator:
        return 100.0 * value / denominator
    return value


def practice_series(measure: Measure, rows: Iterable[Row], practice_id: int) -> list[SeriesPoint]:
    return [
        SeriesPoint(r.period, _value(measure, r.value, r.denominator), 1)
        for r in sorted(rows, key=lambda r: r.period)
        if r.practice_id == practice_id
    ]


def network_series(measure: Measure, rows: Iterable[Row]) -> list[SeriesPoint]:
    """The practices' points combined per period: added up, averaged, or Σ numerators over
    Σ denominators. A practice with no value for a period is left out of it, never a zero."""
    by_period: dict[date, list[Row]] = defaultdict(list)
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


def series(measure: Measure, rows: Iterable[Row], practice_id: int | None) -> list[SeriesPoint]:
    """A practice's series, or (None) the network's."""
    if practice_id is None:
        return network_series(measure, rows)
    return practice_series(measure, rows, practice_id)


def analyse(
    measure: Measure, points: list[SeriesPoint], *, screen_outliers: bool = False
) -> spc.Chart:
    return spc.analyse(
        [(p.period, p.value) for p in points],
        better=measure.better.value,
        target=measure.target,
        rebase=measure.rebase_dates,
        fix_after=measure.fix_after,
        screen_outliers=screen_outliers,
    )
