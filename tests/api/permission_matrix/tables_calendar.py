"""The calendar feed of huddles: anyone signed in gets a new feed URL of their own (201); the
feed itself is public, its token the credential, so it answers 200 to whoever holds the URL,
with or without an access token, and shows the token's owner's huddles whoever asks.

Every case's feed belongs to the object's plain member (`Scene.author`). A token that is not a
feed's is 404 for everyone: tests/api/test_calendar_feed.py."""

from icalendar import Calendar
from sqlalchemy.orm import Session

from network.access import load_principal
from network.uow import UnitOfWork
from network.workstreams import calendar
from tests.api.permission_matrix.matrix import PUBLIC, SIGNED_IN, Expect, Scene, created


def _authors_feed(scene: Scene, session: Session) -> None:
    unit = UnitOfWork(lambda: session)
    scene.path["feed_token"] = calendar.new_token(unit, load_principal(session, scene.author))
    session.flush()


def _is_the_authors_calendar(scene: Scene, response) -> None:
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = Calendar.from_ical(response.data)
    assert str(parsed["X-WR-CALNAME"]) == f"Commons huddles — {scene.author.name}"


def _is_a_feed_url(scene: Scene, response) -> None:
    url = response.get_json()["url"]
    assert response.headers["Location"] == url
    assert "/api/v1/calendar/" in url and url.endswith(".ics")


EXPECTATIONS = {
    "createCalendarToken": Expect(created(SIGNED_IN), check=_is_a_feed_url),
    "getCalendarFeed": Expect(PUBLIC, arrange=_authors_feed, check=_is_the_authors_calendar),
}
