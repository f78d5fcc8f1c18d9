"""Moderation of what is posted on boards: problems, workstreams, and their parts."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from api.blueprint import Blueprint
from api.context import principal, uow
from api.problems import ID, ProblemDetailSchema, read_problem, with_etag
from api.schemas import In, Out, PageQuery, Query, StrictInteger, UTCDateTime, page_of
from api.spec import LOCATION_HEADER, location
from api.workstreams import WorkstreamDetailSchema, read_workstream
from network.problems import moderation
from network.problems.models import ReportStatus
from network.workstreams import moderation as workstream_moderation

blp = Blueprint(
    "moderation",
    __name__,
    url_prefix="/api/v1",
    description="Reports, hiding, redaction.",
)


class ReportInSchema(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    comment_id = StrictInteger(**ID)


class ReportSchema(Out):
    id = fields.Integer()
    board_id = fields.Integer()
    problem_id = fields.Integer(allow_none=True)
    comment_id = fields.Integer(allow_none=True)
    workstream_id = fields.Integer(allow_none=True)
    action_id = fields.Integer(allow_none=True)
    check_in_id = fields.Integer(allow_none=True)
    library_entry_id = fields.Integer(allow_none=True)
    reason = fields.String()
    status = fields.Enum(ReportStatus)
    created_at = UTCDateTime()


class WorkstreamReportInSchema(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    action_id = StrictInteger(**ID)
    check_in_id = StrictInteger(**ID)


class WorkstreamPartQuery(Query):
    """Which part to hide: without either, the workstream itself (no body, as for problems)."""

    action_id = fields.Integer(**ID, metadata={"description": "One of its actions."})
    check_in_id = fields.Integer(**ID, metadata={"description": "One of its check-ins."})


class ReportQuery(PageQuery):
    organisation_id = fields.Integer(**ID)
    status = fields.Enum(ReportStatus)


class ReportUpdateSchema(In):
    status = fields.Enum(ReportStatus, required=True)


class RedactionInSchema(In):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    replacement = fields.String(
        load_default=moderation.DEFAULT_REPLACEMENT, validate=validate.Length(max=100)
    )


class RedactionSchema(Out):
    places = fields.Integer(metadata={"description": "How many stored texts changed."})


@blp.route("/problems/<id:problem_id>/reports")
class Reports(MethodView):
    @blp.doc(operationId="reportProblem", summary="Report a problem or one of its comments.")
    @blp.arguments(ReportInSchema)
    @blp.response(201, ReportSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, problem_id):
        report = moderation.report(uow(), principal(), problem_id, **data)
        return report, 201, location("moderation.ReportById", report_id=report.id)


@blp.route("/reports")
class ReportList(MethodView):
    @blp.doc(operationId="listReports", summary="Reports on the boards you moderate, newest first.")
    @blp.arguments(ReportQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(ReportSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, limit, cursor=None, **filters):
        return moderation.get_reports(uow(), principal(), limit=limit, cursor=cursor, **filters)


@blp.route("/reports/<id:report_id>")
class ReportById(MethodView):
    @blp.doc(operationId="updateReport", summary="Resolve, dismiss or reopen a report.")
    @blp.arguments(ReportUpdateSchema)
    @blp.response(200, ReportSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, report_id):
        return moderation.set_report_status(uow(), principal(), report_id, data["status"])


@blp.route("/problems/<id:problem_id>/hide")
class Hide(MethodView):
    @blp.doc(
        operationId="hideProblem", summary="Hide a problem from all but the board's administrators."
    )
    @blp.response(200, ProblemDetailSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, problem_id):
        moderation.set_hidden(uow(), principal(), problem_id, True)
        return with_etag(read_problem(problem_id))


@blp.route("/problems/<id:problem_id>/unhide")
class Unhide(MethodView):
    @blp.doc(operationId="unhideProblem", summary="Show a hidden problem again.")
    @blp.response(200, ProblemDetailSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, problem_id):
        moderation.set_hidden(uow(), principal(), problem_id, False)
        return with_etag(read_problem(problem_id))


@blp.route("/problems/<id:problem_id>/redactions")
class Redactions(MethodView):
    @blp.doc(
        operationId="redactProblem",
        summary="Replace a text wherever it is stored: problem, comments, history, activity.",
    )
    @blp.arguments(RedactionInSchema)
    @blp.response(200, RedactionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, problem_id):
        return {"places": moderation.redact(uow(), principal(), problem_id, **data)}


@blp.route("/workstreams/<id:workstream_id>/reports")
class WorkstreamReports(MethodView):
    @blp.doc(
        operationId="reportWorkstream",
        summary="Report a workstream, or one of its actions or check-ins.",
    )
    @blp.arguments(WorkstreamReportInSchema)
    @blp.response(201, ReportSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        report = workstream_moderation.report(uow(), principal(), workstream_id, **data)
        return report, 201, location("moderation.ReportById", report_id=report.id)


@blp.route("/workstreams/<id:workstream_id>/hide")
class HideWorkstream(MethodView):
    @blp.doc(
        operationId="hideWorkstream",
        summary="Hide a workstream, or one of its actions or check-ins, from all but its "
        "moderators.",
    )
    @blp.arguments(WorkstreamPartQuery, location="query")
    @blp.response(200, WorkstreamDetailSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        workstream_moderation.set_hidden(uow(), principal(), workstream_id, True, **data)
        return read_workstream(workstream_id)


@blp.route("/workstreams/<id:workstream_id>/unhide")
class UnhideWorkstream(MethodView):
    @blp.doc(
        operationId="unhideWorkstream",
        summary="Show a hidden workstream, action or check-in again.",
    )
    @blp.arguments(WorkstreamPartQuery, location="query")
    @blp.response(200, WorkstreamDetailSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        workstream_moderation.set_hidden(uow(), principal(), workstream_id, False, **data)
        return read_workstream(workstream_id)


@blp.route("/workstreams/<id:workstream_id>/redactions")
class WorkstreamRedactions(MethodView):
    @blp.doc(
        operationId="redactWorkstream",
        summary="Replace a text wherever it is stored: workstream, actions, check-ins, activity.",
    )
    @blp.arguments(RedactionInSchema)
    @blp.response(200, RedactionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        return {"places": workstream_moderation.redact(uow(), principal(), workstream_id, **data)}
