"""What every response carries, added as the response starts, at the WSGI edge of the app.

- the request's id (`X-Request-ID`): the client's when it is a sensible token, else a new one;
  the request log line names it (`api.logs`);
- the security headers, unless the view set its own (the sign-in pages' CSP), and
  Strict-Transport-Security on HTTPS;
- `Cache-Control: no-store` on the API's answers to a request carrying credentials, unless the
  view said otherwise;
- `Vary: Origin` where CORS is on, so that no cache hands the answer to a request without an
  Origin to one with it, or back.

They are appended to the header list the app hands to `start_response`, not set through
Flask's `Headers` in an `after_request` hook: every response pays for these, and there each one
was validated, and looked for among the others, one at a time (a tenth of the Python an
uncached list request ran). ProxyFix, when configured, wraps this: the scheme seen here is the
client's.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

REQUEST_ID = "commons.request_id"
STARTED = "commons.started"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
_SECURITY = tuple((name.lower(), (name, value)) for name, value in SECURITY_HEADERS)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]


def request_id(environ: dict) -> str | None:
    """The id of the request `environ` belongs to (None outside this app's requests)."""
    return environ.get(REQUEST_ID)


def started(environ: dict) -> float | None:
    """When the request reached the app (`time.perf_counter()`)."""
    return environ.get(STARTED)


class EveryResponse:
    """WSGI middleware adding the headers above to every response of `app`."""

    def __init__(self, app: WSGIApp, *, vary_origin: bool) -> None:
        self.app = app
        self.vary_origin = vary_origin

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        environ[STARTED] = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        environ[REQUEST_ID] = rid

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            present = {name.lower() for name, _ in headers}
            if "x-request-id" not in present:
                headers.append(("X-Request-ID", rid))
            headers.extend(header for name, header in _SECURITY if name not in present)
            secure = environ.get("wsgi.url_scheme") == "https"
            if secure and "strict-transport-security" not in present:
                headers.append(HSTS)
            if (
                "cache-control" not in present
                and "HTTP_AUTHORIZATION" in environ
                and environ.get("PATH_INFO", "").startswith("/api/v1/")
            ):
                headers.append(NO_STORE)
            if self.vary_origin:
                _vary_by_origin(headers, "vary" in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _vary_by_origin(headers: list[tuple[str, str]], has_vary: bool) -> None:
    if not has_vary:  # the usual case
        headers.append(("Vary", "Origin"))
        return
    at = [i for i, (name, _) in enumerate(headers) if name.lower() == "vary"]
    named = {part.strip().lower() for i in at for part in headers[i][1].split(",")}
    if "origin" not in named and "*" not in named:
        name, value = headers[at[0]]
        headers[at[0]] = (name, f"{value}, Origin")
