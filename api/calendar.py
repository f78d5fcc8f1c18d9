"""The personal calendar feed of huddles: a secret URL a calendar program subscribes to (public:
the URL is the credential), and the signed-in person's way to get a new one."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import fields

from api.auth.protect import public
from api.blueprint import Blueprint
from api.context import commons, principal, uow
from api.schemas import Out
from api.spec import DATABASE_BUSY
from network.workstreams import calendar

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/api/v1",
    description="Your calendar feed of huddles (iCalendar), to subscribe to from any calendar.",
)

ICALENDAR = "text/calendar; charset=utf-8"
# What a 201 created is the feed: its Location is the feed's URL, the same as the body's `url`.
FEED_LOCATION = {
    "Location": {
        "description": "The feed's URL (the same as `url`).",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    }
}


def feed_url(token: str) -> str:
    return commons().settings.api_url + calendar.feed_path(token)


class CalendarTokenSchema(Out):
    url = fields.String(
        metadata={
            "format": "uri",
            "description": "Your feed: subscribe to it from a calendar. Anyone with it reads "
            "your huddles' times, so keep it to yourself; a new one ends this one.",
            "example": "https://commons.example.nhs.uk/api/v1/calendar/"
            "kR3v8sQzYw1bN0pXo2dT6mJc9fLh4uAa7eGiWnHxV5E.ics",
        }
    )


@blp.route("/me/calendar-token")
class CalendarToken(MethodView):
    @blp.doc(
        operationId="createCalendarToken",
        summary="A new URL of your calendar feed of huddles; the old one stops working.",
    )
    @blp.response(201, CalendarTokenSchema, headers=FEED_LOCATION)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self):
        url = feed_url(calendar.new_token(uow(), principal()))
        return {"url": url}, 201, {"Location": url}


@blp.route("/calendar/<feed_token>.ics")
class CalendarFeed(MethodView):
    @public
    @blp.doc(
        security=[],
        operationId="getCalendarFeed",
        summary="Your huddles as an iCalendar feed (public: the URL from createCalendarToken "
        "is the credential).",
        description="The huddles of every workstream you take part in (your practice takes "
        "part, you lead it, or you administer its organisation) and can read: each "
        "workstream's meeting rule as one recurring event in Europe/London time, stored "
        "meetings from 90 days back as its changed or cancelled occurrences, or as extra "
        "events. Titles, times, locations and a link to the agenda only. A token that is not "
        "one, or was replaced, is 404.",
        responses={
            "200": {
                "description": "The calendar (RFC 5545), `text/calendar; charset=utf-8`.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response=DATABASE_BUSY)
    def get(self, feed_token):
        settings = commons().settings
        body = calendar.feed(
            uow(), feed_token, api_url=settings.api_url, public_url=settings.public_url
        )
        response = Response(body, content_type=ICALENDAR)
        # The URL is a secret: no shared cache keeps what it answers.
        response.headers["Cache-Control"] = "private, no-store"
        return response
