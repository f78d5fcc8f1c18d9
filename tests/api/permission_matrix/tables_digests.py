"""Digests: the signed-in person's own preference and preview (200 for anyone signed in);
following and muting a thread is for those who read it (404 for the rest, like what does not
exist); the unsubscribe link is public, its token the credential.

The thread is the problems table's `posted_problem` on the object's board; the unsubscribe
token is the object's plain member's (`Scene.author`)."""

from sqlalchemy.orm import Session

from network.digests import runs
from network.uow import UnitOfWork
from tests.api.permission_matrix.matrix import PUBLIC, SIGNED_IN, Expect, Scene, created, table
from tests.api.permission_matrix.tables_problems import READ_CONTENT, posted_problem

DIGEST = {
    "frequency": "weekly",
    "weekday": 1,
    "hour": 8,
    "timezone": "Europe/London",
    "content": "titles",
}

# Stopping is answered like starting, with 204 for the readers.
STOP = table(**{p: tuple(204 if c == 200 else c for c in row) for p, row in READ_CONTENT.items()})


def _problem_thread(scene: Scene, session: Session) -> None:
    posted_problem()(scene, session)
    scene.path["type"] = "problem"
    scene.path["thread_id"] = scene.path["problem_id"]


def _authors_token(scene: Scene, session: Session) -> None:
    link = runs.unsubscribe_link(
        UnitOfWork(lambda: session), scene.author.id, api_url="http://x", secret=scene.secret
    )
    scene.path["token"] = link.rsplit("/", 1)[1]


def _authors_digests_are_off(scene: Scene, response) -> None:
    assert "no more digests" in response.get_data(as_text=True)


EXPECTATIONS = {
    "getMyDigestPreference": Expect(SIGNED_IN),
    "setMyDigestPreference": Expect(SIGNED_IN, body=lambda s: dict(DIGEST)),
    "previewMyDigest": Expect(SIGNED_IN),
    "followThread": Expect(created(READ_CONTENT), arrange=_problem_thread),
    "unfollowThread": Expect(STOP, arrange=_problem_thread),
    "muteThread": Expect(created(READ_CONTENT), arrange=_problem_thread),
    "unmuteThread": Expect(STOP, arrange=_problem_thread),
    "listMyFollows": Expect(SIGNED_IN),
    "listMyMutes": Expect(SIGNED_IN),
    "getUnsubscribePage": Expect(PUBLIC, arrange=_authors_token),
    "unsubscribe": Expect(PUBLIC, arrange=_authors_token, check=_authors_digests_are_off),
}
