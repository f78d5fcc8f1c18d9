"""Joint workstreams: the work practices of a PCN or federation do together, its actions and
check-ins, and the problems it took on."""

from __future__ import annotations

import dataclasses
from datetime import date

from flask.views import MethodView
from marshmallow import fields, validate

from api import etags, remembered
from api.blueprint import Blueprint
from api.context import principal, uow
from api.problems import ID, TEXT, BoardSchema, LibraryRefSchema, NamedSchema
from api.schemas import (
    In,
    Out,
    PageQuery,
    StrictBoolean,
    StrictInteger,
    UTCDateTime,
    page_of,
)
from api.spec import LOCATION_HEADER, location
from network import content
from network.library import queries as library_queries
from network.problems.models import ProblemStatus
from network.workstreams import actions, queries, services
from network.workstreams.models import ActionStatus, WorkstreamStatus

blp = Blueprint(
    "workstreams",
    __name__,
    url_prefix="/api/v1",
    description="Joint workstreams: actions with owners, check-ins, problems taken on.",
)

ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}
# An action's due date: a date people plan by, not a placeholder from the edge of the calendar.
DUE_DATES = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))


class ParticipantSchema(Out):
    practice = fields.Nested(NamedSchema)
    joined_at = UTCDateTime()
    left_at = UTCDateTime(allow_none=True, metadata={"description": "Set once it has left."})
    open_actions = fields.Integer(metadata={"description": "Its actions still open."})


class LinkedProblemSchema(Out):
    id = fields.Integer()
    title = fields.String()
    status = fields.Enum(ProblemStatus)
    board_id = fields.Integer()


class WorkstreamSchema(Out):
    id = fields.Integer(attribute="workstream.id")
    organisation = fields.Nested(BoardSchema, attribute="owner")
    title = fields.String(attribute="workstream.title")
    purpose = fields.String(attribute="workstream.purpose")
    aim = fields.String(attribute="workstream.aim", allow_none=True)
    lead = fields.Nested(NamedSchema, allow_none=True)
    status = fields.Enum(WorkstreamStatus, attribute="workstream.status")
    practice_count = fields.Integer(metadata={"description": "Practices taking part now."})
    created_at = UTCDateTime(attribute="workstream.created_at")
    updated_at = UTCDateTime(attribute="workstream.updated_at")


class WorkstreamDetailSchema(WorkstreamSchema):
    hidden = fields.Boolean(attribute="workstream.hidden")
    meeting_rule = fields.String(attribute="workstream.meeting_rule", allow_none=True)
    meeting_minutes = fields.Integer(attribute="workstream.meeting_minutes")
    practices = fields.List(
        fields.Nested(ParticipantSchema),
        metadata={"description": "Taking part, and those that left (their history stays)."},
    )
    problems = fields.List(
        fields.Nested(LinkedProblemSchema),
        metadata={"description": "The problems it took on that you can read."},
    )
    library_entries = fields.List(
        fields.Nested(LibraryRefSchema),
        metadata={"description": "The library entries it became that you can read."},
    )
    can_manage = fields.Boolean(
        attribute="view.rights.manage",
        metadata={"description": "You lead it, or administer its organisation and read it."},
    )


class WorkstreamQuery(PageQuery):
    organisation_id = fields.Integer(**ID)
    status = fields.Enum(WorkstreamStatus)


class WorkstreamCreateSchema(In):
    organisation_id = StrictInteger(required=True, **ID)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    purpose = fields.String(required=True, validate=TEXT)
    aim = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lead_id = StrictInteger(allow_none=True, **ID)
    problem_ids = fields.List(StrictInteger(**ID), validate=validate.Length(max=50))
    meeting_rule = fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={
            "description": "RFC 5545 RRULE in London time, e.g. "
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30 (null: no huddle).",
        },
    )
    meeting_minutes = StrictInteger(
        validate=validate.Range(min=5, max=240), metadata={"description": "Default 30."}
    )


class WorkstreamUpdateSchema(In):
    title = fields.String(validate=validate.Length(min=1, max=200))
    purpose = fields.String(validate=TEXT)
    aim = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lead_id = StrictInteger(allow_none=True, **ID)
    status = fields.Enum(WorkstreamStatus)
    solve_problems = StrictBoolean(
        metadata={
            "description": "With `status: completed`: mark the problems it took on that you can "
            "read solved."
        },
    )
    meeting_rule = fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={
            "description": "RFC 5545 RRULE in London time, e.g. "
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30 (null: no huddle).",
        },
    )
    meeting_minutes = StrictInteger(
        validate=validate.Range(min=5, max=240), metadata={"description": "Default 30."}
    )


class ActionSchema(Out):
    id = fields.Integer(attribute="action.id")
    title = fields.String(attribute="action.title")
    owner = fields.Nested(NamedSchema)
    practice = fields.Nested(NamedSchema, allow_none=True)
    due_on = fields.Date(attribute="action.due_on")
    status = fields.Enum(ActionStatus, attribute="action.status")
    overdue = fields.Boolean(
        metadata={"description": "Open, and due before today in Europe/London."}
    )
    completed_by = fields.Nested(NamedSchema, allow_none=True)
    completed_at = UTCDateTime(attribute="action.completed_at", allow_none=True)
    created_at = UTCDateTime(attribute="action.created_at")
    updated_at = UTCDateTime(attribute="action.updated_at")


class ActionQuery(PageQuery):
    status = fields.Enum(ActionStatus)
    practice_id = fields.Integer(**ID)


class ActionCreateSchema(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_id = StrictInteger(required=True, **ID)
    practice_id = StrictInteger(
        **ID, metadata={"description": "Your practice (needed when you have several)."}
    )
    due_on = fields.Date(required=True, validate=DUE_DATES)
    status = fields.Enum(ActionStatus, load_default=ActionStatus.open)


class ActionUpdateSchema(In):
    title = fields.String(validate=validate.Length(min=1, max=200))
    owner_id = StrictInteger(**ID)
    practice_id = StrictInteger(**ID)
    due_on = fields.Date(validate=DUE_DATES)
    status = fields.Enum(ActionStatus)


class LeftSchema(Out):
    open_actions = fields.List(
        fields.Nested(ActionSchema),
        metadata={"description": "The practice's open actions, for the managers to reassign."},
    )


class CheckInViewSchema(Out):
    id = fields.Integer(attribute="check_in.id")
    body = fields.String(attribute="check_in.body", metadata={"description": "Markdown."})
    body_html = fields.String(attribute="check_in.body_html")
    author = fields.Nested(NamedSchema)
    practice = fields.Nested(NamedSchema, allow_none=True)
    created_at = UTCDateTime(attribute="check_in.created_at")


class CheckInCreateSchema(In):
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    practice_id = StrictInteger(
        **ID, metadata={"description": "Your practice (needed when you have several)."}
    )


def _etag(detail: queries.WorkstreamDetail) -> str:
    workstream = detail.workstream
    return etags.etag(workstream.id, workstream.version, WorkstreamDetailSchema().dump(detail))


def read_workstream(workstream_id: int) -> queries.WorkstreamDetail:
    """A workstream as its page shows it to the caller, with the library entries it became
    that they can read."""
    detail = queries.detail(uow(), principal(), workstream_id)
    entries = library_queries.entries_from(uow(), principal(), workstream_id=workstream_id)
    return dataclasses.replace(detail, library_entries=entries)


def _detail(workstream_id: int, status: int = 200):
    detail = read_workstream(workstream_id)
    return detail, status, {"ETag": _etag(detail)}


@blp.route("/workstreams")
class Workstreams(MethodView):
    @blp.doc(operationId="listWorkstreams", summary="Workstreams on every board you can read.")
    @blp.arguments(WorkstreamQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(WorkstreamSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None, **filters):
        return queries.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)

    @blp.doc(
        operationId="createWorkstream",
        summary="Start a workstream of a PCN or federation (its administrators who read it).",
    )
    @blp.arguments(WorkstreamCreateSchema)
    @blp.response(201, WorkstreamDetailSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        workstream = services.create(uow(), principal(), **data)
        detail, status, headers = _detail(workstream.id, 201)
        return (
            detail,
            status,
            headers | location("workstreams.WorkstreamById", workstream_id=workstream.id),
        )


@blp.route("/workstreams/<id:workstream_id>")
class WorkstreamById(MethodView):
    @blp.doc(
        operationId="getWorkstream",
        summary="One workstream, its practices and the problems it took on that you can read.",
        parameters=[etags.IF_NONE_MATCH_PARAMETER],
    )
    @blp.response(200, WorkstreamDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(
        304, description="Not modified: the ETag you sent in If-None-Match is current."
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id):
        def compute() -> remembered.Body:
            detail = read_workstream(workstream_id)
            dumped = WorkstreamDetailSchema().dump(detail)
            tag = etags.etag(detail.workstream.id, detail.workstream.version, dumped)
            return remembered.json_body(dumped, {"ETag": tag})

        key = ("workstream", workstream_id)
        return remembered.respond(key, [content.workstream(workstream_id)], compute)

    @blp.doc(
        operationId="updateWorkstream",
        summary="Change a workstream (its managers); needs If-Match.",
        parameters=[etags.IF_MATCH_PARAMETER],
    )
    @blp.arguments(WorkstreamUpdateSchema)
    @blp.response(200, WorkstreamDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    def patch(self, changes, workstream_id):
        current = _etag(read_workstream(workstream_id))
        services.update(
            uow(), principal(), workstream_id, if_match=etags.if_match(current), **changes
        )
        return _detail(workstream_id)


@blp.route("/workstreams/<id:workstream_id>/practices/<id:practice_id>")
class Participation(MethodView):
    @blp.doc(
        operationId="joinWorkstream",
        summary="A practice takes part (its administrators, or the managers): 201, then 200.",
    )
    @blp.response(201, ParticipantSchema, headers=LOCATION_HEADER)
    @blp.alt_response(200, schema=ParticipantSchema, description="It already takes part.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, workstream_id, practice_id):
        _, joined = services.join(uow(), principal(), workstream_id, practice_id)
        row = next(
            p for p in queries.participants(uow(), workstream_id) if p.practice.id == practice_id
        )
        here = location(
            "workstreams.Participation", workstream_id=workstream_id, practice_id=practice_id
        )
        return row, 201 if joined else 200, here if joined else {}

    @blp.doc(
        operationId="leaveWorkstream",
        summary="A practice stops taking part; its history stays, its open actions are listed.",
    )
    @blp.response(200, LeftSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, workstream_id, practice_id):
        actions = services.leave(uow(), principal(), workstream_id, practice_id)
        return {"open_actions": actions}


@blp.route("/workstreams/<id:workstream_id>/problems/<id:problem_id>")
class LinkedProblem(MethodView):
    @blp.doc(
        operationId="linkProblem",
        summary="Take a problem on (the managers, who read it): it becomes in_workstream.",
    )
    @blp.response(201, WorkstreamDetailSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    @blp.alt_response(200, schema=WorkstreamDetailSchema, description="Already taken on.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, workstream_id, problem_id):
        linked = services.link_problem(uow(), principal(), workstream_id, problem_id)
        detail, status, headers = _detail(workstream_id, 201 if linked else 200)
        if linked:
            headers |= location(
                "workstreams.LinkedProblem", workstream_id=workstream_id, problem_id=problem_id
            )
        return detail, status, headers

    @blp.doc(
        operationId="unlinkProblem",
        summary="Let a problem go; with no workstream left it is back to discussing.",
    )
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, workstream_id, problem_id):
        services.unlink_problem(uow(), principal(), workstream_id, problem_id)


@blp.route("/workstreams/<id:workstream_id>/actions")
class Actions(MethodView):
    @blp.doc(operationId="listActions", summary="A workstream's actions, soonest due first.")
    @blp.arguments(ActionQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(ActionSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, limit, cursor=None, **filters):
        def compute() -> remembered.Body:
            page = queries.get_actions(
                uow(), principal(), workstream_id, limit=limit, cursor=cursor, **filters
            )
            return remembered.json_body(page_of(ActionSchema)().dump(page))

        # `overdue` is worked out against today: the day is in the key.
        key = ("actions", workstream_id, limit, cursor, *sorted(filters.items()), queries.today())
        return remembered.respond(key, [content.workstream(workstream_id)], compute)

    @blp.doc(
        operationId="createAction",
        summary="An action with an owner, for a practice taking part (yours, or any: managers).",
    )
    @blp.arguments(ActionCreateSchema)
    @blp.response(201, ActionSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        action = actions.add_action(uow(), principal(), workstream_id, **data)
        view = queries.action_view(uow(), workstream_id, action.id)
        return (
            view,
            201,
            location("workstreams.ActionById", workstream_id=workstream_id, action_id=action.id),
        )


@blp.route("/workstreams/<id:workstream_id>/actions/<id:action_id>")
class ActionById(MethodView):
    @blp.doc(operationId="getAction", summary="One action.")
    @blp.response(200, ActionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, action_id):
        view = queries.get(uow(), principal(), workstream_id)
        queries.action(uow(), principal(), view, action_id)
        return queries.action_view(uow(), workstream_id, action_id)

    @blp.doc(
        operationId="updateAction",
        summary="Reassign, move, complete or drop an action (managers, or its practice).",
    )
    @blp.arguments(ActionUpdateSchema)
    @blp.response(200, ActionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, workstream_id, action_id):
        actions.update_action(uow(), principal(), workstream_id, action_id, **changes)
        return queries.action_view(uow(), workstream_id, action_id)


@blp.route("/workstreams/<id:workstream_id>/updates")
class CheckIns(MethodView):
    @blp.doc(operationId="listCheckIns", summary="A workstream's check-ins, newest first.")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(CheckInViewSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, limit, cursor=None):
        return queries.get_check_ins(uow(), principal(), workstream_id, limit=limit, cursor=cursor)

    @blp.doc(
        operationId="createCheckIn",
        summary="A short update from your practice, which takes part (Markdown).",
    )
    @blp.arguments(CheckInCreateSchema)
    @blp.response(201, CheckInViewSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        row = actions.add_check_in(uow(), principal(), workstream_id, **data)
        here = location("workstreams.CheckInById", workstream_id=workstream_id, check_in_id=row.id)
        return queries.check_in_view(uow(), workstream_id, row.id), 201, here


@blp.route("/workstreams/<id:workstream_id>/updates/<id:check_in_id>")
class CheckInById(MethodView):
    @blp.doc(operationId="getCheckIn", summary="One check-in.")
    @blp.response(200, CheckInViewSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, check_in_id):
        return queries.check_in(uow(), principal(), workstream_id, check_in_id)
