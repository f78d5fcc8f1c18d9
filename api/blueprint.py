"""The API's Blueprint: flask-smorest's, with a parser that insists on a body where the
OpenAPI document says one is required, and the rules every request's input meets before a view
sees it: ids in ASCII digits, JSON read by the app's provider (strict, depth-limited), no NUL
characters, and a request target of at most `MAX_REQUEST_TARGET` bytes."""

from __future__ import annotations

import enum
from datetime import datetime

import flask_smorest
import marshmallow as ma
from flask import current_app, request
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
# The longest request target (path and query string, as sent) served; a longer one is a 414
# with the API's error body. gunicorn's own limit on the request line (api/gunicorn_conf.py)
# is a few bytes shorter than this plus the method and version, and answers in the same body.
MAX_REQUEST_TARGET = 8 * 1024
TARGET_TOO_LONG = (
    f"The request target (path and query string) is longer than {MAX_REQUEST_TARGET} bytes."
)


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id, 1 to 2^31 - 1, in ASCII digits; anything else matches no route
    (404). werkzeug's own `\\d+` also matches other scripts' digits, which `int()` reads: `١٢`
    would be row 12."""

    regex = r"[0-9]+"

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def id_parameter_schema(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def has_nul(value) -> bool:
    """Whether any text in a parsed body (keys included) holds NUL. Walked with a stack of its
    own: however deep the value, no recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


# Results of query strings already parsed (see `BodyRequiredParser.parse`), per process.
PARSED_QUERIES_MAX = 1024
_IMMUTABLE = (int, float, str, bool, type(None), enum.Enum, datetime)


class BodyRequiredParser(FlaskParser):
    """Insists on a body where one is required, reads it with the app's JSON provider, and
    refuses NUL characters anywhere (no database stores them in text)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parsed: dict[tuple, dict] = {}

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """webargs' parse; a query string that a schema which says its arguments depend on the
        query string alone (`parsed_once`: no defaults read from the clock, no hooks that read
        the request or the database) has already loaded is answered with the same arguments,
        without loading it again (a client reads a list with the same query over and over).
        Only successful loads are remembered, with immutable values only, and each request
        gets its own copy; a query string that fails is refused afresh every time."""
        if (
            location not in ("query", "querystring")
            or validate is not None
            or not getattr(argmap, "parsed_once", False)
        ):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        query = (req if req is not None else request).query_string
        key = (argmap, query, kwargs.get("unknown"))
        found = self._parsed.get(key)
        if found is None:
            found = super().parse(argmap, req, location=location, **kwargs)
            if not all(isinstance(v, _IMMUTABLE) for v in found.values()):
                return found
            if len(self._parsed) >= PARSED_QUERIES_MAX:
                self._parsed.clear()  # bounded: clients can send any query strings
            self._parsed[key] = found
        return dict(found)

    def _raw_load_json(self, req):
        # webargs reads bodies with the standard library's json, which accepts NaN, lone
        # surrogates (no database stores them) and integers of any length (`int()` raises past
        # 4300 digits), and recurses once per level of nesting (RecursionError). The app's
        # provider (orjson) refuses all of these, and bodies nested deeper than it allows.
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing  # no body: `load_json` says whether one was required
        try:
            return current_app.json.loads(data)
        except ValueError as error:  # orjson.JSONDecodeError is one
            reason = getattr(error, "msg", None) or str(error)  # without "line 1 column 2"
            abort(
                400,
                exc=error,
                message=f"The body is not JSON this API reads: {reason}.",
                messages={"json": [f"Invalid JSON body: {reason}."]},
            )

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is core.missing and getattr(schema, "body_optional", False):
            return {}  # every field has a default: no body is an empty one
        if data is core.missing:
            # A PATCH with `{}` changes nothing; a PATCH with no body at all is a mistake.
            raise ma.ValidationError({"json": ["A JSON body (application/json) is required."]})
        if has_nul(data):
            raise ma.ValidationError({"json": ["Text must not contain NUL characters."]})
        return data

    def load_querystring(self, req, schema):
        data = super().load_querystring(req, schema)
        if has_nul(list(req.args.items(multi=True))):
            raise ma.ValidationError({"query": ["Text must not contain NUL characters."]})
        return data


def refuse_long_request_targets() -> None:
    """A 414 with the API's error body for a request target over `MAX_REQUEST_TARGET` bytes,
    before authentication or routing answer anything else."""
    environ = request.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target is None:  # a server that does not say: what it decoded is no longer than that
        target = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")
    if len(target) > MAX_REQUEST_TARGET:
        raise RequestURITooLarge(TARGET_TOO_LONG)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyRequiredParser()

    def arguments(self, schema, *args, **kwargs):
        # webargs instantiates a schema class on every request; an instance is used as it is.
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
