"""Problem boards: problems, "we have this too", comments and ideas.

The content is a problem on the object's board, posted by the object's member (`posted_problem`,
which the moderation and activity tables use too).
"""

from collections.abc import Callable

from sqlalchemy.orm import Session

from network.access import load_principal
from network.problems.models import CommentKind
from tests import factories
from tests.api.permission_matrix.matrix import (
    SIGNED_IN,
    Expect,
    Scene,
    Table,
    created,
    expected,
    table,
)

# Reading content: people who belong to the board's organisation (members of it or of its
# descendants). A practice's content is for that practice's people only: its PCN's admin and
# superusers who are not members get 404, like content that does not exist.
# fmt: off
READ_CONTENT = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 200),
    other_practice=   (404,    200, 200),
    member=           (200,    200, 200),
    admin=            (200,    200, 200),
    pcn_admin=        (404,    200, 200),
    superuser=        (404,    404, 404),
)

# Posting on a board: being able to read it. The board is a visible organisation, so not
# belonging to it is 403; an organisation of another federation does not exist (404).
POST_ON_BOARD = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (403,    403, 201),
    other_practice=   (403,    201, 201),
    member=           (201,    201, 201),
    admin=            (201,    201, 201),
    pcn_admin=        (403,    201, 201),
    superuser=        (403,    403, 403),
)


def edit_content(ok: int) -> Table:
    """The author (the object's member) and the board's administrators who can read it."""
    return table(
        #                 practice pcn  federation
        anonymous=        (401,    401, 401),
        other_federation= (404,    404, 404),
        other_pcn=        (404,    404, 403),
        other_practice=   (404,    403, 403),
        member=           (ok,     ok,  ok),
        admin=            (ok,     ok,  ok),
        pcn_admin=        (404,    ok,  403),
        superuser=        (404,    404, 404),
    )


# "We have this too" needs a practice: the object's member and admin on the practice board are
# of the author's practice (already counted: 200); PCN and federation people have no practice.
SIGNAL = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 201),
    other_practice=   (404,    201, 201),
    member=           (200,    403, 403),
    admin=            (200,    403, 403),
    pcn_admin=        (404,    403, 403),
    superuser=        (404,    404, 404),
)

# Withdrawing: practices 2 and 3 signalled where they can read; the author's own practice
# cannot withdraw (409); someone whose practice never signalled gets 404.
WITHDRAW = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 204),
    other_practice=   (404,    204, 204),
    member=           (409,    404, 404),
    admin=            (409,    404, 404),
    pcn_admin=        (404,    404, 404),
    superuser=        (404,    404, 404),
)
# fmt: on


def posted_problem(
    *, idea: bool = False, signals: bool = False
) -> Callable[[Scene, Session], None]:
    """Arrange: the object's member posts a problem on the object's board (`{problem_id}`) and,
    as asked, an idea on it (`{comment_id}`) and "we have this too" from practices 2 and 3
    where they read it."""

    def arrange(scene: Scene, session: Session) -> None:
        problem = factories.problem(session, scene.author, scene.target)
        scene.path["problem_id"] = problem.id
        if idea:
            comment = factories.comment(session, scene.author, problem, kind=CommentKind.idea)
            scene.path["comment_id"] = comment.id
        if signals:
            for key in ("practice2", "practice3"):
                reader = scene.net.members[key]
                if scene.target.id in load_principal(session, reader).belongs:
                    factories.affected(session, reader, problem)

    return arrange


def _reads_content(scene: Scene) -> bool:
    return expected(READ_CONTENT, scene.principal, scene.kind) == 200


def _problem_listed(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    assert (scene.path["problem_id"] in ids) is _reads_content(scene)


def _boards_listed(scene: Scene, response) -> None:
    boards = {item["id"]: item for item in response.get_json()["items"]}
    readable = _reads_content(scene)
    assert (scene.target.id in boards) is readable
    if readable:
        board = boards[scene.target.id]
        assert board["can_post"] is True
        administers = scene.principal in ("admin", "superuser") or (
            scene.principal == "pcn_admin" and scene.kind != "federation"
        )
        assert board["can_administer"] is administers, board


def _if_match(scene: Scene) -> dict[str, str]:
    # Any current version: what the tags themselves mean is tests/api/test_conditional_requests.
    return {"If-Match": "*"}


EXPECTATIONS = {
    # Every board the caller reads, under /me.
    "listMyBoards": Expect(SIGNED_IN, query=lambda s: {"limit": 100}, check=_boards_listed),
    "listProblems": Expect(
        SIGNED_IN,
        arrange=posted_problem(),
        query=lambda s: {"board_id": s.target.id},
        check=_problem_listed,
    ),
    "createProblem": Expect(
        POST_ON_BOARD,
        body=lambda s: {
            "board_id": s.target.id,
            "title": "Reception can't book the physio",
            "body": "x",
        },
    ),
    "getProblem": Expect(READ_CONTENT, arrange=posted_problem()),
    "updateProblem": Expect(
        edit_content(200),
        arrange=posted_problem(),
        body=lambda s: {"status": "discussing"},
        headers=_if_match,
    ),
    "deleteProblem": Expect(edit_content(204), arrange=posted_problem()),
    "listAffected": Expect(READ_CONTENT, arrange=posted_problem()),
    "signalAffected": Expect(
        SIGNAL, arrange=posted_problem(), body=lambda s: {"note": "Same here"}
    ),
    "withdrawAffected": Expect(WITHDRAW, arrange=posted_problem(signals=True)),
    "listComments": Expect(READ_CONTENT, arrange=posted_problem(idea=True)),
    "createComment": Expect(
        created(READ_CONTENT),
        arrange=posted_problem(),
        body=lambda s: {"body": "We have this at our practice too"},
    ),
    "acceptIdea": Expect(edit_content(200), arrange=posted_problem(idea=True)),
}
