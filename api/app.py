"""The application factory."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_cors import CORS
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from api import app_links, errors, headers, logs
from api.auth import external as external_issuers
from api.auth import pages
from api.auth import server as oauth_server
from api.auth.protect import authenticate, make_protector, public
from api.auth.tokens import AccessTokenValidator
from api.blueprint import IdConverter, id_parameter_schema, refuse_long_request_targets
from api.context import Commons, this_g, this_request
from dispatch import runtime
from dispatch.queues import make_dispatcher
from network.config import Settings
from network.content import ReadCache
from network.db import LOCK_TIMEOUT_SECONDS, make_engine, make_session_factory
from network.uow import Dispatcher

MAX_BODY = 1024 * 1024

API_DESCRIPTION = """\
The shared space of a primary care network: organisations and their people, problem boards,
joint workstreams, a best-practice library and digests.

Every `/api/v1` route needs `Authorization: Bearer <access token>` unless marked public.
Lists are keyset-paginated: pass `next_cursor` back as `cursor`. Errors share one body:
`{"code", "status", "message", "errors"?}`.
"""

log = logging.getLogger("commons.app")


class CommonsFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function.

    Flask's `ensure_sync` asks `inspect.iscoroutinefunction` of every hook and view on every
    request (fifteen times for a list: a twentieth of the Python a request runs). The answer
    never changes, so it is remembered per function: a bound method's underlying function,
    so the view instance a MethodView makes per request adds nothing. Bounded all the same:
    a caller handing over a new callable every time would only be asked each time."""

    REMEMBERED_MAX = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine_function: dict[object, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key = getattr(func, "__func__", func)
        try:
            known = self._coroutine_function.get(key)
        except TypeError:  # a callable object that cannot be a key: asked, as Flask does
            return super().ensure_sync(func)
        if known is None:
            known = iscoroutinefunction(func)
            if len(self._coroutine_function) < self.REMEMBERED_MAX:
                self._coroutine_function[key] = known
        return self.async_to_sync(func) if known else func


class PagesSessionInterface(SecureCookieSessionInterface):
    """The signed cookie session belongs to the sign-in pages (their CSRF token). The API is
    bearer-token only: its requests never open, and so never set, a cookie session."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


class ORJSONProvider(DefaultJSONProvider):
    """orjson for every JSON body: faster, and strict about what it serialises."""

    # Validation errors key list items by index: integers. Datetimes (UTC from the database)
    # come out as the schemas write them: 2026-11-22T09:30:00Z.
    OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=self.default, option=self.OPTIONS).decode()

    # Deeper than any body of this API nests (a few levels); what walks a body after parsing
    # (the NUL check, marshmallow) then meets a bounded depth whatever it does.
    MAX_DEPTH = 64

    def loads(self, s, **kwargs):
        """Strict JSON (no NaN or Infinity, no lone surrogates, numbers that overflow a float
        refused; integers beyond 64 bits come back as floats, which no integer field takes),
        nested at most MAX_DEPTH levels. Refusals are ValueErrors (Flask: 400)."""
        value = orjson.loads(s)
        if self._deeper_than(value, self.MAX_DEPTH):
            raise ValueError(f"nested deeper than {self.MAX_DEPTH} levels")
        return value

    @staticmethod
    def _deeper_than(value, limit: int) -> bool:
        """Whether arrays and objects nest more than `limit` levels: one level at a time, never
        by recursion (orjson itself stops at 1024 levels, which a recursive walk in Python
        would not survive)."""
        level = [value] if isinstance(value, (dict, list)) else []
        for _ in range(limit):
            inner: list = []
            for item in level:
                children = item.values() if isinstance(item, dict) else item
                inner.extend(c for c in children if isinstance(c, (dict, list)))
            if not inner:
                return False
            level = inner
        return bool(level)

    def response(self, *args, **kwargs) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            orjson.dumps(obj, default=self.default, option=self.OPTIONS),
            mimetype="application/json",
        )


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker | None = None,
    dispatch: Dispatcher | None = None,
    config: dict | None = None,
) -> Flask:
    """The app. `config` overrides Flask settings (tests isolate rate-limit counters with it)."""
    settings = settings or Settings.from_env()
    app = CommonsFlask(
        "api", instance_path=str(settings.instance_path), instance_relative_config=False
    )
    app.json_provider_class = ORJSONProvider
    app.json = ORJSONProvider(app)
    app.session_interface = PagesSessionInterface()
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        SECRET_KEY=settings.secret(),
        SESSION_COOKIE_NAME="commons_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.api_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=3600,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX="commons",
        RATELIMIT_HEADERS_ENABLED=True,
        API_TITLE="Commons",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "servers": [{"url": settings.api_url, "description": "This server"}],
            "info": {"description": API_DESCRIPTION},
            "security": [{"bearerAuth": []}],
        },
    )
    app.config.update(config or {})
    logs.configure_logging()

    if session_factory is None:
        engine = make_engine(settings.database_url, lock_timeout=LOCK_TIMEOUT_SECONDS)
        session_factory = make_session_factory(engine)
    if settings.redis_url is None:
        # Jobs run inline, in this process: they use the app's database sessions.
        runtime.configure(settings, session_factory)
    state = Commons(
        settings=settings,
        session_factory=session_factory,
        dispatch=dispatch or make_dispatcher(settings),
        read_cache=ReadCache(settings.read_cache_size) if settings.read_cache_size > 0 else None,
    )
    app.extensions["commons"] = state
    app.extensions["commons_external_issuers"] = external_issuers.parse(settings.oidc_issuers)
    app.extensions["commons_protector"] = make_protector(
        AccessTokenValidator(lambda: state.keys, issuer=settings.issuer, audience=settings.audience)
    )

    _register_api(app)
    state.authorization_server = oauth_server.make_server(app)
    app.register_blueprint(pages.blp)
    app_links.register(app)
    pages.init_limiter(app)
    logs.register(app)
    # An over-long request target is refused before anything reads it.
    app.before_request(refuse_long_request_targets)
    app.before_request(authenticate)
    _register_transaction(app)
    # CORS_ORIGINS, or in the embedded default the demo app's origins (see pages.cors_origins).
    cors_origins = pages.cors_origins(settings)
    if cors_origins:
        _register_cors(app, cors_origins)
    # The headers every response carries (inside ProxyFix: it sees the client's scheme).
    app.wsgi_app = headers.EveryResponse(app.wsgi_app, vary_origin=bool(cors_origins))  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # The client's address (audit log, rate limits) and scheme come from the proxies' headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


def _register_cors(app: Flask, origins: tuple[str, ...]) -> None:
    """CORS for the browser origins allowed, by flask-cors, on requests that carry an Origin
    header: a request without one is not a cross-origin request (the Fetch standard's CORS
    checks start from its Origin), and answers it without CORS headers. flask-cors by default
    (`always_send`) would name an allowed origin even then; with that off it adds nothing to
    such a request, so its hook, which matches every response's path against the resources,
    is not run for them at all. Every response says it varies by Origin (`api.headers`), so
    that no cache hands the answer to one kind of request to the other."""
    hooks = app.after_request_funcs.setdefault(None, [])
    before = list(hooks)
    CORS(
        app,
        resources={r"/api/*": {}, r"/oauth/*": {}, r"/.well-known/openid-configuration": {}},
        origins=list(origins),
        allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "WWW-Authenticate"],
        max_age=600,
        always_send=False,
    )

    def when_cross_origin(hook):
        @functools.wraps(hook)
        def hook_when_cross_origin(response: Response) -> Response:
            if "HTTP_ORIGIN" in this_request().environ:
                response = hook(response)
            return response

        return hook_when_cross_origin

    hooks[:] = [f if f in before else when_cross_origin(f) for f in hooks]


def _register_api(app: Flask) -> None:
    from api import (
        activity,
        audit,
        calendar,
        digests,
        docs,
        health,
        huddles,
        library,
        measures,
        moderation,
        organisations,
        people,
        problems,
        workstreams,
    )
    from api.auth import routes as oauth

    app.url_map.converters["id"] = IdConverter
    api = errors.CommonsApi(app)
    api.register_converter(IdConverter, id_parameter_schema)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RFC 9068 access token)"},
    )
    for blueprint in (
        health.blp,
        oauth.blp,
        people.blp,
        organisations.blp,
        problems.blp,
        moderation.blp,
        activity.blp,
        workstreams.blp,
        huddles.blp,
        measures.blp,
        calendar.blp,
        library.blp,
        digests.blp,
        audit.blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.blp)
    spec_view = app.view_functions["api-docs.openapi_json"]
    app.view_functions["api-docs.openapi_json"] = public(
        functools.wraps(spec_view)(lambda **kwargs: spec_view(**kwargs))
    )
    errors.register(app, api)
    app.extensions["commons_api"] = api


def _register_transaction(app: Flask) -> None:
    """One transaction per request: committed after a successful view, rolled back otherwise,
    and the jobs it collected enqueued only after the commit."""

    @app.after_request
    def _commit(response: Response) -> Response:
        unit = this_g().get("uow")
        if unit is None:
            return response
        if response.status_code >= 400:
            unit.rollback()
            return response
        try:
            unit.commit()
        except Exception as exc:
            unit.rollback()
            # A busy database or a simultaneous change found only at commit (PostgreSQL's
            # deferred checks) is answered as it would be in the view: nothing was saved.
            known = errors.database_error(exc)
            if known is None:
                log.exception(
                    "commit failed",
                    extra={"fields": {"request_id": headers.request_id(this_request().environ)}},
                )
                known = InternalServerError()
                known.data = {"message": "The change could not be saved."}
            payload, code, extra = app.extensions["commons_api"].handle_http_exception(known)
            failed = app.json.response(payload)
            failed.status_code = code
            failed.headers.update(extra)
            return failed
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        unit = this_g().pop("uow", None)
        if unit is not None:
            unit.close()
