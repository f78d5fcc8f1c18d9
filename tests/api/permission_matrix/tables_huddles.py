"""A workstream's huddles (api/huddles.py): stored meetings, decisions made actions, minutes and
the agenda. The columns and principals are those of tables_workstreams: the workstream of the
object's owner, led by the object's member, practice 1 taking part.

Reading any of it is reading the workstream; storing and changing huddles, and turning a
decision into an action, is the managers' (API.md: "Write access: the workstream's managers";
meetings are no practice's own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from network.workstreams.models import Workstream
from tests import factories
from tests.api.permission_matrix.matrix import Expect, Scene
from tests.api.permission_matrix.tables_workstreams import (
    OWNERS,
    READ,
    a_workstream,
    manage,
)

HELD_AT = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def a_huddle() -> Callable[[Scene, Session], None]:
    """Arrange: the workstream of `a_workstream`, and a huddle its owner's admin wrote up
    (`{meeting_id}`) with one decision (`{decision}` = 0)."""
    workstream = a_workstream()

    def arrange(scene: Scene, session: Session) -> None:
        workstream(scene, session)
        on = session.get_one(Workstream, scene.path["workstream_id"])
        manager = scene.net.admins[OWNERS[scene.kind]]
        meeting = factories.meeting(session, manager, on, starts_at=HELD_AT)
        scene.path["meeting_id"] = meeting.id
        scene.path["decision"] = 0

    return arrange


EXPECTATIONS = {
    "createMeeting": Expect(
        manage(201),
        arrange=a_workstream(),
        body=lambda s: {"starts_at": "2026-12-01T12:30:00Z", "status": "cancelled"},
    ),
    "getMeeting": Expect(READ, arrange=a_huddle()),
    "updateMeeting": Expect(
        manage(200), arrange=a_huddle(), body=lambda s: {"notes": "Backlog down to 40."}
    ),
    "createActionFromDecision": Expect(manage(201), arrange=a_huddle(), body=lambda s: {}),
    "getMeetingMinutes": Expect(READ, arrange=a_huddle(), query=lambda s: {"format": "html"}),
    "getAgenda": Expect(READ, arrange=a_huddle(), query=lambda s: {"format": "text"}),
}
