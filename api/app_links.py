"""The links into the app (API.md, "Links into the app") when no app is served: emails,
calendar events and digests link to the single-page app at PUBLIC_URL, which defaults to the
API itself. Until an app is deployed there, each of those paths answers with a small page that
says what was linked and how to see it through the API — never a bare 404 for a link people
were sent. The pages show no content, so they need no sign-in."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, make_response, render_template

from api.auth.protect import public
from api.context import commons

blp = Blueprint("app_links", __name__)

# Only styles from this server, nothing else (the page has no scripts or forms).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _page(what: str, api_path: str | None, status: int = 200) -> Response:
    settings = commons().settings
    body = render_template(
        "links/linked.html",
        what=what,
        api_url=settings.api_url,
        api_path=api_path,
    )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = CSP
    return response


@blp.get("/")
@public
def home() -> Response:
    return _page("Commons, the shared space of your primary care network", None)


@blp.get("/problems/<id:problem_id>")
@public
def problem(problem_id: int) -> Response:
    return _page(f"problem {problem_id}", f"/api/v1/problems/{problem_id}")


@blp.get("/workstreams/<id:workstream_id>")
@public
def workstream(workstream_id: int) -> Response:
    return _page(f"workstream {workstream_id}", f"/api/v1/workstreams/{workstream_id}")


@blp.get("/workstreams/<id:workstream_id>/agenda")
@public
def agenda(workstream_id: int) -> Response:
    return _page(
        f"the agenda of workstream {workstream_id}",
        f"/api/v1/workstreams/{workstream_id}/agenda?format=html",
    )


@blp.get("/library/<id:entry_id>")
@public
def library_entry(entry_id: int) -> Response:
    return _page(f"library entry {entry_id}", f"/api/v1/library/{entry_id}")


@blp.get("/activity")
@public
def activity() -> Response:
    return _page("what happened on your boards", "/api/v1/activity")


@blp.get("/settings/digest")
@public
def digest_settings() -> Response:
    return _page("your digest settings", "/api/v1/me/digest")


def register(app: Flask) -> None:
    """Serve the pages only where the links lead here: PUBLIC_URL unset (or the API's own)."""
    settings = app.extensions["commons"].settings
    if settings.public_url == settings.api_url:
        app.register_blueprint(blp)
