"""Public key material of the built-in issuer."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields

from api.auth.protect import public
from api.blueprint import Blueprint
from api.context import commons
from api.schemas import Out

blp = Blueprint("oauth", __name__, url_prefix="/oauth", description="The built-in issuer.")


class JWKSchema(Out):
    kty = fields.String(metadata={"example": "RSA"})
    kid = fields.String()
    use = fields.String(metadata={"example": "sig"})
    alg = fields.String(metadata={"example": "RS256"})
    n = fields.String()
    e = fields.String()


class JWKSetSchema(Out):
    keys = fields.List(fields.Nested(JWKSchema))


@blp.route("/jwks.json")
class JWKS(MethodView):
    @public
    @blp.doc(
        security=[],
        operationId="getJwks",
        summary="The public keys that verify this issuer's access and ID tokens (RFC 7517).",
    )
    @blp.response(200, JWKSetSchema)
    def get(self):
        return commons().keys.jwks()
