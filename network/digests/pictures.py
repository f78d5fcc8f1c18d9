"""The SPC charts a digest shows (a measure with a new special-cause signal), as PNG: drawn
once per chart however many people's digests show it (`cache`), for what the person reads."""

from __future__ import annotations

import base64

from network import access
from network.digests.build import Built, ChartRef
from network.errors import NotFound
from network.measures import charts
from network.measures import queries as measure_queries
from network.uow import UnitOfWork

ChartKey = ChartRef


def charts_of(
    uow: UnitOfWork, built: Built, cache: dict[ChartKey, bytes] | None = None
) -> dict[ChartKey, bytes]:
    """The PNG of every chart the digest shows (none in `titles` mode)."""
    cache = {} if cache is None else cache
    wanted = {i.chart for s in built.sections for i in s.items if i.chart is not None}
    if not wanted:
        return {}
    principal = access.load_principal(uow.session, built.person)
    found: dict[ChartKey, bytes] = {}
    for key in sorted(wanted, key=lambda k: (k[0], k[1], k[2] or 0)):
        if key not in cache:
            workstream_id, measure_id, practice_id = key
            try:
                chart = measure_queries.chart(
                    uow, principal, workstream_id, measure_id, practice_id=practice_id
                )
            except NotFound:
                continue
            cache[key] = charts.png(measure_queries.figure(chart))
        found[key] = cache[key]
    return found


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
