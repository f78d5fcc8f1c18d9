"""Liveness and readiness probes (public)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from rq import Worker

from api.auth.protect import public
from api.blueprint import Blueprint
from api.context import commons, uow
from api.schemas import ReadinessSchema, StatusSchema
from dispatch.queues import QUEUES, connection
from network import outbox

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
        summary="The database answers; Redis, the job relay's backlog and the workers seen.",
        description="503 only when the database does not answer. Redis being down is reported "
        "(`redis: down`): requests still succeed, their jobs wait in the outbox, and the relay "
        "hands them over once Redis is back.",
    )
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        try:
            backlog = outbox.backlog(uow().session)
        except Exception:
            abort(503, message="database is not answering")
        settings = commons().settings
        body = {
            "status": "ok",
            "database": "ok",
            "redis": "not configured",
            "relay_backlog": backlog.as_dict(),
            "workers": None,
        }
        if settings.redis_url:
            try:
                conn = connection(settings, timeout=1.0)
                seen = Worker.all(connection=conn)
                body["redis"] = "ok"
                body["workers"] = {
                    name: sum(1 for w in seen if name in w.queue_names()) for name in QUEUES
                }
            except Exception:
                body["redis"] = "down"
        return body
