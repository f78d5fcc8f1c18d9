"""The best-practice library: entries read like their organisation's board, edited by their
author and its moderators, adopted by the people of the practices they are for.

The content is a published entry in the object's library, written by the object's member
(`published_entry`); its versions are 1 (the draft) and 2 (published)."""

from sqlalchemy.orm import Session

from network.access import load_principal
from network.library import services as library
from network.preconditions import ANY_VERSION
from network.problems import services as problems
from network.uow import UnitOfWork
from tests.api.permission_matrix.matrix import (
    SIGNED_IN,
    Expect,
    Scene,
    created,
    expected,
    table,
)
from tests.api.permission_matrix.tables_moderation import moderate
from tests.api.permission_matrix.tables_problems import (
    POST_ON_BOARD,
    READ_CONTENT,
    edit_content,
    posted_problem,
)

# A practice says what it did with an entry: the caller acts for their own practice (the path's
# practice is theirs when they have one, else practice 1). Reading it comes first (404); then
# it must be their practice (403) — PCN and federation people have none.
# fmt: off
ADOPT = table(
    #                 practice pcn  federation
    anonymous=        (401,    401, 401),
    other_federation= (404,    404, 404),
    other_pcn=        (404,    404, 201),
    other_practice=   (404,    201, 201),
    member=           (201,    403, 403),
    admin=            (201,    403, 403),
    pcn_admin=        (404,    403, 403),
    superuser=        (404,    404, 404),
)
# fmt: on


def _uow(session: Session) -> UnitOfWork:
    return UnitOfWork(lambda: session)


def published_entry(scene: Scene, session: Session) -> None:
    """Arrange: the object's member writes an entry in the object's library and publishes it
    (`{entry_id}`, `{number}` = 1), and the path's practice is the caller's (else practice 1)."""
    principal = load_principal(session, scene.author)
    uow = _uow(session)
    entry = library.create(
        uow,
        principal,
        organisation_id=scene.target.id,
        title="Docman workflow",
        summary="Letters coded by administrators.",
        body="1. Code it.",
    )
    library.update(uow, principal, entry.id, if_match=ANY_VERSION, status="published")
    session.flush()
    scene.path["entry_id"] = entry.id
    scene.path["number"] = 1
    practices = load_principal(session, scene.caller).practices if scene.caller else set()
    scene.path["practice_id"] = min(practices) if practices else scene.net.practice1.id


def solved_problem(scene: Scene, session: Session) -> None:
    """Arrange: the posted problem, with an idea its author accepted (`{problem_id}`)."""
    posted_problem(idea=True)(scene, session)
    problems.accept_idea(
        _uow(session),
        load_principal(session, scene.author),
        scene.path["problem_id"],
        scene.path["comment_id"],
    )
    session.flush()


def _listed(scene: Scene, response) -> None:
    ids = {item["id"] for item in response.get_json()["items"]}
    readable = expected(READ_CONTENT, scene.principal, scene.kind) == 200
    assert (scene.path["entry_id"] in ids) is readable


def _any_version(scene: Scene) -> dict[str, str]:
    return {"If-Match": "*"}


EXPECTATIONS = {
    "listLibrary": Expect(SIGNED_IN, arrange=published_entry, check=_listed),
    "createLibraryEntry": Expect(
        POST_ON_BOARD,
        body=lambda s: {
            "organisation_id": s.target.id,
            "title": "Repeat prescribing",
            "summary": "Weekly pharmacist review.",
            "body": "x",
        },
    ),
    "promoteToLibrary": Expect(
        created(edit_content(200)),
        arrange=solved_problem,
        body=lambda s: {"problem_id": s.path["problem_id"]},
    ),
    "getLibraryEntry": Expect(READ_CONTENT, arrange=published_entry),
    "updateLibraryEntry": Expect(
        edit_content(200),
        arrange=published_entry,
        body=lambda s: {"summary": "Shorter.", "change_note": "Tidied"},
        headers=_any_version,
    ),
    "listLibraryVersions": Expect(READ_CONTENT, arrange=published_entry),
    "getLibraryVersion": Expect(READ_CONTENT, arrange=published_entry),
    "getLibraryVersionDiff": Expect(
        READ_CONTENT, arrange=published_entry, query=lambda s: {"from": 2}
    ),
    "exportLibraryEntry": Expect(READ_CONTENT, arrange=published_entry),
    "listLibraryAdoptions": Expect(READ_CONTENT, arrange=published_entry),
    "setLibraryAdoption": Expect(
        ADOPT, arrange=published_entry, body=lambda s: {"status": "trialling"}
    ),
    "reportLibraryEntry": Expect(
        created(READ_CONTENT), arrange=published_entry, body=lambda s: {"reason": "Out of date"}
    ),
    "hideLibraryEntry": Expect(moderate(200), arrange=published_entry),
    "unhideLibraryEntry": Expect(moderate(200), arrange=published_entry),
    "redactLibraryEntry": Expect(
        moderate(200), arrange=published_entry, body=lambda s: {"text": "Docman"}
    ),
}
