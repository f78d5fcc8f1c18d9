"""Domain errors as HTTP responses, and JSON bodies for every error (no stack traces)."""

from __future__ import annotations

import logging

from flask import Flask
from flask_smorest import Api
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, default_exceptions

from api import spec
from api.schemas import ErrorSchema
from network.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)

log = logging.getLogger("commons.errors")

_STATUS = {
    PreconditionRequired: 428,
    PreconditionFailed: 412,
    NotFound: 404,
    Forbidden: 403,
    Invalid: 422,
    Conflict: 409,
}


class CommonsApi(Api):
    """flask-smorest's Api whose error bodies always carry a message, and whose OpenAPI
    document tells the whole truth (api/spec.py): the answers every operation can get, OAuth 2
    security, the issuer's endpoints."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, **kwargs):
        super()._init_spec(**spec.plugins(self._app), **kwargs)
        spec.complete(self)

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        if "message" not in payload and payload.get("errors"):
            # Validation errors say in the message, too, which field broke which rule.
            payload["message"] = describe_errors(payload["errors"])
        payload.setdefault("message", error.description or error.name)
        # Keep the headers werkzeug sets (405's Allow); the body, and so its type, is ours.
        own = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers = own | dict(headers or {})
        if code >= 500:
            log.error("unhandled error", exc_info=getattr(error, "original_exception", None))
        return payload, code, headers


def describe_errors(errors: object, path: str = "") -> str:
    """Field-by-field validation errors as one sentence for people: `title: Length must be
    between 1 and 200. tags[0]: Longer than maximum length 40.` (the location — json, query —
    is left out: the field names are the API's own)."""
    if isinstance(errors, dict):
        parts = []
        for key, value in errors.items():
            if not path and key in _LOCATIONS:
                parts.append(describe_errors(value, ""))
            elif isinstance(key, int):
                parts.append(describe_errors(value, f"{path}[{key}]"))
            else:
                parts.append(describe_errors(value, f"{path}.{key}" if path else str(key)))
        return " ".join(part for part in parts if part)
    if isinstance(errors, list):
        text = " ".join(str(e) for e in errors if not isinstance(e, (dict, list)))
        nested = " ".join(describe_errors(e, path) for e in errors if isinstance(e, (dict, list)))
        own = f"{path}: {text}" if path and text else text
        return " ".join(part for part in (own, nested) if part)
    return f"{path}: {errors}" if path else str(errors)


_LOCATIONS = frozenset({"json", "query", "form", "headers", "path", "files"})


# How long a client should wait before trying again when the database is busy.
RETRY_AFTER_SECONDS = 1
# PostgreSQL's SQLSTATEs for "try again": serialization failure, deadlock, lock not available.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# SQLite's words for a lock it could not get within the busy timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def database_error(error: Exception) -> HTTPException | None:
    """The answer for a database error that the client's request, not a defect, explains:
    503 with Retry-After when the database is busy or unavailable (nothing was stored), 409
    when a simultaneous change took a unique value first, 422 when a value does not fit its
    column. None for anything else (a defect: 500)."""
    if isinstance(error, StaleDataError):
        # A row this request read was deleted or changed by another before it wrote.
        http_error = default_exceptions[409]()
        http_error.data = {
            "message": "This was changed by someone else at the same moment; nothing was saved. "
            "Reload and try again."
        }
        log.warning("stale data answered 409: %s", error)
        return http_error
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None)
    text = str(error.orig).lower()
    if sqlstate in _RETRYABLE_SQLSTATES or isinstance(error, OperationalError):
        busy = sqlstate in _RETRYABLE_SQLSTATES or any(word in text for word in _SQLITE_BUSY)
        http_error = default_exceptions[503]()
        http_error.data = {
            "message": "The database is busy with other changes; nothing was saved. Try again."
            if busy
            else "The database is not available; nothing was saved. Try again shortly.",
            "headers": {"Retry-After": str(RETRY_AFTER_SECONDS)},
        }
        log.warning("database %s: %s", "busy" if busy else "unavailable", text.splitlines()[0])
        return http_error
    if isinstance(error, IntegrityError):
        http_error = default_exceptions[409]()
        http_error.data = {
            "message": "This clashed with a change made at the same moment; nothing was saved. "
            "Reload and try again."
        }
        log.warning("integrity error answered 409: %s", text.splitlines()[0])
        return http_error
    if isinstance(error, DataError):
        http_error = default_exceptions[422]()
        http_error.data = {"message": "A value is out of range for its field; nothing was saved."}
        log.warning("data error answered 422: %s", text.splitlines()[0])
        return http_error
    return None


def register(app: Flask, api: CommonsApi) -> None:
    @app.errorhandler(DBAPIError)
    @app.errorhandler(StaleDataError)
    def _database_error(error: Exception):
        http_error = database_error(error)
        if http_error is None:
            raise error
        return api.handle_http_exception(http_error)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        status = next((code for cls, code in _STATUS.items() if isinstance(error, cls)), 422)
        http_error = default_exceptions[status]()
        http_error.data = {"message": error.message}
        if error.field and status in (409, 422):
            http_error.data["errors"] = {error.location: {error.field: [error.message]}}
        return api.handle_http_exception(http_error)
