"""A workstream's measures (api/measures.py). The columns and principals are those of
tables_workstreams: the workstream of the object's owner, led by the object's member, practice 1
taking part. Reading a measure, its charts and summary is reading the workstream; defining one
is the managers'; posting points is for members of a practice taking part (their own practice's)
and the managers (any practice's), as for actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from network.access import load_principal
from network.measures import services
from network.uow import UnitOfWork
from tests.api.permission_matrix.matrix import Expect, Scene
from tests.api.permission_matrix.tables_workstreams import (
    OWNERS,
    READ,
    a_workstream,
    acting_practice,
    manage,
    write_for_practice,
)


def a_measure() -> Callable[[Scene, Session], None]:
    """Arrange: the workstream of `a_workstream` with a measure (`{measure_id}`) defined by the
    owner's admin, and a few weeks of practice 1's points."""
    workstream = a_workstream()

    def arrange(scene: Scene, session: Session) -> None:
        workstream(scene, session)
        manager = load_principal(session, scene.net.admins[OWNERS[scene.kind]])
        unit = UnitOfWork(lambda: session)
        measure = services.create(
            unit,
            manager,
            scene.path["workstream_id"],
            name="Letters per GP per day",
            unit="letters",
            better="down",
        )
        points = [
            services.PointIn(date(2026, 9, 7 + 7 * n), 40.0 - n, scene.path["practice_id"])
            for n in range(3)
        ]
        services.post_points(unit, manager, scene.path["workstream_id"], measure.id, points)
        scene.path["measure_id"] = measure.id

    return arrange


EXPECTATIONS = {
    "listMeasures": Expect(READ, arrange=a_measure()),
    "createMeasure": Expect(
        manage(201),
        arrange=a_workstream(),
        body=lambda s: {"name": "Letters coded in 48 h", "unit": "%", "better": "up"},
    ),
    "getMeasure": Expect(READ, arrange=a_measure()),
    "updateMeasure": Expect(manage(200), arrange=a_measure(), body=lambda s: {"target": 20}),
    "postMeasurePoints": Expect(
        write_for_practice(200),
        arrange=a_measure(),
        body=lambda s: {"practice_id": acting_practice(s), "period": "2026-10-05", "value": 31},
    ),
    "getMeasureSpc": Expect(READ, arrange=a_measure()),
    "getMeasureSpcSvg": Expect(READ, arrange=a_measure()),
    "getMeasureSpcPng": Expect(READ, arrange=a_measure()),
    "getMeasureSummary": Expect(READ, arrange=a_measure()),
}
