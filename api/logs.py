"""Structured request logs: one JSON line per request, with its id (`api.headers`) and never a
token."""

from __future__ import annotations

import logging
import sys
import time

import orjson
from flask import Flask, Response

from api import headers
from api.context import this_g, this_request

log = logging.getLogger("commons.request")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging() -> None:
    root = logging.getLogger("commons")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JSONFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False


def register(app: Flask) -> None:
    @app.after_request
    def _log(response: Response) -> Response:
        req = this_request()
        environ = req.environ
        # The route pattern, not the path: paths may carry secrets (calendar feed tokens).
        rule = req.url_rule
        principal = this_g().get("principal")
        began = headers.started(environ)
        log.info(
            "request",
            extra={
                "fields": {
                    "request_id": headers.request_id(environ),
                    "method": req.method,
                    "route": rule.rule if rule else "<unmatched>",
                    "status": response.status_code,
                    "duration_ms": round(
                        (time.perf_counter() - began) * 1000 if began is not None else 0.0, 2
                    ),
                    "person_id": principal.person_id if principal is not None else None,
                    "remote_addr": req.remote_addr,
                }
            },
        )
        return response
