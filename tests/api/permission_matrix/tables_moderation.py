"""Moderation of problem boards: reports, hiding, redaction. The content is the problems
table's `posted_problem`."""

from collections.abc import Callable

from sqlalchemy.orm import Session

from network.problems.models import Problem
from tests import factories
from tests.api.permission_matrix.matrix import Expect, Scene, Table, created, table
from tests.api.permission_matrix.tables_problems import READ_CONTENT, posted_problem


def moderate(ok: int) -> Table:
    """The board's administrators who can read it; not the author as such."""
    # fmt: off
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (404,    403, 403),
        member=           (403,    403, 403),
        admin=            (ok,     ok,  ok),
        pcn_admin=        (404,    ok,  403),
        superuser=        (404,    404, 404),
    )
    # fmt: on


# The reports of a board: its moderators; asking for a board you do not moderate is 403.
# fmt: off
LIST_REPORTS = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (403,    403, 403),
    other_pcn=        (403,    403, 403),
    other_practice=   (403,    403, 403),
    member=           (403,    403, 403),
    admin=            (200,    200, 200),
    pcn_admin=        (403,    200, 403),
    superuser=        (403,    403, 403),
)
# fmt: on


def _reported_problem() -> Callable[[Scene, Session], None]:
    """Arrange: the posted problem, reported by its author (`{report_id}`)."""
    post = posted_problem()

    def arrange(scene: Scene, session: Session) -> None:
        post(scene, session)
        problem = session.get(Problem, scene.path["problem_id"])
        scene.path["report_id"] = factories.report(session, scene.author, problem).id

    return arrange


EXPECTATIONS = {
    "reportProblem": Expect(
        created(READ_CONTENT),
        arrange=posted_problem(),
        body=lambda s: {"reason": "Names a colleague"},
    ),
    "listReports": Expect(
        LIST_REPORTS,
        arrange=_reported_problem(),
        query=lambda s: {"organisation_id": s.target.id},
    ),
    "updateReport": Expect(
        moderate(200), arrange=_reported_problem(), body=lambda s: {"status": "resolved"}
    ),
    "hideProblem": Expect(moderate(200), arrange=posted_problem()),
    "unhideProblem": Expect(moderate(200), arrange=posted_problem()),
    "redactProblem": Expect(
        moderate(200), arrange=posted_problem(), body=lambda s: {"text": "PDFs"}
    ),
}
