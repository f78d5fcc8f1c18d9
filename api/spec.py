"""What the OpenAPI document says about every operation at once, so that it tells the whole truth:

- the answers any operation can get besides its own (`CommonResponses`): 400 for a request it
  cannot read, 413 for a body over 1 MiB, 414 for a long request target, 429 where a rate limit
  applies, 503 with Retry-After when the database is busy or away; each with the API's error
  body, and an example;
- how to get a token: the built-in issuer's OAuth 2 authorization code flow (with PKCE), as
  well as a bearer JWT, and the issuer's own endpoints (token, revocation, UserInfo, discovery),
  which are plain Flask views (`api.auth.pages`) described here through the spec's API;
- the `Location` of what a 201 created (`location`, `LOCATION_HEADER`), and the examples the
  views' decorators show (`EXAMPLES`).

`CommonsApi` (api/errors.py) installs it: `plugins()` when the spec is made, `complete()` once
it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apispec import BasePlugin
from flask import url_for
from flask_smorest.spec.plugins import FlaskPlugin

if TYPE_CHECKING:
    from apispec import APISpec
    from flask import Flask

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

# --- answers every operation may get ------------------------------------------------------------

BAD_REQUEST = "BAD_REQUEST"
CONTENT_TOO_LARGE = "CONTENT_TOO_LARGE"
URI_TOO_LONG = "URI_TOO_LONG"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
DATABASE_BUSY = "DATABASE_BUSY"

RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$", "examples": ["1"]},
}


def _error(code: int, status: str, message: str, **extra: Any) -> dict:
    return {"code": code, "status": status, "message": message, **extra}


# The error body's example for each status an operation of the API documents: flask-smorest's
# own response components (UNAUTHORIZED, NOT_FOUND...) get them too.
ERROR_EXAMPLES: dict[str, dict] = {
    BAD_REQUEST: _error(
        400,
        "Bad Request",
        "The body is not JSON this API reads: unexpected character.",
        errors={"json": ["Invalid JSON body: unexpected character."]},
    ),
    "UNAUTHORIZED": _error(401, "Unauthorized", "A valid bearer access token is required."),
    "FORBIDDEN": _error(403, "Forbidden", "Only the board's administrators may do this."),
    "NOT_FOUND": _error(404, "Not Found", "There is no problem 4711 on a board you can read."),
    "CONFLICT": _error(409, "Conflict", "The ODS code A81001 is already taken."),
    "PRECONDITION_FAILED": _error(
        412, "Precondition Failed", "It was changed since you read it: reload it and try again."
    ),
    CONTENT_TOO_LARGE: _error(
        413,
        "Request Entity Too Large",
        "The data value transmitted exceeds the capacity limit.",
    ),
    URI_TOO_LONG: _error(
        414,
        "Request URI Too Long",
        "The request target (path and query string) is longer than 8192 bytes.",
    ),
    "UNPROCESSABLE_ENTITY": _error(
        422,
        "Unprocessable Entity",
        "title: Length must be between 1 and 200.",
        errors={"json": {"title": ["Length must be between 1 and 200."]}},
    ),
    "PRECONDITION_REQUIRED": _error(
        428, "Precondition Required", "Send If-Match with the ETag you read."
    ),
    TOO_MANY_REQUESTS: _error(429, "Too Many Requests", "Too many requests: try again later."),
    "SERVICE_UNAVAILABLE": _error(503, "Service Unavailable", "database is not answering"),
    DATABASE_BUSY: _error(
        503,
        "Service Unavailable",
        "The database is busy with other changes; nothing was saved. Try again.",
    ),
    "DEFAULT_ERROR": _error(500, "Internal Server Error", "The change could not be saved."),
}

# Our own response components: name -> (description, headers).
COMMON_RESPONSES: dict[str, tuple[str, dict]] = {
    BAD_REQUEST: (
        "The request could not be read: a body that is not JSON this API reads (malformed, "
        "NaN, lone surrogates, nested deeper than 64 levels), or a request the server cannot "
        "parse.",
        {},
    ),
    CONTENT_TOO_LARGE: ("The body is larger than 1 MiB (1,048,576 bytes).", {}),
    URI_TOO_LONG: (
        "The request target (path and query string) is longer than 8192 bytes.",
        {},
    ),
    TOO_MANY_REQUESTS: (
        "Too many requests from this client address or for this account: wait, then try again.",
        {},
    ),
    DATABASE_BUSY: (
        "The database is busy with other changes, or not available: nothing was saved. Try "
        "again after `Retry-After` seconds.",
        {"Retry-After": RETRY_AFTER_HEADER},
    ),
}


def register_error_responses(spec: APISpec, error_schema, content_type: str) -> None:
    """Our response components, and an example in each error response flask-smorest has
    registered (all lazily: a component appears in the document once an operation uses it)."""
    from flask_smorest.utils import prepare_response

    for name, (description, headers) in COMMON_RESPONSES.items():
        response: dict[str, Any] = {
            "description": description,
            "schema": error_schema,
            "example": ERROR_EXAMPLES[name],
        }
        if headers:
            response["headers"] = headers
        prepare_response(response, spec, content_type)
        spec.components.response(name, response, lazy=True)
    # flask-smorest registers a response for every status, lazily; apispec has no public way
    # to read one back.
    lazy = spec.components._subsections_lazy["response"]
    for name, example in ERROR_EXAMPLES.items():
        content = lazy.get(name, {}).get("content", {}).get(content_type)
        if content is not None:
            content["example"] = example


class CommonResponses(BasePlugin):
    """Adds to every operation the answers it can get that its view does not document itself
    (what an operation documents is kept):

    - 400 when it reads a body or a query string (a body that is not JSON it reads; a request
      the server cannot parse);
    - 413 when it reads a body (`MAX_CONTENT_LENGTH`, 1 MiB);
    - 414 always (`api.blueprint.refuse_long_request_targets`, before anything else);
    - 429 when a rate limit of the sign-in pages' limiter applies to it (`rate_limited`);
    - 503 with Retry-After when it reaches the database (`api.errors.database_error`): every
      operation that needs a token (its person is read), and those described with
      `reaches_database=True`.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            if method in HTTP_METHODS:
                self.complete(method, operation, **kwargs)

    def complete(self, method: str, operation: dict, *, view=None, reaches_database=False, **_):
        responses = operation.setdefault("responses", {})
        has_body = "requestBody" in operation
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if has_body or has_query:
            responses.setdefault("400", BAD_REQUEST)
        if has_body:
            responses.setdefault("413", CONTENT_TOO_LARGE)
        responses.setdefault("414", URI_TOO_LONG)
        if view is not None and rate_limited(self.app, view, method):
            responses.setdefault("429", TOO_MANY_REQUESTS)
        if operation.get("security") != [] or reaches_database:
            responses.setdefault("503", DATABASE_BUSY)


def rate_limited(app: Flask, view, method: str) -> bool:
    """Whether the sign-in pages' limiter (`api.auth.pages.limiter`) can refuse a request to
    this view function of the pages' blueprint with a 429. Its request hooks run for that
    blueprint only, so no view of the API's own blueprints is ever limited."""
    from flask_limiter.util import get_qualified_name

    from api.auth import pages

    if getattr(view, "__module__", None) != pages.__name__:
        return False
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return True
    decorated = pages.limiter.limit_manager.decorated_limits(get_qualified_name(view))
    return any(
        limit.methods is None or method.lower() in {m.lower() for m in limit.methods}
        for limit in decorated
    )


class Paths(FlaskPlugin):
    """flask-smorest's plugin, which makes a path of a Flask rule, also taking a path as it is
    given (`spec.path(path=...)`): the issuer's endpoints, which are no blueprint's of the API."""

    def path_helper(self, rule=None, operations=None, parameters=None, **kwargs):
        if rule is None:
            return None
        return super().path_helper(rule, operations, parameters, **kwargs)


def plugins(app: Flask) -> dict:
    """The spec's plugins, as `Api._init_spec` takes them."""
    return {"flask_plugin": Paths(), "extra_plugins": [CommonResponses(app)]}


# --- 201: where the new thing is -----------------------------------------------------------------

LOCATION_HEADER = {
    "Location": {
        "description": "The URL path of what was created.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    }
}


def location(endpoint: str, **values: Any) -> dict[str, str]:
    """The `Location` header of a 201: the path of `endpoint` (a view's, e.g.
    `problems.ProblemById`) with these values."""
    return {"Location": url_for(endpoint, **values)}


# --- examples of the main resources (the views' decorators show them) ----------------------------

_BOARD = {"id": 2, "kind": "pcn", "name": "Riverside PCN"}
_AMIRA = {"id": 42, "name": "Amira Patel"}
_PRACTICE = {"id": 7, "name": "Riverside Surgery"}
_PROBLEM = {
    "id": 4711,
    "board": _BOARD,
    "title": "Discharge letters arrive a week late",
    "excerpt": "Letters from the district hospital reach us 5 to 9 days after discharge…",
    "tags": ["discharge", "hospital"],
    "status": "open",
    "author": _AMIRA,
    "practice": _PRACTICE,
    "anonymity": "none",
    "affected_count": 3,
    "my_practice_affected": True,
    "comment_count": 2,
    "created_at": "2026-11-22T09:30:00Z",
    "updated_at": "2026-11-23T14:05:00Z",
    "can_edit": True,
}
_COMMENT = {
    "id": 880,
    "kind": "idea",
    "body": "We ask the ward for a copy by email on the day of discharge.",
    "body_html": "<p>We ask the ward for a copy by email on the day of discharge.</p>",
    "author": None,
    "practice": {"id": 9, "name": "Meadow Lane Practice"},
    "anonymity": "person",
    "accepted": False,
    "created_at": "2026-11-23T14:05:00Z",
}
_ORGANISATION = {
    "id": 7,
    "kind": "practice",
    "name": "Riverside Surgery",
    "ods_code": "A81001",
    "parent_id": 2,
    "active": True,
}

EXAMPLES: dict[str, dict] = {
    "problem_create": {
        "board_id": 2,
        "title": "Discharge letters arrive a week late",
        "body": "Letters from the district hospital reach us 5 to 9 days after discharge, "
        "so medication changes are missed.",
        "tags": ["discharge", "hospital"],
        "anonymity": "none",
    },
    "problem_detail": {
        **_PROBLEM,
        "body": "Letters from the district hospital reach us 5 to 9 days after discharge, "
        "so medication changes are missed.",
        "body_html": "<p>Letters from the district hospital reach us 5 to 9 days after "
        "discharge, so medication changes are missed.</p>",
        "hidden": False,
        "accepted_comment_id": None,
        "workstreams": [{"id": 3, "title": "Workflow", "status": "active"}],
        "library_entries": [],
    },
    "problem_page": {"items": [_PROBLEM], "next_cursor": "eyJrIjpbMTcsNDcxMV19"},
    "comment_create": {
        "body": "We ask the ward for a copy by email on the day of discharge.",
        "kind": "idea",
        "anonymity": "person",
    },
    "comment": _COMMENT,
    "organisation_create": {
        "kind": "practice",
        "name": "Riverside Surgery",
        "parent_id": 2,
        "ods_code": "A81001",
    },
    "organisation": _ORGANISATION,
    "organisation_page": {"items": [_ORGANISATION], "next_cursor": None},
    "member_invite": {
        "email": "sam.jones@riverside.example",
        "name": "Sam Jones",
        "role": "member",
        "staff_group": "nurse",
    },
    "member": {
        "person": {
            "id": 57,
            "name": "Sam Jones",
            "email": "sam.jones@riverside.example",
            "staff_group": "nurse",
        },
        "role": "member",
        "identities": [],
    },
}


# --- security -----------------------------------------------------------------------------------

SCOPES = {
    "openid": "Sign in: your person's id (`sub`), and an ID token.",
    "profile": "Your name.",
    "email": "Your email address, and whether it is verified.",
}
BEARER = "bearerAuth"
OAUTH = "oauth2"
SIGN_IN_LIMITS = (
    "The sign-in page (`/oauth/authorize`) allows 10 failed sign-ins per account and 50 per "
    "client address in 15 minutes, then answers 429 until the window ends."
)


def _security_schemes(spec: APISpec, issuer: str) -> None:
    spec.components.security_scheme(
        OAUTH,
        {
            "type": "oauth2",
            "description": "The built-in issuer: the authorization code flow with PKCE "
            "(`code_challenge_method=S256`, required), for public clients (no secret) and "
            "confidential ones. The access token it gives is the bearer JWT of `bearerAuth`; "
            "refresh tokens rotate on every use. " + SIGN_IN_LIMITS,
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{issuer}/oauth/authorize",
                    "tokenUrl": f"{issuer}/oauth/token",
                    "refreshUrl": f"{issuer}/oauth/token",
                    "scopes": SCOPES,
                }
            },
        },
    )


def security_requirement(*scopes: str) -> list[dict]:
    """Either scheme: a bearer JWT of this issuer (or a configured external one), or one got
    through the OAuth 2 flow, with these scopes."""
    return [{BEARER: []}, {OAUTH: list(scopes)}]


# --- the issuer's endpoints ---------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NO_STORE = {
    "Cache-Control": {
        "description": "`no-store`: tokens are never cached.",
        "schema": {"type": "string", "examples": ["no-store"]},
    }
}

ISSUER_SCHEMAS: dict[str, dict] = {
    "OAuthError": {
        "type": "object",
        "description": "An OAuth 2 error (RFC 6749 section 5.2, RFC 6750 section 3.1).",
        "properties": {
            "error": {
                "type": "string",
                "description": "invalid_request, invalid_client, invalid_grant, "
                "unauthorized_client, unsupported_grant_type, invalid_scope, "
                "unsupported_token_type, invalid_token or insufficient_scope.",
                "examples": ["invalid_grant"],
            },
            "error_description": {"type": "string", "description": "For people."},
        },
        "required": ["error"],
    },
    "TokenRequest": {
        "type": "object",
        "description": "RFC 6749 section 4.1.3 (with RFC 7636's `code_verifier`), 6 and 4.4. "
        "A confidential client authenticates with HTTP Basic (`client_secret_basic`) or with "
        "`client_id` and `client_secret` here (`client_secret_post`); a public client sends "
        "its `client_id` only. Parameters this endpoint does not know are ignored.",
        "properties": {
            "grant_type": {
                "type": "string",
                "enum": ["authorization_code", "refresh_token", "client_credentials"],
            },
            "code": {"type": "string", "description": "authorization_code: the code."},
            "redirect_uri": {
                "type": "string",
                "description": "authorization_code: the redirect URI of the authorization request.",
            },
            "code_verifier": {
                "type": "string",
                "description": "authorization_code: the PKCE verifier (43 to 128 characters).",
            },
            "refresh_token": {
                "type": "string",
                "description": "refresh_token: the refresh token (each is used once).",
            },
            "scope": {
                "type": "string",
                "description": "Space-separated scopes: openid, profile, email.",
            },
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
        "required": ["grant_type"],
    },
    "TokenResponse": {
        "type": "object",
        "description": "RFC 6749 section 5.1, with OpenID Connect's `id_token`.",
        "properties": {
            "access_token": {
                "type": "string",
                "description": "An RFC 9068 JWT, for `Authorization: Bearer`.",
            },
            "token_type": {"type": "string", "examples": ["Bearer"]},
            "expires_in": {"type": "integer", "description": "Seconds: 900."},
            "refresh_token": {
                "type": "string",
                "description": "Not for client_credentials. Use it once: the answer has the next.",
            },
            "scope": {"type": "string"},
            "id_token": {
                "type": "string",
                "description": "When `openid` was granted: an RS256 JWT about the person.",
            },
        },
        "required": ["access_token", "token_type", "expires_in"],
    },
    "RevocationRequest": {
        "type": "object",
        "description": "RFC 7009 section 2.1. Revoking a refresh token ends the sign-in it "
        "belongs to; access tokens cannot be recalled (they expire within 15 minutes). The "
        "client authenticates as at the token endpoint.",
        "properties": {
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["refresh_token", "access_token"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
        "required": ["token"],
    },
    "UserInfo": {
        "type": "object",
        "description": "OpenID Connect Core section 5.3.2: the claims the token's scopes "
        "release (`name` with profile; `email` and `email_verified` with email).",
        "properties": {
            "sub": {"type": "string", "description": "The person's id."},
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "email_verified": {"type": "boolean"},
        },
        "required": ["sub"],
    },
    "OpenIDConfiguration": {
        "type": "object",
        "description": "OpenID Connect Discovery 1.0 section 3 (and RFC 8414).",
        "properties": {
            "issuer": {"type": "string", "format": "uri"},
            "authorization_endpoint": {"type": "string", "format": "uri"},
            "token_endpoint": {"type": "string", "format": "uri"},
            "userinfo_endpoint": {"type": "string", "format": "uri"},
            "jwks_uri": {"type": "string", "format": "uri"},
            "revocation_endpoint": {"type": "string", "format": "uri"},
            "scopes_supported": {"type": "array", "items": {"type": "string"}},
            "response_types_supported": {"type": "array", "items": {"type": "string"}},
            "grant_types_supported": {"type": "array", "items": {"type": "string"}},
            "code_challenge_methods_supported": {"type": "array", "items": {"type": "string"}},
            "token_endpoint_auth_methods_supported": {
                "type": "array",
                "items": {"type": "string"},
            },
            "subject_types_supported": {"type": "array", "items": {"type": "string"}},
            "id_token_signing_alg_values_supported": {
                "type": "array",
                "items": {"type": "string"},
            },
        },
        "required": [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ],
        "additionalProperties": True,
    },
}

# Schemas whose members a standard makes optional: the document says so, with `required`.
STANDARD_SCHEMAS = frozenset(ISSUER_SCHEMAS)
# The issuer's endpoints described here: they answer as OAuth 2 and OpenID Connect say (their
# errors are `{error, error_description}`), not with the API's error body.
ISSUER_OPERATIONS = frozenset(
    {"getToken", "revokeToken", "getUserInfo", "postUserInfo", "getOpenIdConfiguration"}
)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _oauth_error(description: str, example: dict, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref("OAuthError"), "example": example}},
    }
    if headers:
        response["headers"] = headers
    return response


def _issuer_paths(spec: APISpec, issuer: str) -> None:
    from api.auth import pages

    for name, schema in ISSUER_SCHEMAS.items():
        spec.components.schema(name, schema)
    invalid_client = _oauth_error(
        "The client could not be authenticated: a wrong secret, or a method it may not use "
        "(with a `WWW-Authenticate: Basic` challenge).",
        {
            "error": "invalid_client",
            "error_description": "The client cannot authenticate with methods: ['none'].",
        },
        {
            "WWW-Authenticate": {
                "description": "The Basic challenge, with the error.",
                "schema": {"type": "string"},
            }
        },
    )
    spec.path(
        path="/oauth/token",
        view=pages.token,
        reaches_database=True,
        operations={
            "post": {
                "operationId": "getToken",
                "summary": "Exchange an authorization code, a refresh token or client "
                "credentials for tokens (RFC 6749).",
                "tags": ["oauth"],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM: {
                            "schema": _ref("TokenRequest"),
                            "example": {
                                "grant_type": "authorization_code",
                                "code": "4mN1bS6HqfJz0Qk2f3uM",
                                "redirect_uri": "http://localhost:5173/callback",
                                "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                                "client_id": "commons-demo-spa",
                            },
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The tokens.",
                        "headers": NO_STORE,
                        "content": {
                            JSON: {
                                "schema": _ref("TokenResponse"),
                                "example": {
                                    "access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
                                    "token_type": "Bearer",
                                    "expires_in": 900,
                                    "refresh_token": "q0D8Hc0bM3u2tP2Jz4oWf8kYv1sR6eLx",
                                    "scope": "openid profile email",
                                    "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
                                },
                            }
                        },
                    },
                    "400": _oauth_error(
                        "Refused (RFC 6749 section 5.2): a missing or wrong parameter, an "
                        "unknown client, a code or refresh token that is not valid (a reused "
                        "one also revokes the tokens issued from it), a grant the client may "
                        "not use.",
                        {
                            "error": "invalid_grant",
                            "error_description": "The refresh token has already been used.",
                        },
                    ),
                    "401": invalid_client,
                },
            }
        },
    )
    spec.path(
        path="/oauth/revoke",
        view=pages.revoke,
        reaches_database=True,
        operations={
            "post": {
                "operationId": "revokeToken",
                "summary": "Revoke a refresh token, ending its sign-in (RFC 7009).",
                "tags": ["oauth"],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM: {
                            "schema": _ref("RevocationRequest"),
                            "example": {
                                "token": "q0D8Hc0bM3u2tP2Jz4oWf8kYv1sR6eLx",
                                "token_type_hint": "refresh_token",
                                "client_id": "commons-demo-spa",
                            },
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Revoked, or there was nothing to revoke (RFC 7009 "
                        "section 2.2): an empty object.",
                        "content": {JSON: {"schema": {"type": "object"}, "example": {}}},
                    },
                    "400": _oauth_error(
                        "Refused: no `token`, a `token_type_hint` this server does not know, "
                        "or an unknown client.",
                        {"error": "invalid_request", "error_description": "Missing 'token'."},
                    ),
                    "401": invalid_client,
                },
            }
        },
    )
    userinfo_errors = {
        "401": _oauth_error(
            "No access token, or one that is not valid (RFC 6750 section 3.1).",
            {
                "error": "invalid_token",
                "error_description": "The token's subject is not an active person.",
            },
            {
                "WWW-Authenticate": {
                    "description": 'The bearer challenge, e.g. `Bearer error="invalid_token"`.',
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        ),
        "403": _oauth_error(
            "The token was not granted `openid`.",
            {"error": "insufficient_scope", "error_description": "The request requires openid."},
        ),
    }
    userinfo = {
        "tags": ["oauth"],
        "security": security_requirement("openid"),
        "description": "With the access token in `Authorization: Bearer`.",
        "responses": {
            "200": {
                "description": "The person's claims.",
                "headers": NO_STORE,
                "content": {
                    JSON: {
                        "schema": _ref("UserInfo"),
                        "example": {
                            "sub": "42",
                            "name": "Amira Patel",
                            "email": "amira.patel@demo.example",
                            "email_verified": True,
                        },
                    }
                },
            },
            **userinfo_errors,
        },
    }
    spec.path(
        path="/oauth/userinfo",
        view=getattr(pages, "userinfo", None),
        reaches_database=True,
        operations={
            "get": {
                "operationId": "getUserInfo",
                "summary": "The signed-in person's claims (OpenID Connect UserInfo).",
                **userinfo,
            },
            "post": {
                "operationId": "postUserInfo",
                "summary": "The same, by POST (OpenID Connect Core section 5.3.1).",
                **userinfo,
            },
        },
    )
    spec.path(
        path="/.well-known/openid-configuration",
        view=pages.discovery,
        operations={
            "get": {
                "operationId": "getOpenIdConfiguration",
                "summary": "What this issuer supports, and where its endpoints are "
                "(OpenID Connect Discovery).",
                "tags": ["oauth"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The issuer's metadata.",
                        "content": {
                            JSON: {
                                "schema": _ref("OpenIDConfiguration"),
                                "example": {
                                    "issuer": issuer,
                                    "authorization_endpoint": f"{issuer}/oauth/authorize",
                                    "token_endpoint": f"{issuer}/oauth/token",
                                    "userinfo_endpoint": f"{issuer}/oauth/userinfo",
                                    "jwks_uri": f"{issuer}/oauth/jwks.json",
                                    "revocation_endpoint": f"{issuer}/oauth/revoke",
                                    "scopes_supported": list(SCOPES),
                                    "response_types_supported": ["code"],
                                    "code_challenge_methods_supported": ["S256"],
                                    "subject_types_supported": ["public"],
                                    "id_token_signing_alg_values_supported": ["RS256"],
                                },
                            }
                        },
                    }
                },
            }
        },
    )


def complete(api) -> None:
    """What the spec says beyond the views' own decorators: the error responses, the security
    schemes and requirement, and the issuer's endpoints."""
    spec = api.spec
    settings = api._app.extensions["commons"].settings
    register_error_responses(spec, api.ERROR_SCHEMA, api.DEFAULT_RESPONSE_CONTENT_TYPE)
    _security_schemes(spec, settings.issuer)
    spec.options["security"] = security_requirement()
    _issuer_paths(spec, settings.issuer)
