"""Reading measures: each practice's series, the network's (combined by the measure's
aggregate), their SPC charts, and the summary a network meeting reads at a glance. Every
practice taking part sees the others' series within the workstream; the summary is ordered by
name (the network first), never ranked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from network.access import Principal
from network.errors import NotFound
from network.measures import charts, spc
from network.measures import series as measure_series
from network.measures.models import Measure
from network.measures.series import SeriesPoint
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
    points = measure_series.series(measure, measure_series.rows(uow, measure), practice_id)
    chart = measure_series.analyse(measure, points, screen_outliers=screen_outliers)
    return MeasureChart(measure, practice, view.owner, points, chart)


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
    rows = measure_series.rows(uow, measure)
    found = []
    for organisation, practice_id in [
        (view.owner, None),
        *((practice, practice.id) for practice in _practices(uow, workstream_id)),
    ]:
        points = measure_series.series(measure, rows, practice_id)
        found.append(
            SummaryRow(
                organisation,
                practice_id is None,
                points[-1] if points else None,
                measure_series.analyse(measure, points),
            )
        )
    return found


def figure(found: MeasureChart):
    """The chart of `chart()` drawn the way every picture of it looks (SVG, PNG, email)."""
    measure = found.measure
    whose = found.practice.name if found.practice else f"{found.owner.name} (all practices)"
    return charts.draw(
        found.chart, title=measure.name, unit=measure.unit, target=measure.target, subtitle=whose
    )
