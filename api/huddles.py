"""A workstream's huddles: the meetings (computed from its rule, and as held), their minutes,
decisions made actions, and the agenda built from what changed since the last one."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import fields, validate

from api import remembered
from api.blueprint import Blueprint
from api.context import commons, principal, uow
from api.problems import ID, NamedSchema
from api.schemas import In, Out, PageQuery, Query, StrictInteger, UTCDateTime, page_of
from api.spec import LOCATION_HEADER, location
from api.workstreams import DUE_DATES, ActionSchema
from network import content
from network.workstreams import actions, agenda, documents, huddles, queries
from network.workstreams.models import MeetingStatus

blp = Blueprint(
    "huddles",
    __name__,
    url_prefix="/api/v1",
    description="A workstream's weekly huddle: meetings, minutes, decisions made actions, and "
    "the agenda built from what changed.",
)

TEXT_OR_HTML = {
    "text/plain": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}},
}


def _public_url() -> str:
    return commons().settings.public_url


class DecisionActionSchema(Out):
    decision = fields.Integer(metadata={"description": "The decision's index in `decisions`."})
    action_id = fields.Integer()


class MeetingSchema(Out):
    id = fields.Integer(
        allow_none=True,
        metadata={"description": "Null for an occurrence of the rule that nothing is stored at."},
    )
    starts_at = UTCDateTime()
    ends_at = UTCDateTime()
    minutes = fields.Integer()
    status = fields.Enum(MeetingStatus)
    occurrence = fields.Boolean(
        metadata={"description": "At an occurrence of the meeting rule (else an extra huddle)."}
    )
    location = fields.String(allow_none=True)
    notes = fields.String(allow_none=True, metadata={"description": "Markdown."})
    notes_html = fields.String(allow_none=True)
    decisions = fields.List(fields.String())
    attended_practices = fields.List(fields.Nested(NamedSchema), attribute="attended")
    decision_actions = fields.List(
        fields.Nested(DecisionActionSchema),
        metadata={"description": "The decisions that became actions."},
    )


class MeetingQuery(PageQuery):
    from_ = fields.AwareDateTime(data_key="from", metadata={"description": "Default: now."})
    to = fields.AwareDateTime(
        metadata={"description": "Default: four weeks after `from`; at most a year after it."}
    )


DECISIONS = fields.List(
    fields.String(validate=validate.Length(min=1, max=huddles.DECISION_LENGTH)),
    validate=validate.Length(max=huddles.DECISIONS),
    metadata={"description": "What was decided, in order; each can become an action."},
)
ATTENDED = fields.List(
    StrictInteger(**ID),
    validate=validate.Length(max=500),
    metadata={"description": "Practices there (that take or took part)."},
)


class MeetingCreateSchema(In):
    starts_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "At an occurrence of the rule, or an extra huddle (seconds are dropped)."
        },
    )
    minutes = StrictInteger(validate=validate.Range(min=5, max=240))
    location = fields.String(allow_none=True, validate=validate.Length(max=200))
    notes = fields.String(allow_none=True, validate=validate.Length(max=20000))
    decisions = DECISIONS
    attended_practice_ids = ATTENDED
    status = fields.Enum(MeetingStatus, metadata={"description": "Default `scheduled`."})


class MeetingUpdateSchema(In):
    starts_at = fields.AwareDateTime()
    minutes = StrictInteger(validate=validate.Range(min=5, max=240))
    location = fields.String(allow_none=True, validate=validate.Length(max=200))
    notes = fields.String(allow_none=True, validate=validate.Length(max=20000))
    decisions = DECISIONS
    attended_practice_ids = ATTENDED
    status = fields.Enum(MeetingStatus)


class DecisionToActionSchema(In):
    body_optional = True  # every field has a default: a POST without a body is `{}`

    title = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Default: the decision."},
    )
    owner_id = StrictInteger(**ID, metadata={"description": "Default: you."})
    due_on = fields.Date(
        validate=DUE_DATES, metadata={"description": "Default: the day of the next huddle."}
    )
    practice_id = StrictInteger(
        **ID, metadata={"description": "A practice taking part; default: the whole workstream."}
    )


class PaperQuery(Query):
    format = fields.String(
        load_default="text",
        validate=validate.OneOf(["text", "html"]),
        metadata={"description": "`text` (default) or `html` (a printable page)."},
    )


class AgendaQuery(Query):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "text", "html"]),
        metadata={"description": "`json` (default), `text` or `html` (to paste into an invite)."},
    )


class AgendaSubjectSchema(Out):
    type = fields.String(metadata={"description": "action, check_in, meeting, measure or problem."})
    id = fields.Integer()


def _for(field, kinds: str):
    """A field of some kinds of item: null on the others."""
    field.allow_none = True
    field.metadata = {**field.metadata, "description": f"Items of kind {kinds}; else null."}
    return field


class ItemActionSchema(Out):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    due_on = fields.Date()


class AgendaItemSchema(Out):
    kind = fields.String(
        metadata={
            "description": "decision, action, signal, problem_linked, problem_signals or "
            "check_in; "
            "each kind has the fields said of it."
        }
    )
    text = fields.String(metadata={"description": "The line: a title, a decision, an excerpt."})
    subject = fields.Nested(AgendaSubjectSchema)
    link = fields.String(metadata={"description": "Where it is in the app (PUBLIC_URL)."})
    decision = _for(fields.Integer(), "decision (its index)")
    action = _for(
        fields.Nested(ItemActionSchema, allow_none=True), "decision (the action it became)"
    )
    owner = _for(fields.Nested(NamedSchema), "action")
    practice = _for(
        fields.Nested(NamedSchema, allow_none=True),
        "action, check_in and signal (a signal's null: the network's series)",
    )
    due_on = _for(fields.Date(), "action")
    status = _for(fields.String(), "action")
    was_due = fields.Boolean(
        metadata={"description": "An action carried over: due by the last huddle, still open."}
    )
    completed_at = _for(UTCDateTime(), "action in completed_actions")
    practices_affected = _for(fields.Integer(), "problem_linked and problem_signals")
    new_practices = _for(
        fields.Integer(), "problem_signals (practices that said so since last time)"
    )
    author = _for(fields.Nested(NamedSchema), "check_in")
    created_at = _for(UTCDateTime(), "check_in")
    measure = _for(fields.Nested(NamedSchema), "signal")
    variation = _for(
        fields.String(),
        "signal: improvement_high, improvement_low, concern_high, concern_low, neutral_high or "
        "neutral_low",
    )
    rules = _for(
        fields.List(
            fields.String(
                validate=validate.OneOf(["astronomical", "shift", "trend", "two_of_three"])
            )
        ),
        "signal: the rules that fired",
    )
    period = _for(fields.Date(), "signal: the point that completed it")


class AgendaSectionSchema(Out):
    kind = fields.String(
        metadata={
            "description": "carried_over, signals, problems, overdue_actions, due_actions, "
            "check_ins or completed_actions, in that order; empty ones are left out."
        }
    )
    title = fields.String()
    minutes = fields.Integer(metadata={"description": "A suggested share of the huddle."})
    items = fields.List(fields.Nested(AgendaItemSchema))


class AgendaMeetingSchema(Out):
    id = fields.Integer(allow_none=True, metadata={"description": "Null: nothing stored yet."})
    starts_at = UTCDateTime()
    ends_at = UTCDateTime()


class AgendaWorkstreamSchema(Out):
    id = fields.Integer()
    title = fields.String()


class AgendaSchema(Out):
    workstream = fields.Nested(AgendaWorkstreamSchema)
    meeting = fields.Nested(
        AgendaMeetingSchema,
        allow_none=True,
        metadata={"description": "The huddle it is for: the next, or the one under way."},
    )
    last_meeting = fields.Nested(
        AgendaMeetingSchema,
        allow_none=True,
        attribute="last",
        metadata={"description": "The last huddle, which `since` dates from."},
    )
    since = UTCDateTime(
        metadata={"description": "The last huddle's start, or the workstream's if none."}
    )
    sections = fields.List(fields.Nested(AgendaSectionSchema))
    link = fields.String()


def _meeting_location(workstream_id: int, meeting_id: int) -> dict[str, str]:
    return location("huddles.MeetingById", workstream_id=workstream_id, meeting_id=meeting_id)


@blp.route("/workstreams/<id:workstream_id>/meetings")
class Meetings(MethodView):
    @blp.doc(
        operationId="listMeetings",
        summary="The huddles between two times: the rule's occurrences (London time), each with "
        "what was stored at it, and the extra ones.",
    )
    @blp.arguments(MeetingQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(MeetingSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, limit, cursor=None, from_=None, to=None):
        return huddles.get_meetings(
            uow(), principal(), workstream_id, start=from_, end=to, limit=limit, cursor=cursor
        )

    @blp.doc(
        operationId="createMeeting",
        summary="Store a huddle (the managers): an occurrence's notes, decisions, attendance or "
        "cancellation, or an extra huddle; 409 when one is stored at that time.",
    )
    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, workstream_id):
        meeting = huddles.create_meeting(uow(), principal(), workstream_id, **data)
        view = huddles.meeting_view(uow(), principal(), workstream_id, meeting.id)
        return view, 201, _meeting_location(workstream_id, meeting.id)


@blp.route("/workstreams/<id:workstream_id>/meetings/<id:meeting_id>")
class MeetingById(MethodView):
    @blp.doc(operationId="getMeeting", summary="One stored huddle.")
    @blp.response(200, MeetingSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, meeting_id):
        return huddles.meeting_view(uow(), principal(), workstream_id, meeting_id)

    @blp.doc(
        operationId="updateMeeting",
        summary="Write up, move or cancel a stored huddle (the managers).",
    )
    @blp.arguments(MeetingUpdateSchema)
    @blp.response(200, MeetingSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, workstream_id, meeting_id):
        huddles.update_meeting(uow(), principal(), workstream_id, meeting_id, **changes)
        return huddles.meeting_view(uow(), principal(), workstream_id, meeting_id)


@blp.route(
    "/workstreams/<id:workstream_id>/meetings/<id:meeting_id>/decisions/<int:decision>/action"
)
class DecisionAction(MethodView):
    @blp.doc(
        operationId="createActionFromDecision",
        summary="A decision (its index in `decisions`) becomes an action, in one call (the "
        "managers): 201, then 200 with the same action.",
    )
    @blp.arguments(DecisionToActionSchema, required=False)
    @blp.response(201, ActionSchema, headers=LOCATION_HEADER)
    @blp.alt_response(200, schema=ActionSchema, description="It is an action already.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, workstream_id, meeting_id, decision):
        action, created = actions.action_from_decision(
            uow(), principal(), workstream_id, meeting_id, decision, **data
        )
        view = queries.action_view(uow(), workstream_id, action.id)
        if not created:
            return view, 200
        here = location("workstreams.ActionById", workstream_id=workstream_id, action_id=action.id)
        return view, 201, here


@blp.route("/workstreams/<id:workstream_id>/meetings/<id:meeting_id>/minutes")
class MeetingMinutes(MethodView):
    @blp.doc(
        operationId="getMeetingMinutes",
        summary="A stored huddle's minutes as plain text or a printable HTML page.",
        responses={"200": {"description": "The minutes.", "content": TEXT_OR_HTML}},
    )
    @blp.arguments(PaperQuery, location="query", as_kwargs=True)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, meeting_id, format):
        paper = documents.minutes(
            uow(), principal(), workstream_id, meeting_id, public_url=_public_url()
        )
        return _paper(documents.render_minutes(paper, format), format)


def _paper(body: str, fmt: str) -> Response:
    mimetype = "text/html" if fmt == "html" else "text/plain"
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/workstreams/<id:workstream_id>/agenda")
class Agenda(MethodView):
    @blp.doc(
        operationId="getAgenda",
        summary="The next huddle's agenda (or the one under way), built from what changed "
        "since the last: JSON, or text or HTML to paste into an invite.",
        responses={
            "200": {
                "description": "The agenda: JSON, or text or HTML as `format` asks.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Agenda"}},
                    **TEXT_OR_HTML,
                },
            }
        },
    )
    @blp.arguments(AgendaQuery, location="query", as_kwargs=True)
    @blp.response(200, AgendaSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, format):
        if format == "json":

            def compute() -> remembered.Body:
                built = agenda.build(uow(), principal(), workstream_id, public_url=_public_url())
                dumped = AgendaSchema().dump(built)
                return remembered.json_body(dumped, until=built.stands_until)

            key = ("agenda", workstream_id)
            return remembered.respond(key, [content.workstream(workstream_id)], compute)
        built = agenda.build(uow(), principal(), workstream_id, public_url=_public_url())
        return _paper(documents.render_agenda(built, format), format)
