"""Domain errors as HTTP responses, and JSON bodies for every error (no stack traces)."""

from __future__ import annotations

import logging

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import default_exceptions

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
    """flask-smorest's Api whose error bodies always carry a message."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        # Keep the headers werkzeug sets (405's Allow); the body, and so its type, is ours.
        own = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers = own | dict(headers or {})
        if code >= 500:
            log.error("unhandled error", exc_info=getattr(error, "original_exception", None))
        return payload, code, headers


def register(app: Flask, api: CommonsApi) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        status = next((code for cls, code in _STATUS.items() if isinstance(error, cls)), 422)
        http_error = default_exceptions[status]()
        http_error.data = {"message": error.message}
        if error.field and status == 422:
            http_error.data["errors"] = {error.location: {error.field: [error.message]}}
        return api.handle_http_exception(http_error)
