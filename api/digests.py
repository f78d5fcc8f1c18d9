"""Digests from the reader's side: the preview of the next one, following and muting threads,
and the unsubscribe link every digest carries (public: the token is the credential)."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.views import MethodView
from marshmallow import fields, validate

from api.auth.protect import public
from api.blueprint import Blueprint
from api.context import commons, current_person, principal, uow
from api.schemas import Out, PageQuery, Query, UTCDateTime, page_of
from api.spec import DATABASE_BUSY, LOCATION_HEADER
from network.db import utcnow
from network.digests import follows, pictures, runs, services, tokens
from network.digests.models import ThreadChoice
from network.errors import NotFound

blp = Blueprint(
    "digests",
    __name__,
    url_prefix="/api/v1",
    description="Digests: the preview, follows and mutes, unsubscribing.",
)


class ChartRefSchema(Out):
    workstream_id = fields.Integer()
    measure_id = fields.Integer()
    practice_id = fields.Integer(
        allow_none=True, metadata={"description": "Null: the network's series."}
    )


class ItemSchema(Out):
    line = fields.String(metadata={"description": "What happened, titles only."})
    link = fields.String(metadata={"description": "Where it is in the app (PUBLIC_URL)."})
    excerpt = fields.String(
        allow_none=True,
        metadata={"description": "What was written (null with `content: titles`)."},
    )
    who = fields.String(
        allow_none=True, metadata={"description": "Who did it, as anonymity allows."}
    )
    at = UTCDateTime(allow_none=True)
    note = fields.String(allow_none=True, metadata={"example": "overdue"})
    chart = fields.Nested(
        ChartRefSchema,
        allow_none=True,
        metadata={"description": "A special-cause signal's SPC chart, drawn in the email."},
    )


class SectionSchema(Out):
    key = fields.String(
        validate=validate.OneOf(["needs_you", "problems", "following", "workstreams", "library"])
    )
    title = fields.String()
    items = fields.List(fields.Nested(ItemSchema))


class PreviewSchema(Out):
    subject = fields.String()
    period = fields.String(metadata={"example": "2026-W49"})
    window_start = UTCDateTime(metadata={"description": "News from here..."})
    window_end = UTCDateTime(metadata={"description": "...to here (now)."})
    worth_sending = fields.Boolean(
        metadata={"description": "False: nothing new and nothing overdue, so no email."}
    )
    more = fields.Integer(metadata={"description": "Items beyond the 20 shown."})
    sections = fields.List(fields.Nested(SectionSchema))


class PreviewQuery(Query):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "html", "text"]),
        metadata={"description": "`json` (default), or the email's `html` or `text` part."},
    )


class FollowSchema(Out):
    type = fields.String(validate=validate.OneOf(follows.THREAD_TYPES))
    id = fields.Integer()
    title = fields.String()
    created_at = UTCDateTime()


def _built():
    settings = commons().settings
    return runs.prepare(
        uow(),
        current_person(),
        now=utcnow(),
        public_url=settings.public_url,
        api_url=settings.api_url,
        secret=settings.secret(),
    )


@blp.route("/me/digest/preview")
class Preview(MethodView):
    @blp.doc(
        operationId="previewMyDigest",
        summary="Exactly what your next digest would hold if it were sent now.",
        responses={
            "200": {
                "description": "The digest: JSON, or the email's HTML or text part.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Preview"}},
                    "text/html": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            }
        },
    )
    @blp.arguments(PreviewQuery, location="query", as_kwargs=True)
    @blp.response(200, PreviewSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, format):
        built = _built()
        if format == "json":
            return built
        if format == "html":
            body = runs.render_html(built, pictures.as_data(pictures.charts_of(uow(), built)))
        else:
            body = runs.render_text(built)
        response = Response(body, mimetype="text/html" if format == "html" else "text/plain")
        response.headers["Cache-Control"] = "private, no-store"
        return response


def _known(kind: str) -> None:
    if kind not in follows.THREAD_TYPES:
        raise NotFound(f"Threads are {', '.join(follows.THREAD_TYPES)}: there is no {kind!r}.")


def _choice_routes(choice: ThreadChoice, verb: str, noun: str):
    """PUT/DELETE /me/<noun>/<type>/<id> and GET /me/<noun>, for follows or mutes."""

    class One(MethodView):
        @blp.doc(
            operationId=f"{verb}Thread",
            summary=f"{verb.capitalize()} a problem, workstream or library entry you read "
            "(`type`: problem, workstream or library_entry): 201, then 200.",
        )
        @blp.response(201, FollowSchema, headers=LOCATION_HEADER)
        @blp.alt_response(200, schema=FollowSchema, description=f"Already {noun}.")
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(404, response="NOT_FOUND")
        def put(self, type, thread_id):
            _known(type)
            created = follows.choose(uow(), principal(), type, thread_id, choice)
            view = next(
                v
                for v in follows.listed(uow(), principal(), choice, limit=100).items
                if (v.type, v.id) == (type, thread_id)
            )
            if not created:
                return view, 200
            return view, 201, {"Location": request.path}

        @blp.doc(
            operationId=f"un{verb}Thread",
            summary=f"Stop: un{verb} it (204 whether or not you did).",
        )
        @blp.response(204)
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(404, response="NOT_FOUND")
        def delete(self, type, thread_id):
            _known(type)
            follows.forget(uow(), principal(), type, thread_id, choice)

    class Many(MethodView):
        @blp.doc(
            operationId=f"listMy{noun.capitalize()}",
            summary=f"What you {verb} that you still read, newest first.",
        )
        @blp.arguments(PageQuery, location="query", as_kwargs=True)
        @blp.response(200, page_of(FollowSchema))
        @blp.alt_response(401, response="UNAUTHORIZED")
        def get(self, limit, cursor=None):
            return follows.listed(uow(), principal(), choice, limit=limit, cursor=cursor)

    One.__name__ = f"{noun.capitalize()}One"
    Many.__name__ = f"{noun.capitalize()}Many"
    blp.route(f"/me/{noun}/<type>/<id:thread_id>")(One)
    blp.route(f"/me/{noun}")(Many)


_choice_routes(ThreadChoice.follow, "follow", "follows")
_choice_routes(ThreadChoice.mute, "mute", "mutes")


def _page(token: str, message: str | None = None) -> Response:
    notify = request.args.get("notify")
    body = render_template(
        "unsubscribe.html",
        token=token,
        message=message,
        settings=commons().settings,
        notify=notify if notify in ("action_assigned", "agenda") else None,
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    # The server's stylesheet, forms that post back here, nothing else.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    return response


@blp.route("/unsubscribe/<token>")
class Unsubscribe(MethodView):
    @public
    @blp.doc(
        security=[],
        operationId="getUnsubscribePage",
        summary="The page a digest's unsubscribe link opens: buttons, and nothing changes "
        "until one is pressed (mail scanners follow links).",
        responses={
            "200": {
                "description": "An HTML page.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response=DATABASE_BUSY)
    def get(self, token):
        if tokens.preference_of_token(uow(), commons().settings.secret(), token) is None:
            raise NotFound("This unsubscribe link is not one of ours.")
        return _page(token)

    @public
    @blp.doc(
        security=[],
        operationId="unsubscribe",
        summary="RFC 8058 one-click unsubscribe (body `List-Unsubscribe=One-Click`): digests "
        "off (with `?notify=action_assigned|agenda`, that notification off), 200, idempotent. "
        "From the page: `choice=off|weekly|titles`.",
        parameters=[
            {
                "in": "query",
                "name": "notify",
                "required": False,
                "schema": {"type": "string", "enum": ["action_assigned", "agenda"]},
                "description": "The notification whose email the link was in.",
            }
        ],
        requestBody={
            "required": False,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
                            "choice": {"type": "string", "enum": ["off", "weekly", "titles"]},
                        },
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
                        },
                    }
                },
            },
        },
        responses={
            "200": {
                "description": "Done: an HTML page saying so.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response=DATABASE_BUSY)
    def post(self, token):
        settings = commons().settings
        row = tokens.preference_of_token(uow(), settings.secret(), token)
        if row is None:
            raise NotFound("This unsubscribe link is not one of ours.")
        # A notification's one-click link names it (`?notify=`): that one stops, not digests.
        notify = request.args.get("notify")
        choice = request.form.get("choice") or (f"notify:{notify}" if notify else "off")
        message = services.apply_unsubscribe(uow(), row, choice)
        return _page(token, message)
