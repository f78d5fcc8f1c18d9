"""The matrix's runner: every `tables_*.py` of this package collected into one `MATRIX`, each
operation run for every principal on every object. A new feature's expectations go in a new
`tables_<feature>.py` here (see the package's docstring)."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from pathlib import Path

import pytest

from api.spec import ISSUER_OPERATIONS
from tests.api.permission_matrix.matrix import (
    KINDS,
    OBJECTS,
    PRINCIPALS,
    Expect,
    Scene,
    caller_for,
    expected,
)

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def feature_tables() -> dict[str, dict[str, Expect]]:
    """The `EXPECTATIONS` of every `tables_<feature>.py` module of this package, by module."""
    return {
        info.name: importlib.import_module(f"{__package__}.{info.name}").EXPECTATIONS
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("tables_")
    }


TABLES = feature_tables()
MATRIX: dict[str, Expect] = {
    op_id: expect for expectations in TABLES.values() for op_id, expect in expectations.items()
}


# --- the operations of the document ---------------------------------------------------------


def operations(app) -> dict[str, tuple[str, str]]:
    """operationId -> (HTTP method, path template), for every operation of the document but
    the issuer's OAuth endpoints (they authenticate clients and answer as OAuth does:
    tests/api/test_oidc.py and test_signin_flow.py)."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in app.extensions["commons_api"].spec.to_dict()["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op_id = item[method].get("operationId")
                assert op_id, f"{method.upper()} {path} has no operationId"
                if op_id in ISSUER_OPERATIONS:
                    continue
                assert op_id not in found, f"operationId {op_id} is used twice"
                found[op_id] = (method, path)
    return found


def test_every_operation_has_expectations(app):
    in_document = set(operations(app))
    tables_of: dict[str, list[str]] = {}
    for module, expectations in TABLES.items():
        for op_id in expectations:
            tables_of.setdefault(op_id, []).append(module)
    twice = {op_id: modules for op_id, modules in tables_of.items() if len(modules) > 1}
    missing = sorted(in_document - set(MATRIX))
    stale = sorted(set(MATRIX) - in_document)
    assert not twice, f"operations with expectations in more than one table: {twice}"
    assert not missing, f"operations without expectations in a tables_<feature>.py: {missing}"
    assert not stale, f"expectations for operations that no longer exist: {stale}"


# --- the cases --------------------------------------------------------------------------------


def _url(scene: Scene, template: str) -> str:
    values = {"organisation_id": scene.target.id} | scene.path
    try:
        return template.format(**values)
    except KeyError as exc:  # a new kind of path parameter: the row's `arrange` must set it
        raise AssertionError(
            f"no value for path parameter {exc} of {template}: set scene.path[{exc}] in the "
            "row's arrange"
        ) from None


CASES = [
    pytest.param(op_id, principal, kind, id=f"{op_id}-{principal}-{kind}")
    for op_id, principal, kind in itertools.product(MATRIX, PRINCIPALS, KINDS)
]


@pytest.mark.parametrize(("op_id", "principal", "kind"), CASES)
def test_permission(op_id, principal, kind, app, client, session, net, auth):
    method, template = operations(app).get(op_id, (None, None))
    assert template is not None, f"{op_id} is not in the OpenAPI document"
    expect = MATRIX[op_id]
    scene = Scene(
        net=net,
        kind=kind,
        principal=principal,
        caller=caller_for(net, principal, kind),
        target=net.org(OBJECTS[kind]),
        secret=app.extensions["commons"].settings.secret(),
    )
    if expect.arrange is not None:
        expect.arrange(scene, session)

    headers = auth(scene.caller) if scene.caller is not None else {}
    headers |= expect.headers(scene)
    response = client.open(
        _url(scene, template),
        method=method.upper(),
        headers=headers,
        query_string=expect.query(scene),
        json=expect.body(scene) if expect.body is not None else None,
    )

    status = expected(expect.statuses, principal, kind)
    assert response.status_code == status, (
        f"{method.upper()} {template} as {principal} on the {kind}: "
        f"expected {status}, got {response.status_code}: {response.get_data(as_text=True)[:300]}"
    )
    if response.status_code >= 400:
        body = response.get_json()
        assert body["code"] == response.status_code and body["message"]
    if response.status_code == 401:
        # RFC 7235: the auth-scheme is case-insensitive.
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    if response.status_code == 404:
        # "Exactly like content that does not exist": the answer names nothing of the object.
        text = response.get_data(as_text=True)
        assert scene.target.name not in text
        if scene.target.ods_code:
            assert scene.target.ods_code not in text
    if 200 <= response.status_code < 300 and expect.check is not None:
        expect.check(scene, response)


# Creating a federation has no parent to act on: superusers only, everyone else 403.
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_only_superusers_create_federations(principal, client, net, auth):
    caller = caller_for(net, principal, "federation")
    status = {"anonymous": 401, "superuser": 201}.get(principal, 403)
    response = client.post(
        "/api/v1/organisations",
        headers=auth(caller) if caller is not None else {},
        json={"kind": "federation", "name": "Federation C"},
    )
    assert response.status_code == status, response.get_data(as_text=True)
