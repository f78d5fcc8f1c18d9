"""The sign-in, set-password and forgot-password pages of the built-in issuer, its discovery
document, token, revocation and UserInfo endpoints, and which browser origins may call them.
Server-rendered HTML with CSRF tokens and a strict CSP."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, g, make_response, render_template, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.auth import server as oauth
from api.auth.keys import ALGORITHM
from api.auth.protect import public
from api.blueprint import has_nul
from api.context import commons, uow
from network.config import Settings
from network.errors import Invalid, NotFound
from network.people.models import Person
from network.seed import demo as seed
from network.signin import passwords as signin
from network.signin.models import AccountLinkPurpose
from network.uow import Job

blp = Blueprint("signin", __name__, template_folder="../templates")

ACCOUNT_LIMIT = "10 per 15 minutes"  # API.md: failed sign-ins per account
ADDRESS_LIMIT = "50 per 15 minutes"  # failed sign-ins from one client address
FORGOT_LIMIT = "5 per 15 minutes"

limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")


def init_limiter(app) -> None:
    """The limits are the sign-in pages' own: the limiter's request hooks (check, headers,
    clean-up), which it installs for the whole app, are moved to this blueprint, so API
    requests never pass through it."""
    limiter.init_app(app)

    def ours(hook) -> bool:
        owner = hook.args[0] if isinstance(hook, functools.partial) and hook.args else None
        return getattr(hook, "__self__", owner) is limiter

    moved = 0
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        app_wide = hooks.get(None, [])
        mine = [hook for hook in app_wide if ours(hook)]
        hooks[None] = [hook for hook in app_wide if not ours(hook)]
        hooks.setdefault(blp.name, []).extend(mine)
        moved += len(mine)
    if moved != 3:
        raise RuntimeError(f"expected flask-limiter's 3 request hooks, found {moved}")


def _csp(form_targets: tuple[str, ...] = ()) -> str:
    targets = " ".join(("'self'", *form_targets))
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


def _page(
    template: str, status: int = 200, form_targets: tuple[str, ...] = (), **context
) -> Response:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    response = make_response(render_template(template, csrf=session["csrf"], **context), status)
    response.headers["Content-Security-Policy"] = _csp(form_targets)
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_ok() -> bool:
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    return bool(expected) and secrets.compare_digest(sent, expected)


def _failed() -> bool:
    return bool(g.get("signin_failed"))


def _account_key() -> str:
    return "signin-account:" + request.form.get("email", "").strip().lower()


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def cors_origins(settings: Settings) -> tuple[str, ...]:
    """The browser origins that may call the API and the issuer's endpoints: CORS_ORIGINS when
    it is set. Otherwise none, except in the embedded default (`make run`: neither SECRET_KEY
    nor SIGNING_KEY_FILE set either), where the demo app's origins (those of its redirect URIs,
    http://127.0.0.1:5173 and http://localhost:5173) may, so it works with no configuration."""
    if settings.cors_origins:
        return settings.cors_origins
    if settings.secret_key is None and settings.generate_signing_key:
        return tuple(dict.fromkeys(_origin(uri) for uri in seed.DEMO_REDIRECT_URIS))
    return ()


AUTH_METHODS = ["none", *oauth.SECRET_AUTH]


@blp.get("/.well-known/openid-configuration")
@public
def discovery():
    """OpenID Connect Discovery 1.0 (and RFC 8414): what this issuer does, and only that.
    Values whose defaults would claim more are spelt out (request_uri_parameter_supported
    defaults to true; response_modes_supported to query and fragment)."""
    base = commons().settings.issuer
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/oauth/jwks.json",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": list(oauth.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": list(oauth.RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": list(oauth.CLAIMS),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "access_token_format": "RFC 9068 JWT (typ at+jwt), 15 minutes",
    }


@blp.route("/oauth/authorize", methods=["GET", "POST"])
@public
@limiter.limit(
    ACCOUNT_LIMIT, key_func=_account_key, methods=["POST"], deduct_when=lambda r: _failed()
)
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=lambda r: _failed())
def authorize():
    server = commons().authorization_server
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(request, error)
        # Unknown client or unregistered redirect URI: never redirect, say so here.
        return _page("auth/error.html", status=400, message=error.description or error.error)
    client = grant.client.row
    targets = (_origin(grant.redirect_uri),)
    if request.method == "GET":
        hint = request.args.get("login_hint", "")[:254]  # OpenID Connect: prefills the address
        return _page("auth/signin.html", client=client, form_targets=targets, email=hint)
    if not _csrf_ok():
        return _page(
            "auth/signin.html", 400, targets, client=client, error="The form expired; try again."
        )
    try:
        person = signin.authenticate(
            uow(),
            request.form.get("email", ""),
            request.form.get("password", ""),
            request.form.get("otp"),
        )
    except signin.SignInFailed as failure:
        g.signin_failed = True
        return _page(
            "auth/signin.html",
            200,
            targets,
            client=client,
            error=failure.message,
            email=request.form.get("email", ""),
        )
    session.pop("csrf", None)
    return server.create_authorization_response(grant_user=person, grant=grant)


def _nul_in_request() -> Response | None:
    """An OAuth request with NUL in a parameter: refused as RFC 6749 says, before any of it
    reaches the database (which stores no NUL in text)."""
    if not has_nul([*request.form.items(multi=True), *request.args.items(multi=True)]):
        return None
    response = make_response(
        {"error": "invalid_request", "error_description": "Parameters must not contain NUL."},
        400,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.post("/oauth/token")
@public
def token():
    refused = _nul_in_request()
    if refused is not None:
        return refused
    response = commons().authorization_server.create_token_response()
    # Commit even when refused: a reused refresh token revokes its family, and that must stick.
    uow().commit()
    return response


@blp.post("/oauth/revoke")
@public
def revoke():
    return _nul_in_request() or commons().authorization_server.create_endpoint_response(
        "revocation"
    )


@blp.route("/oauth/userinfo", methods=["GET", "POST"])
@public  # the endpoint checks the bearer token itself, and answers as OAuth does (401/403)
def userinfo():
    response = commons().authorization_server.create_endpoint_response("userinfo")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/account/set-password", methods=["GET", "POST"])
@public
def set_password():
    token = request.args.get("token", "")
    try:
        link, person = signin.open_link(uow(), token)
    except NotFound as missing:
        return _page("auth/error.html", status=404, message=missing.message)
    context = {
        "person": person,
        "token": token,
        "invitation": link.purpose is AccountLinkPurpose.invitation,
    }
    if request.method == "GET":
        return _page("auth/set_password.html", **context)
    if not _csrf_ok():
        return _page("auth/set_password.html", 400, error="The form expired; try again.", **context)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _page("auth/set_password.html", 422, error="The two passwords differ.", **context)
    try:
        signin.redeem_link(uow(), token, password)
    except Invalid as weak:
        return _page("auth/set_password.html", 422, error=weak.message, **context)
    except NotFound as used:  # used by a simultaneous submission of the same form
        return _page("auth/error.html", status=404, message=used.message)
    return _page("auth/password_set.html", person=person, public_url=commons().settings.public_url)


@blp.route("/account/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(FORGOT_LIMIT, methods=["POST"])
def forgot_password():
    if request.method == "GET":
        return _page("auth/forgot_password.html")
    if not _csrf_ok():
        return _page("auth/forgot_password.html", 400, error="The form expired; try again.")
    email = request.form.get("email", "").strip().lower()
    person = uow().session.query(Person).filter_by(email=email).one_or_none() if email else None
    if person is not None and person.is_active:
        uow().enqueue_after_commit(
            Job(
                "workers.jobs.send_account_link",
                (person.id, AccountLinkPurpose.password_reset.value),
                queue="mail",
            )
        )
    # The same answer whether or not the address is known.
    return _page("auth/forgot_password_sent.html")


@blp.errorhandler(429)
def too_many(_error):
    return _page(
        "auth/error.html",
        status=429,
        message="Too many failed attempts. Wait 15 minutes, or reset your password.",
    )
