"""Schemathesis against the app's own OpenAPI document, through WSGI (DESIGN.md, "Tests"):
zero server errors and zero response-schema violations, for every operation.

Every operation is run twice: signed in as the admin of federation A of the `net` fixture, so
that most generated requests get past authorization and reach the services; and without a
token, where public operations must answer 200 and every other one 401. Each generated request
runs in its own savepoint, rolled back after it, so that one example cannot change the world of
the next (a generated DELETE of the caller's own membership would otherwise turn the rest of the
run into 403s).

All of schemathesis's default checks run, with three narrowings, each for the reason given where
it is made: `positive_data_acceptance` also accepts 422 (`CONFIG`); `negative_data_rejection` is
skipped for requests carrying undeclared query parameters, and `unsupported_method` is replaced
by an exact test of its own (`_checks_excluded_for`, `test_undeclared_methods_are_405_with_allow`).
"""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
)
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from network.config import Settings

pytestmark = pytest.mark.slow

SPEC_PATH = "/api/v1/openapi.json"
PUBLIC_OPERATIONS = frozenset({"getHealth", "getReadiness", "getJwks", "getOpenIdConfiguration"})
# The issuer's token and revocation endpoints: public (no person's token), the client
# authenticates itself. The clients, codes and tokens the generator makes up are refused as OAuth
# says (400 or 401, with the bodies the document gives them, which the default checks hold).
CLIENT_AUTHENTICATED = frozenset({"getToken", "revokeToken"})
# Public, and the secret is in the path: a made-up feed or unsubscribe token does not exist.
TOKEN_IN_PATH = frozenset({"getCalendarFeed", "getUnsubscribePage", "unsubscribe"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE")

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                # 422 is this API's documented answer to a request that fits the schema but breaks
                # a domain rule the schema cannot express: an opaque `cursor` the server never gave
                # out, a PCN or practice without `parent_id`, moving a federation, a `timezone`
                # that is not an IANA zone. Any other refusal of schema-valid data still fails.
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"],
            },
        },
    }
)

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here reproduces
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # fixtures are per operation; each example rolls back
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def _load_schema():
    """The document as the app serves it, loaded at collection time so that every operation is a
    test of its own. The app that serves it here answers nothing else: requests go to the test's
    `app` fixture, bound to the test's rolled-back transaction.

    (`schemathesis.pytest.from_fixture` would load it from a fixture instead, but schemathesis
    4.32.5's lazy loader sets `Function._nodeid`, which pytest 9 no longer has.)"""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            Settings.from_env({"INSTANCE_PATH": instance, "DATABASE_URL": "sqlite://"})
        )
        return schemathesis.openapi.from_wsgi(SPEC_PATH, app, config=CONFIG)


schema = _load_schema()


@pytest.fixture
def rolled_back(connection):
    """A context manager running one request in a savepoint that is rolled back afterwards."""

    @contextmanager
    def savepoint():
        nested = connection.begin_nested()
        try:
            yield
        finally:
            if nested.is_active:
                nested.rollback()

    return savepoint


@pytest.fixture
def federation_admin(net, auth):
    return auth(net.admins["fed_a"])


def _checks_excluded_for(case) -> list:
    """The default checks this case is not held to, and why.

    - `unsupported_method` (an undeclared method must get 405 with `Allow`): tested exactly, once
      per path, by `test_undeclared_methods_are_405_with_allow`. Left in here, its failure on the
      coverage phase's TRACE request would stop Hypothesis on every operation and hide whatever
      else the operation's examples would find.
    - `negative_data_rejection`, only for a request with undeclared query parameters: those are
      ignored by design (`api.schemas.Query`: caches and proxies add their own; API.md refuses
      only unknown JSON fields), so such a request cannot be expected to be refused. Every other
      schema-violating request still must be.
    """
    excluded = [unsupported_method]
    if case.operation.definition.raw["operationId"] in CLIENT_AUTHENTICATED:
        excluded.append(positive_data_acceptance)
    declared = {parameter.name for parameter in case.operation.query}
    if set(case.query or {}) - declared:
        excluded.append(negative_data_rejection)
    return excluded


def _routable(case) -> bool:
    """Whether the path parameters can match the route. Flask's converters refuse what the
    parameter's schema refuses (not a whole number, out of range), and then no route matches:
    404, before any authentication."""
    item = schema.raw_schema["paths"][case.operation.path]
    parameters = [*item.get("parameters", []), *case.operation.definition.raw.get("parameters", [])]
    for parameter in parameters:
        if parameter["in"] != "path":
            continue
        value = str((case.path_parameters or {}).get(parameter["name"], ""))
        if parameter.get("schema", {}).get("type") == "string":
            # Flask's default converter: any text but a slash (and not nothing).
            if not value or "/" in value:
                return False
            continue
        if not (value.isascii() and value.isdigit()):
            return False
        bounds = parameter.get("schema", {})
        if int(value) < bounds.get("minimum", 0) or int(value) > bounds.get("maximum", int(value)):
            return False
    return True


@schema.parametrize()
@SETTINGS
def test_signed_in_as_a_federation_admin(case, app, federation_admin, rolled_back):
    # When schemathesis leaves the Authorization header out on purpose (a negative case about
    # the security requirement), the token is left out too.
    negated = case.operation.schema.is_security_param_negated(case)
    with rolled_back():
        case.call_and_validate(
            app=app,
            headers={} if negated else federation_admin,
            excluded_checks=_checks_excluded_for(case),
        )


@schema.parametrize()
@settings(SETTINGS, max_examples=15)
def test_without_a_token(case, app, rolled_back):
    with rolled_back():
        response = case.call_and_validate(app=app, excluded_checks=_checks_excluded_for(case))
    if case.method.upper() != case.operation.method.upper():
        # The coverage phase also tries methods the operation does not have: OPTIONS is Flask's
        # automatic answer (and CORS preflights carry no token), anything else is 405.
        assert response.status_code == (200 if case.method.upper() == "OPTIONS" else 405)
    elif case.operation.definition.raw["operationId"] in PUBLIC_OPERATIONS:
        assert response.status_code == 200, response.text
    elif case.operation.definition.raw["operationId"] in CLIENT_AUTHENTICATED:
        assert response.status_code in (400, 401), response.text
    elif case.operation.definition.raw["operationId"] in TOKEN_IN_PATH:
        assert response.status_code == 404, response.text
    elif _routable(case):
        assert response.status_code == 401, response.text
    else:
        assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", sorted(schema.raw_schema["paths"]))
def test_undeclared_methods_are_405_with_allow(path, client):
    """RFC 9110 §15.5.6: a 405 response MUST carry `Allow`, listing the methods the path has.
    (Routing decides a 405 before authentication or any lookup, so any id will do.)"""
    declared = {method.upper() for method in schema.raw_schema["paths"][path]} & set(METHODS)
    url = re.sub(r"\{\w+\}", "1", path)
    for method in sorted(set(METHODS) - declared):
        response = client.open(url, method=method)
        assert response.status_code == 405, (method, response.status_code)
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        assert declared <= allowed, f"{method} {path}: Allow is {response.headers.get('Allow')!r}"
