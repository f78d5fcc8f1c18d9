"""Problem boards: problems, "we have this too", comments and ideas, moderation, activity."""

from __future__ import annotations

import dataclasses

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import fields, validate

from api import etags
from api.blueprint import MAX_ID, Blueprint
from api.context import principal, uow
from api.schemas import In, Out, PageQuery, StrictInteger, UTCDateTime, page_of
from api.spec import EXAMPLES, LOCATION_HEADER, location
from network.access import Anonymity
from network.library import queries as library_queries
from network.library.models import EntryStatus
from network.organisations.models import Organisation, OrganisationKind
from network.problems import queries, services
from network.problems.models import CommentKind, ProblemStatus
from network.problems.queries import ProblemView
from network.workstreams import queries as workstream_queries
from network.workstreams.models import WorkstreamStatus

blp = Blueprint("problems", __name__, url_prefix="/api/v1", description="Problem boards.")

ID = {"validate": validate.Range(min=1, max=MAX_ID)}
TEXT = validate.Length(min=1, max=50_000)
TAG = fields.String(validate=validate.Length(min=1, max=40))


class BoardSchema(Out):
    id = fields.Integer()
    kind = fields.Enum(OrganisationKind)
    name = fields.String()


class NamedSchema(Out):
    id = fields.Integer()
    name = fields.String()


class ProblemSchema(Out):
    id = fields.Integer(attribute="problem.id")
    board = fields.Nested(BoardSchema)
    title = fields.String(attribute="problem.title")
    excerpt = fields.String(attribute="problem.excerpt")
    tags = fields.List(fields.String(), attribute="problem.tags")
    status = fields.Enum(ProblemStatus, attribute="problem.status")
    author = fields.Nested(
        NamedSchema, allow_none=True, metadata={"description": "Null when anonymous."}
    )
    practice = fields.Nested(
        NamedSchema, allow_none=True, metadata={"description": "Null when practice-anonymous."}
    )
    anonymity = fields.Enum(Anonymity, attribute="problem.anonymity")
    affected_count = fields.Integer(attribute="problem.affected_count")
    my_practice_affected = fields.Boolean(
        metadata={
            "description": "One of your practices has said “we have this too” (on a "
            "practice-anonymous problem of your own practice, only once it has said so itself)."
        }
    )
    comment_count = fields.Integer(attribute="problem.comment_count")
    created_at = UTCDateTime(attribute="problem.created_at")
    updated_at = UTCDateTime(attribute="problem.updated_at")
    can_edit = fields.Boolean(
        metadata={
            "description": "You wrote it; on a single problem, also when you moderate its board."
        }
    )


class WorkstreamRefSchema(Out):
    id = fields.Integer()
    title = fields.String()
    status = fields.Enum(WorkstreamStatus)


class LibraryRefSchema(Out):
    id = fields.Integer()
    title = fields.String()
    status = fields.Enum(EntryStatus)


class ProblemDetailSchema(ProblemSchema):
    body = fields.String(attribute="problem.body", metadata={"description": "Markdown."})
    body_html = fields.String(attribute="problem.body_html", metadata={"description": "Sanitised."})
    hidden = fields.Boolean(attribute="problem.hidden")
    accepted_comment_id = fields.Integer(attribute="problem.accepted_comment_id", allow_none=True)
    workstreams = fields.List(
        fields.Nested(WorkstreamRefSchema),
        metadata={"description": "The workstreams that took it on that you can read."},
    )
    library_entries = fields.List(
        fields.Nested(LibraryRefSchema),
        metadata={"description": "The library entries it became that you can read."},
    )


class ProblemQuery(PageQuery):
    # What it loads depends on the query string alone: parsed once per process (blueprint.py).
    parsed_once = True

    board_id = fields.Integer(**ID)
    status = fields.Enum(ProblemStatus)
    tag = fields.String(validate=validate.Length(min=1, max=40))
    q = fields.String(validate=validate.Length(min=1, max=200))
    sort = fields.String(load_default="hot", validate=validate.OneOf(queries.SORTS))


class ProblemCreateSchema(In):
    board_id = StrictInteger(required=True, **ID)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=TEXT)
    tags = fields.List(TAG, validate=validate.Length(max=10))
    anonymity = fields.Enum(Anonymity, load_default=Anonymity.none)


class ProblemUpdateSchema(In):
    title = fields.String(validate=validate.Length(min=1, max=200))
    body = fields.String(validate=TEXT)
    tags = fields.List(TAG, validate=validate.Length(max=10))
    status = fields.Enum(ProblemStatus)


class AffectedInSchema(In):
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class AffectedSchema(Out):
    practice = fields.Nested(NamedSchema)
    note = fields.String(allow_none=True)
    created_at = UTCDateTime()


class CommentSchema(Out):
    id = fields.Integer(attribute="comment.id")
    kind = fields.Enum(CommentKind, attribute="comment.kind")
    body = fields.String(attribute="comment.body")
    body_html = fields.String(attribute="comment.body_html")
    author = fields.Nested(NamedSchema, allow_none=True)
    practice = fields.Nested(NamedSchema, allow_none=True)
    anonymity = fields.Enum(Anonymity, attribute="comment.anonymity")
    accepted = fields.Boolean(attribute="comment.accepted")
    created_at = UTCDateTime(attribute="comment.created_at")


class CommentInSchema(In):
    body = fields.String(required=True, validate=TEXT)
    kind = fields.Enum(CommentKind, load_default=CommentKind.comment)
    anonymity = fields.Enum(Anonymity, load_default=Anonymity.none)


def problem_item(row) -> dict:
    """What ProblemSchema dumps, from a row of the list query, without marshmallow: lists are
    the API's hottest path (a test keeps the two equal). Datetimes are UTC: the JSON provider
    writes them as 2026-11-22T09:30:00Z."""
    (
        id_,
        title,
        excerpt,
        tags,
        status,
        anonymity,
        affected_count,
        comment_count,
        created_at,
        updated_at,
        _last_activity_at,
        board_id,
        board_kind,
        board_name,
        author_id,
        author_name,
        practice_id,
        practice_name,
        can_edit,
        my_practice_affected,
    ) = row
    return {
        "id": id_,
        "board": {"id": board_id, "kind": board_kind, "name": board_name},
        "title": title,
        "excerpt": excerpt,
        "tags": tags,
        "status": status,
        "author": None if author_id is None else {"id": author_id, "name": author_name},
        "practice": None if practice_id is None else {"id": practice_id, "name": practice_name},
        "anonymity": anonymity,
        "affected_count": affected_count,
        "my_practice_affected": bool(my_practice_affected),
        "comment_count": comment_count,
        "created_at": created_at,
        "updated_at": updated_at,
        "can_edit": bool(can_edit),
    }


def read_problem(problem_id: int) -> ProblemView:
    """A problem as its page shows it to the caller: with the workstreams that took it on and
    the library entries it became that they can read."""
    view = queries.get(uow(), principal(), problem_id)
    taken_on = workstream_queries.workstreams_of_problem(uow(), principal(), problem_id)
    entries = library_queries.entries_from(uow(), principal(), problem_id=problem_id)
    return dataclasses.replace(view, workstreams=taken_on, library_entries=entries)


def _etag(view) -> str:
    """The tag of what this reader is shown (ProblemDetailSchema of the view)."""
    return etags.etag(view.problem.id, view.problem.version, ProblemDetailSchema().dump(view))


def _if_match(problem_id: int):
    """If-Match against the problem as the caller reads it now."""
    return etags.if_match(_etag(read_problem(problem_id)))


def with_etag(view, status: int = 200):
    """A problem's view as the response, with its ETag (what this reader is shown)."""
    return view, status, {"ETag": _etag(view)}


@blp.route("/problems")
class Problems(MethodView):
    @blp.doc(operationId="listProblems", summary="Problems on every board you can read.")
    @blp.arguments(ProblemQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(ProblemSchema), example=EXAMPLES["problem_page"])
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None, **filters):
        page = queries.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)
        # The hot path: items built directly (tests keep them equal to ProblemSchema's dump).
        return current_app.json.response(
            items=[problem_item(row) for row in page.items], next_cursor=page.next_cursor
        )

    @blp.doc(
        operationId="createProblem", summary="Post a problem; your practice counts as affected."
    )
    @blp.arguments(ProblemCreateSchema, example=EXAMPLES["problem_create"])
    @blp.response(
        201,
        ProblemDetailSchema,
        headers={"ETag": {"schema": {"type": "string"}}, **LOCATION_HEADER},
        example=EXAMPLES["problem_detail"],
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        problem = services.create(uow(), principal(), **data)
        view, status, headers = with_etag(read_problem(problem.id), 201)
        return view, status, headers | location("problems.ProblemById", problem_id=problem.id)


@blp.route("/problems/<id:problem_id>")
class ProblemById(MethodView):
    @blp.doc(
        operationId="getProblem",
        summary="One problem, with its body.",
        parameters=[etags.IF_NONE_MATCH_PARAMETER],
    )
    @blp.response(
        200,
        ProblemDetailSchema,
        headers={"ETag": {"schema": {"type": "string"}}},
        example=EXAMPLES["problem_detail"],
    )
    @blp.alt_response(
        304, description="Not modified: the ETag you sent in If-None-Match is current."
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, problem_id):
        view = read_problem(problem_id)
        if etags.none_match(_etag(view)):
            return Response(status=304, headers={"ETag": _etag(view)})
        return with_etag(view)

    @blp.doc(
        operationId="updateProblem",
        summary="Edit a problem (its author or the board's administrators); needs If-Match.",
        parameters=[etags.IF_MATCH_PARAMETER],
    )
    @blp.arguments(ProblemUpdateSchema)
    @blp.response(200, ProblemDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    def patch(self, changes, problem_id):
        services.update(uow(), principal(), problem_id, if_match=_if_match(problem_id), **changes)
        return with_etag(read_problem(problem_id))

    @blp.doc(
        operationId="deleteProblem",
        summary="Remove a problem (kept for the audit); with If-Match, only that version.",
        parameters=[etags.IF_MATCH_OPTIONAL_PARAMETER],
    )
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(
        409, response="CONFLICT", description="It has comments: ask an administrator."
    )
    def delete(self, problem_id):
        services.delete(uow(), principal(), problem_id, if_match=_if_match(problem_id))


@blp.route("/problems/<id:problem_id>/affected")
class Affected(MethodView):
    @blp.doc(operationId="listAffected", summary="The practices that have this problem too.")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(AffectedSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, problem_id, limit, cursor=None):
        return queries.get_affected(uow(), principal(), problem_id, limit=limit, cursor=cursor)

    @blp.doc(
        operationId="signalAffected",
        summary="\u201cWe have this too\u201d for your practice (201 the first time, 200 after).",
    )
    @blp.arguments(AffectedInSchema)
    @blp.response(201, AffectedSchema, headers=LOCATION_HEADER)
    @blp.alt_response(200, schema=AffectedSchema, description="Your practice had already said so.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN", description="You are not in a practice.")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        409, response="CONFLICT", description="Your practice's signal kept changing meanwhile."
    )
    def put(self, data, problem_id):
        signal, created = services.signal_affected(uow(), principal(), problem_id, **data)
        practice = uow().session.get_one(Organisation, signal.practice_id)
        body = {"practice": practice, "note": signal.note, "created_at": signal.created_at}
        if created:
            return body, 201, location("problems.Affected", problem_id=problem_id)
        return body, 200

    @blp.doc(operationId="withdrawAffected", summary="Withdraw your practice's signal.")
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="The author's own practice.")
    def delete(self, problem_id):
        services.withdraw_affected(uow(), principal(), problem_id)


@blp.route("/problems/<id:problem_id>/comments")
class Comments(MethodView):
    @blp.doc(operationId="listComments", summary="Comments and ideas, oldest first.")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(CommentSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, problem_id, limit, cursor=None):
        return queries.get_comments(uow(), principal(), problem_id, limit=limit, cursor=cursor)

    @blp.doc(operationId="createComment", summary="Comment, or propose an idea.")
    @blp.arguments(CommentInSchema, example=EXAMPLES["comment_create"])
    @blp.response(
        201,
        CommentSchema,
        headers={
            "Location": {
                **LOCATION_HEADER["Location"],
                "description": "The problem's comments, where the new one is listed (a "
                "comment has no URL of its own).",
            }
        },
        example=EXAMPLES["comment"],
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, problem_id):
        comment = services.add_comment(uow(), principal(), problem_id, **data)
        view = queries.comment_view(uow(), principal(), problem_id, comment.id)
        return view, 201, location("problems.Comments", problem_id=problem_id)


@blp.route("/problems/<id:problem_id>/comments/<id:comment_id>/accept")
class AcceptIdea(MethodView):
    @blp.doc(
        operationId="acceptIdea",
        summary="Accept an idea: the problem is solved (its author or the board's administrators).",
    )
    @blp.response(200, CommentSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Not an idea.")
    def post(self, problem_id, comment_id):
        services.accept_idea(uow(), principal(), problem_id, comment_id)
        return queries.comment_view(uow(), principal(), problem_id, comment_id)
