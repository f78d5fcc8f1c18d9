"""Schemas shared by every part of the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow.schema import SchemaMeta

from network.pagination import DEFAULT_LIMIT, MAX_LIMIT


class _AlwaysPresent(SchemaMeta):
    def __new__(mcs, name, bases, attrs):
        klass = super().__new__(mcs, name, bases, attrs)
        for value in klass._declared_fields.values():
            if not value.metadata.get("optional"):
                value.required = True
        return klass


class Out(ma.Schema, metaclass=_AlwaysPresent):
    """A response body. Every field declared on it is always present, hence `required` in the
    OpenAPI document, so that generated clients get exact types; nullable fields say
    `allow_none=True`, and the rare field that may be absent says `metadata={"optional": True}`.
    Clients must ignore fields they do not know: responses may grow."""

    class Meta:
        unknown = ma.EXCLUDE


OUT_OF_UTC = "The time is beyond the calendar (years 1 to 9999) once converted to UTC."


class _TimesInUTC(ma.Schema):
    """Every datetime a request gives, converted to UTC; one that has no UTC equivalent
    (0001-01-01T00:00:00+05:00, 9999-12-31T23:59:59-05:00) is refused, naming its field,
    rather than overflowing where it meets the database."""

    @ma.post_load
    def _times_in_utc(self, data, **kwargs):
        errors = {}
        for name, field in self.load_fields.items():
            key = field.attribute or name
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, datetime) and value.tzinfo is not None:
                try:
                    data[key] = value.astimezone(UTC)
                except OverflowError:
                    errors[field.data_key or name] = [OUT_OF_UTC]
        if errors:
            raise ma.ValidationError(errors)
        return data


class In(_TimesInUTC):
    """A request body: unknown fields are refused (no mass assignment)."""

    class Meta:
        unknown = ma.RAISE


# An integer in a query string: ASCII digits, optionally negative. `int()` also reads other
# scripts' digits (Arabic-Indic `١٢`, fullwidth ones), surrounding white space, `+` and `_`.
_QUERY_INTEGER = re.compile(r"-?[0-9]+")


class Query(_TimesInUTC):
    """Query-string arguments: unknown ones are ignored, as caches and proxies add their own.
    Integers are written in ASCII digits, whatever field declares them."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def _ascii_integers(self, data, **kwargs):
        errors = {}
        for name, field in self.load_fields.items():
            if not isinstance(field, fields.Integer):
                continue
            key = field.data_key or name
            value = data.get(key)
            if value is None or value is ma.missing:
                continue
            if not (isinstance(value, str) and _QUERY_INTEGER.fullmatch(value)):
                errors[key] = [field.error_messages["invalid"]]
        if errors:
            raise ma.ValidationError(errors)
        return data


class StrictInteger(fields.Integer):
    """A JSON integer: not a float, not a string, not a boolean."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON boolean: true or false, nothing that merely looks like one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UTCDateTime(fields.DateTime):
    """RFC 3339 in UTC with a `Z`, e.g. 2026-11-22T09:30:00Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PageQuery(Query):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT}."},
    )
    cursor = fields.String(
        validate=validate.Length(min=1, max=512),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


_page_schemas: dict[type[ma.Schema], type[ma.Schema]] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The keyset-page envelope `{items, next_cursor}` around an item schema."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(
            name,
            (Out,),
            {
                "items": fields.List(fields.Nested(item_schema)),
                "next_cursor": fields.String(
                    allow_none=True,
                    metadata={
                        "description": "Pass as `cursor` for the next page; null at the end."
                    },
                ),
            },
        )
    return _page_schemas[item_schema]


class ErrorSchema(Out):
    code = fields.Integer(metadata={"description": "The HTTP status code."})
    status = fields.String(metadata={"description": "The HTTP status name."})
    message = fields.String(metadata={"description": "What went wrong, for people."})
    errors = fields.Dict(
        metadata={
            "description": "Field-by-field validation errors, when there are any.",
            "optional": True,
        },
    )


class StatusSchema(Out):
    status = fields.String(metadata={"example": "ok"})


class BacklogSchema(Out):
    jobs = fields.Integer(metadata={"description": "Jobs committed but not yet in Redis."})
    oldest_seconds = fields.Integer(
        allow_none=True, metadata={"description": "Age of the oldest waiting job; null: none."}
    )


class ReadinessSchema(Out):
    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    redis = fields.String(
        metadata={
            "description": "`ok`, `down` (reported, not a failure: the relay catches up) or "
            "`not configured` (jobs run inline).",
            "example": "ok",
        }
    )
    relay_backlog = fields.Nested(BacklogSchema)
    workers = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={
            "description": "Workers seen per queue (null when Redis is down or not configured).",
            "example": {"default": 1, "mail": 1, "digests": 2},
        },
    )
