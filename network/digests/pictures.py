"""The SPC charts a digest shows (a measure with a new special-cause signal), as PNG: drawn
once per chart and version of its data however many people's digests show it.

A chart is remembered in `cache` (any mapping: a worker passes one on disk, shared by its jobs
and by the other workers) under its `ChartRef` and the measure's fingerprint: its version and
last change, and the count, latest post and sums of its points, read for every chart of a batch
in one statement. A point posted, changed or removed, or the measure edited, changes the
fingerprint, so a remembered chart is never an old one. Whoever sees the chart's news reads its
workstream (the news is read board by board, hidden threads left out), so the picture drawn for
one reader is the picture for all of them."""

from __future__ import annotations

import base64
from collections.abc import Hashable, MutableMapping, Sequence

from sqlalchemy import func, select

from network import access
from network.digests.build import Built, ChartRef
from network.errors import NotFound
from network.measures import charts
from network.measures import queries as measure_queries
from network.measures.models import Measure, MeasurePoint
from network.uow import UnitOfWork

ChartKey = ChartRef
ChartCache = MutableMapping[Hashable, bytes]


def charts_of(
    uow: UnitOfWork, built: Built, cache: ChartCache | None = None
) -> dict[ChartKey, bytes]:
    """The PNG of every chart the digest shows (none in `titles` mode)."""
    return charts_of_many(uow, [built], cache)[0]


def wanted(built: Built) -> set[ChartKey]:
    return {i.chart for s in built.sections for i in s.items if i.chart is not None}


def charts_of_many(
    uow: UnitOfWork, digests: Sequence[Built], cache: ChartCache | None = None
) -> list[dict[ChartKey, bytes]]:
    """The charts of each digest: one statement for the fingerprints of all of them, and a
    chart drawn only when `cache` does not hold it at its current fingerprint."""
    cache = {} if cache is None else cache
    each = [wanted(b) for b in digests]
    every = set().union(*each)
    if not every:
        return [{} for _ in digests]
    prints = fingerprints(uow, {key.measure_id for key in every})
    drawn: dict[ChartKey, bytes | None] = {}
    found = []
    for built, keys in zip(digests, each, strict=True):
        mine: dict[ChartKey, bytes] = {}
        for key in sorted(keys, key=lambda k: (k[0], k[1], k[2] or 0)):
            if key not in drawn:
                drawn[key] = _chart(uow, built, key, prints.get(key.measure_id), cache)
            png = drawn[key]
            if png is not None:
                mine[key] = png
        found.append(mine)
    return found


def fingerprints(uow: UnitOfWork, measure_ids: set[int]) -> dict[int, tuple]:
    """What a measure's charts are drawn from, in brief: they change whenever it does."""
    rows = uow.session.execute(
        select(
            Measure.id,
            Measure.version,
            Measure.updated_at,
            func.count(MeasurePoint.period),
            func.max(MeasurePoint.posted_at),
            func.sum(MeasurePoint.value),
            func.sum(MeasurePoint.denominator),
        )
        .outerjoin(MeasurePoint, MeasurePoint.measure_id == Measure.id)
        .where(Measure.id.in_(sorted(measure_ids)))
        .group_by(Measure.id, Measure.version, Measure.updated_at)
    ).all()
    return {row[0]: tuple(str(v) for v in row[1:]) for row in rows}


def _chart(
    uow: UnitOfWork, built: Built, key: ChartKey, fingerprint: tuple | None, cache: ChartCache
) -> bytes | None:
    if fingerprint is None:  # the measure is gone
        return None
    remembered = (*key, *fingerprint)
    png = cache.get(remembered)
    if png is not None:
        return png
    workstream_id, measure_id, practice_id = key
    try:
        chart = measure_queries.chart(
            uow,
            access.load_principal(uow.session, built.person),
            workstream_id,
            measure_id,
            practice_id=practice_id,
        )
    except NotFound:
        return None
    png = charts.png(measure_queries.figure(chart))
    cache[remembered] = png
    return png


def content_id(key: ChartKey) -> str:
    workstream_id, measure_id, practice_id = key
    return f"chart-{workstream_id}-{measure_id}-{practice_id or 'all'}@commons"


def as_cid(images: dict[ChartKey, bytes]) -> dict[ChartKey, str]:
    """Where an email's HTML finds each chart: its inline part."""
    return {key: f"cid:{content_id(key)}" for key in images}


def as_data(images: dict[ChartKey, bytes]) -> dict[ChartKey, str]:
    """Where a preview's HTML finds each chart: in the page itself."""
    return {
        key: "data:image/png;base64," + base64.b64encode(png).decode()
        for key, png in images.items()
    }
