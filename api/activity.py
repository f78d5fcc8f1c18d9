"""The activity feed: what happened on the boards the caller reads."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from api.blueprint import Blueprint
from api.context import principal, uow
from api.problems import ID, BoardSchema, NamedSchema
from api.schemas import Out, PageQuery, UTCDateTime, page_of
from network.activity import services as activity

blp = Blueprint(
    "activity",
    __name__,
    url_prefix="/api/v1",
    description="What happened on the boards you can read.",
)

THREAD_TYPES = ("problem", "workstream", "library_entry")


class SubjectSchema(Out):
    type = fields.String(metadata={"example": "comment"})
    id = fields.Integer()


class ThreadSchema(Out):
    type = fields.String(validate=validate.OneOf(THREAD_TYPES), metadata={"example": "problem"})
    id = fields.Integer()
    title = fields.String(metadata={"description": "The thread's title now."})


class ActivitySchema(Out):
    id = fields.Integer()
    at = UTCDateTime()
    verb = fields.String(metadata={"example": "posted"})
    summary = fields.String(metadata={"description": "What happened, in one line."})
    actor = fields.Nested(
        NamedSchema, allow_none=True, metadata={"description": "Null when anonymous."}
    )
    practice = fields.Nested(NamedSchema, allow_none=True)
    board = fields.Nested(BoardSchema)
    subject = fields.Nested(SubjectSchema)
    thread = fields.Nested(ThreadSchema, metadata={"description": "The thread it belongs to."})
    subject_type = fields.String(attribute="subject.type", metadata={"deprecated": True})
    subject_id = fields.Integer(attribute="subject.id", metadata={"deprecated": True})
    problem_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The thread's id when it is a problem (`thread` says more)."},
    )


class ActivityQuery(PageQuery):
    organisation_id = fields.Integer(**ID)
    since = fields.AwareDateTime()


@blp.route("/activity")
class ActivityFeed(MethodView):
    @blp.doc(operationId="listActivity", summary="What happened on the boards you can read.")
    @blp.arguments(ActivityQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(ActivitySchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None, **filters):
        return activity.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)
