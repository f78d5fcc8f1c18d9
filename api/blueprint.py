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


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


class BodyRequiredParser(FlaskParser):
    """Insists on a body where one is required, and refuses NUL characters anywhere (no
    database stores them in text)."""

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is core.missing:
            # A PATCH with `{}` changes nothing; a PATCH with no body at all is a mistake.
            raise ma.ValidationError({"json": ["A JSON body (application/json) is required."]})
        if _has_nul(data):
            raise ma.ValidationError({"json": ["Text must not contain NUL characters."]})
        return data

    def load_querystring(self, req, schema):
        data = super().load_querystring(req, schema)
        if _has_nul(list(req.args.items(multi=True))):
            raise ma.ValidationError({"query": ["Text must not contain NUL characters."]})
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyRequiredParser()

    def arguments(self, schema, *args, **kwargs):
        # webargs instantiates a schema class on every request; an instance is used as it is.
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
