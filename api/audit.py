"""The audit log, for superusers (everything) and administrators (their organisations)."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from api.blueprint import MAX_ID, Blueprint
from api.context import principal, uow
from api.schemas import Out, PageQuery, UTCDateTime, page_of
from network.audit import services as audit

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who did what, when.")


class AuditQuery(PageQuery):
    organisation_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    since = fields.AwareDateTime(
        metadata={"description": "Only entries at or after this time (RFC 3339 with offset)."}
    )


class AuditActorSchema(Out):
    id = fields.Integer(allow_none=True, metadata={"description": "Null: no known person."})
    label = fields.String(metadata={"description": "Email, client or operator, as it was then."})


class AuditEntrySchema(Out):
    id = fields.Integer()
    at = UTCDateTime()
    actor = fields.Nested(AuditActorSchema)
    action = fields.String(metadata={"example": "member.invited"})
    organisation_id = fields.Integer(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.Integer(allow_none=True)
    details = fields.Dict()
    ip = fields.String(allow_none=True, metadata={"description": "The client address."})
    channel = fields.String(metadata={"description": "api, oauth, cli or worker."})


@blp.route("")
class AuditLog(MethodView):
    @blp.doc(
        operationId="listAudit",
        summary="Sign-ins, token events, membership, organisation and configuration changes, "
        "newest first.",
    )
    @blp.arguments(AuditQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(AuditEntrySchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN", description="Not an administrator.")
    def get(self, limit, cursor=None, **filters):
        return audit.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)
