"""The API's Blueprint: flask-smorest's, with a parser that insists on a body where the
OpenAPI document says one is required."""

from __future__ import annotations

import flask_smorest
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id, 1 to 2^31 - 1; anything else matches no route (404)."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def id_parameter_schema(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class BodyRequiredParser(FlaskParser):
    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is core.missing:
            # A PATCH with `{}` changes nothing; a PATCH with no body at all is a mistake.
            raise ma.ValidationError({"json": ["A JSON body (application/json) is required."]})
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyRequiredParser()
