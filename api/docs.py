"""Interactive API documentation, every asset served by the app itself."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, render_template, send_from_directory, url_for

from api.auth.protect import public

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "index.css", "favicon-32x32.png")

blp = Blueprint("docs", __name__, url_prefix="/api/v1/docs", template_folder="templates")

# The page's own script lives in a file so the CSP needs no 'unsafe-inline' for scripts.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@blp.get("")
@public
def page() -> Response:
    response = Response(render_template("docs.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@blp.get("/init.js")
@public
def init_script() -> Response:
    spec_url = url_for("api-docs.openapi_json")
    script = (
        "window.addEventListener('load', function () {\n"
        f"  window.ui = SwaggerUIBundle({{url: '{spec_url}', dom_id: '#swagger-ui', "
        "deepLinking: true, persistAuthorization: false});\n"
        "});\n"
    )
    return Response(script, mimetype="text/javascript")


@blp.get("/static/<path:filename>")
@public
def asset(filename: str) -> Response:
    if filename not in ASSETS:
        return Response("not found", status=404, mimetype="text/plain")
    return send_from_directory(SWAGGER_UI_DIST, filename, max_age=86400)
