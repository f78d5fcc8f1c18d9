"""The best-practice library: what worked, in versions, and what each practice did with it."""

from __future__ import annotations

from datetime import date

from flask import Response
from flask.views import MethodView
from marshmallow import fields, validate

from api import etags, remembered
from api.blueprint import Blueprint
from api.context import commons, principal, uow
from api.moderation import RedactionInSchema, RedactionSchema, ReportSchema
from api.problems import ID, TAG, TEXT, BoardSchema, NamedSchema
from api.schemas import In, Out, PageQuery, Query, StrictInteger, UTCDateTime, page_of
from api.spec import LOCATION_HEADER, location
from network.library import documents, moderation, queries, services
from network.library.models import AdoptionStatus, EntryStatus

blp = Blueprint(
    "library",
    __name__,
    url_prefix="/api/v1",
    description="The best-practice library: entries in versions, adoption by practices.",
)

ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}
SUMMARY = validate.Length(min=1, max=1000)
NOTE = validate.Length(max=2000)
REVIEW_DATES = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))
MARKDOWN_OR_HTML = {
    "text/markdown": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}},
}
DIFF_OR_HTML = {
    "text/x-diff": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}},
}


class AdoptionCountsSchema(Out):
    considering = fields.Integer()
    trialling = fields.Integer()
    adopted = fields.Integer()
    adapted = fields.Integer()
    declined = fields.Integer()
    stopped = fields.Integer()


class MyAdoptionSchema(Out):
    status = fields.Enum(AdoptionStatus)
    version = fields.Integer(metadata={"description": "The version your practice took."})
    newer_version = fields.Integer(
        allow_none=True,
        metadata={"description": "The latest version, when it is newer than yours; else null."},
    )


class SourceSchema(Out):
    type = fields.String(validate=validate.OneOf(["problem", "workstream"]))
    id = fields.Integer()
    title = fields.String()


class VersionItemSchema(Out):
    number = fields.Integer(attribute="version.number")
    author = fields.Nested(NamedSchema)
    created_at = UTCDateTime(attribute="version.created_at")
    change_note = fields.String(attribute="version.change_note", allow_none=True)


class VersionSchema(VersionItemSchema):
    title = fields.String(attribute="version.title")
    summary = fields.String(attribute="version.summary")
    body = fields.String(attribute="version.body", metadata={"description": "Markdown."})
    body_html = fields.String(attribute="version.body_html", metadata={"description": "Sanitised."})
    tags = fields.List(fields.String(), attribute="version.tags")
    status = fields.Enum(EntryStatus, attribute="version.status")


class ChangeSchema(Out):
    number = fields.Integer()
    created_at = UTCDateTime()
    change_note = fields.String(allow_none=True)


class LibraryEntrySchema(Out):
    id = fields.Integer(attribute="entry.id")
    organisation = fields.Nested(BoardSchema)
    title = fields.String(attribute="entry.title")
    summary = fields.String(attribute="entry.summary")
    tags = fields.List(fields.String(), attribute="entry.tags")
    status = fields.Enum(EntryStatus, attribute="entry.status")
    withdrawn_reason = fields.String(
        attribute="entry.withdrawn_reason",
        allow_none=True,
        metadata={"description": "Why it was withdrawn (null unless withdrawn)."},
    )
    review_by = fields.Date(attribute="entry.review_by", allow_none=True)
    author = fields.Nested(NamedSchema)
    latest_version = fields.Integer(attribute="entry.latest_version")
    adoption_counts = fields.Nested(AdoptionCountsSchema)
    my_practice_adoption = fields.Nested(
        MyAdoptionSchema,
        allow_none=True,
        metadata={"description": "What your practice did with it (null: nothing yet)."},
    )
    created_at = UTCDateTime(attribute="entry.created_at")
    updated_at = UTCDateTime(attribute="entry.updated_at")
    published_at = UTCDateTime(attribute="entry.published_at", allow_none=True)


class LibraryEntryDetailSchema(LibraryEntrySchema):
    body = fields.String(attribute="entry.body", metadata={"description": "Markdown."})
    body_html = fields.String(attribute="entry.body_html", metadata={"description": "Sanitised."})
    hidden = fields.Boolean(attribute="entry.hidden")
    source = fields.Nested(
        SourceSchema,
        allow_none=True,
        metadata={"description": "The problem or workstream it came from, when you read it."},
    )
    changes_since_my_version = fields.List(
        fields.Nested(ChangeSchema),
        metadata={"description": "The versions after the one your practice took."},
    )
    can_edit = fields.Boolean(attribute="rights.edit")
    can_moderate = fields.Boolean(attribute="rights.moderate")


class LibraryQuery(PageQuery):
    organisation_id = fields.Integer(**ID)
    tag = fields.String(validate=validate.Length(min=1, max=40))
    q = fields.String(validate=validate.Length(min=1, max=200))
    status = fields.Enum(EntryStatus)
    sort = fields.String(
        validate=validate.OneOf(queries.SORTS),
        metadata={
            "description": "`updated` (default), `new`, `adopted` (practices that adopted or "
            "adapted it), `relevance` (the default with `q`)."
        },
    )


class LibraryCreateSchema(In):
    organisation_id = StrictInteger(required=True, **ID)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    summary = fields.String(required=True, validate=SUMMARY)
    body = fields.String(required=True, validate=TEXT)
    tags = fields.List(TAG, validate=validate.Length(max=10))
    review_by = fields.Date(allow_none=True, validate=REVIEW_DATES)
    source_problem_id = StrictInteger(allow_none=True, **ID)
    source_workstream_id = StrictInteger(allow_none=True, **ID)
    change_note = fields.String(allow_none=True, validate=NOTE)


class LibraryUpdateSchema(In):
    title = fields.String(validate=validate.Length(min=1, max=200))
    summary = fields.String(validate=SUMMARY)
    body = fields.String(validate=TEXT)
    tags = fields.List(TAG, validate=validate.Length(max=10))
    review_by = fields.Date(allow_none=True, validate=REVIEW_DATES)
    status = fields.Enum(EntryStatus)
    withdrawn_reason = fields.String(
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Needed with `status: withdrawn`."},
    )
    change_note = fields.String(allow_none=True, validate=NOTE)


class PromoteSchema(In):
    problem_id = StrictInteger(**ID, metadata={"description": "A problem with an accepted idea."})
    workstream_id = StrictInteger(**ID, metadata={"description": "A completed workstream."})


class AdoptionSchema(Out):
    practice = fields.Nested(NamedSchema)
    status = fields.Enum(AdoptionStatus, attribute="adoption.status")
    version = fields.Integer(attribute="adoption.version")
    note = fields.String(attribute="adoption.note", allow_none=True)
    updated_at = UTCDateTime(attribute="adoption.updated_at")


class AdoptionInSchema(In):
    status = fields.Enum(AdoptionStatus, required=True)
    note = fields.String(allow_none=True, validate=NOTE)


class ExportQuery(Query):
    format = fields.String(
        load_default="html",
        validate=validate.OneOf(["md", "html"]),
        metadata={"description": "`html` (default: a printable page) or `md` (Markdown)."},
    )


class DiffQuery(Query):
    from_ = fields.Integer(
        required=True, data_key="from", metadata={"description": "The older version."}, **ID
    )
    format = fields.String(
        load_default="unified",
        validate=validate.OneOf(["unified", "html"]),
        metadata={"description": "`unified` (default) or `html`."},
    )


class LibraryReportInSchema(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


def _etag(view: queries.EntryView) -> str:
    entry = view.entry
    return etags.etag(entry.id, entry.version, LibraryEntryDetailSchema().dump(view))


def _detail(entry_id: int, status: int = 200):
    view = queries.detail(uow(), principal(), entry_id)
    return view, status, {"ETag": _etag(view)}


def _public_url() -> str:
    return commons().settings.public_url


def _paper(body: str, mimetype: str, filename: str | None = None) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/library")
class Library(MethodView):
    @blp.doc(
        operationId="listLibrary",
        summary="Entries in every library you can read; `q` searches title, summary and body.",
    )
    @blp.arguments(LibraryQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(LibraryEntrySchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None, **filters):
        def compute() -> remembered.Body:
            page = queries.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)
            return remembered.json_body(page_of(LibraryEntrySchema)().dump(page))

        # An entry is read like its organisation's board: the reader's boards are its scopes.
        key = ("library", limit, cursor, *sorted(filters.items()))
        return remembered.respond(key, [], compute)

    @blp.doc(
        operationId="createLibraryEntry",
        summary="A draft entry in an organisation's library (anyone who belongs to it).",
    )
    @blp.arguments(LibraryCreateSchema)
    @blp.response(201, LibraryEntryDetailSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        entry = services.create(uow(), principal(), **data)
        view, status, headers = _detail(entry.id, 201)
        return view, status, headers | location("library.EntryById", entry_id=entry.id)


@blp.route("/library/promote")
class Promote(MethodView):
    @blp.doc(
        operationId="promoteToLibrary",
        summary="A prefilled draft from a problem's accepted idea (its author or moderators) or "
        "a completed workstream (its managers).",
    )
    @blp.arguments(PromoteSchema)
    @blp.response(201, LibraryEntryDetailSchema, headers=ETAG_HEADER | LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        entry = services.promote(uow(), principal(), **data)
        view, status, headers = _detail(entry.id, 201)
        return view, status, headers | location("library.EntryById", entry_id=entry.id)


@blp.route("/library/<id:entry_id>")
class EntryById(MethodView):
    @blp.doc(
        operationId="getLibraryEntry",
        summary="One entry, its adoption counts and what your practice did with it.",
        parameters=[etags.IF_NONE_MATCH_PARAMETER],
    )
    @blp.response(200, LibraryEntryDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(
        304, description="Not modified: the ETag you sent in If-None-Match is current."
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id):
        view, status, headers = _detail(entry_id)
        if etags.none_match(headers["ETag"]):
            return Response(status=304, headers=headers)
        return view, status, headers

    @blp.doc(
        operationId="updateLibraryEntry",
        summary="A new version (its author or moderators): edit, publish, withdraw with a "
        "reason; needs If-Match.",
        parameters=[etags.IF_MATCH_PARAMETER],
    )
    @blp.arguments(LibraryUpdateSchema)
    @blp.response(200, LibraryEntryDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    def patch(self, changes, entry_id):
        current = _etag(queries.detail(uow(), principal(), entry_id))
        services.update(uow(), principal(), entry_id, if_match=etags.if_match(current), **changes)
        return _detail(entry_id)


@blp.route("/library/<id:entry_id>/versions")
class Versions(MethodView):
    @blp.doc(operationId="listLibraryVersions", summary="An entry's versions, newest first.")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(VersionItemSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id, limit, cursor=None):
        return queries.versions(uow(), principal(), entry_id, limit=limit, cursor=cursor)


@blp.route("/library/<id:entry_id>/versions/<id:number>")
class VersionByNumber(MethodView):
    @blp.doc(operationId="getLibraryVersion", summary="One version of an entry, as it stood.")
    @blp.response(200, VersionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id, number):
        return queries.version(uow(), principal(), entry_id, number)


@blp.route("/library/<id:entry_id>/versions/<id:number>/diff")
class VersionDiff(MethodView):
    @blp.doc(
        operationId="getLibraryVersionDiff",
        summary="What changed between two versions: a unified diff, or an HTML page.",
        responses={"200": {"description": "The difference.", "content": DIFF_OR_HTML}},
    )
    @blp.arguments(DiffQuery, location="query", as_kwargs=True)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id, number, from_, format):
        result = documents.diff(uow(), principal(), entry_id, number, since=from_)
        mimetype = "text/html" if format == "html" else "text/x-diff"
        return _paper(documents.render_diff(result, format), mimetype)


@blp.route("/library/<id:entry_id>/export")
class Export(MethodView):
    @blp.doc(
        operationId="exportLibraryEntry",
        summary="The current version as Markdown, or a printable self-contained HTML page.",
        responses={"200": {"description": "The entry.", "content": MARKDOWN_OR_HTML}},
    )
    @blp.arguments(ExportQuery, location="query", as_kwargs=True)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id, format):
        paper = documents.export(uow(), principal(), entry_id, public_url=_public_url())
        body = documents.render_export(paper, format)
        if format == "md":
            name = f"library-{entry_id}-v{paper.version.number}.md"
            return _paper(body, "text/markdown", name)
        return _paper(body, "text/html")


@blp.route("/library/<id:entry_id>/adoptions")
class Adoptions(MethodView):
    @blp.doc(
        operationId="listLibraryAdoptions",
        summary="What each practice did with an entry, by practice name.",
    )
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(AdoptionSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id, limit, cursor=None):
        return queries.adoptions(uow(), principal(), entry_id, limit=limit, cursor=cursor)


@blp.route("/library/<id:entry_id>/adoptions/<id:practice_id>")
class AdoptionByPractice(MethodView):
    @blp.doc(
        operationId="setLibraryAdoption",
        summary="Say what your practice did with an entry (its members): 201, then 200.",
    )
    @blp.arguments(AdoptionInSchema)
    @blp.response(201, AdoptionSchema, headers=LOCATION_HEADER)
    @blp.alt_response(200, schema=AdoptionSchema, description="Changed.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, entry_id, practice_id):
        row, created = services.set_adoption(uow(), principal(), entry_id, practice_id, **data)
        view = queries.AdoptionView(row, queries.practice(uow(), practice_id))
        if not created:
            return view, 200
        here = location("library.Adoptions", entry_id=entry_id)
        return view, 201, here


@blp.route("/library/<id:entry_id>/reports")
class Reports(MethodView):
    @blp.doc(operationId="reportLibraryEntry", summary="Report an entry to its moderators.")
    @blp.arguments(LibraryReportInSchema)
    @blp.response(201, ReportSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, entry_id):
        report = moderation.report(uow(), principal(), entry_id, **data)
        return report, 201, location("moderation.ReportById", report_id=report.id)


@blp.route("/library/<id:entry_id>/hide")
class Hide(MethodView):
    @blp.doc(operationId="hideLibraryEntry", summary="Hide an entry from all but its moderators.")
    @blp.response(200, LibraryEntryDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, entry_id):
        moderation.set_hidden(uow(), principal(), entry_id, True)
        return _detail(entry_id)


@blp.route("/library/<id:entry_id>/unhide")
class Unhide(MethodView):
    @blp.doc(operationId="unhideLibraryEntry", summary="Show a hidden entry again.")
    @blp.response(200, LibraryEntryDetailSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, entry_id):
        moderation.set_hidden(uow(), principal(), entry_id, False)
        return _detail(entry_id)


@blp.route("/library/<id:entry_id>/redactions")
class Redactions(MethodView):
    @blp.doc(
        operationId="redactLibraryEntry",
        summary="Replace a text wherever it is stored: the entry, every version, adoption "
        "notes, reports, activity.",
    )
    @blp.arguments(RedactionInSchema)
    @blp.response(200, RedactionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, entry_id):
        return {"places": moderation.redact(uow(), principal(), entry_id, **data)}
