"""Liveness and readiness probes (public)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import text

from api.auth.protect import public
from api.blueprint import Blueprint
from api.context import commons, uow
from api.schemas import StatusSchema
from dispatch.queues import connection

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


@blp.route("/healthz")
class Health(MethodView):
    @public
    @blp.doc(security=[], operationId="getHealth", summary="The process is up.")
    @blp.response(200, StatusSchema)
    def get(self):
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @public
    @blp.doc(
        security=[],
        operationId="getReadiness",
        summary="The database (and Redis, when configured) answer.",
    )
    @blp.response(200, StatusSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        try:
            uow().session.execute(text("SELECT 1"))
        except Exception:
            abort(503, message="database is not answering")
        settings = commons().settings
        if settings.redis_url:
            try:
                connection(settings).ping()
            except Exception:
                abort(503, message="redis is not answering")
        return {"status": "ok"}
