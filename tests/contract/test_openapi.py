"""The OpenAPI document: committed copy in sync, and complete enough for generated clients."""

import json
from pathlib import Path

import pytest

from api.app import create_app
from network.config import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    # The committed document is generated with the embedded defaults (API_URL from PORT 5000).
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    app = create_app(settings)
    return json.loads(json.dumps(app.extensions["commons_api"].spec.to_dict()))


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_committed_document_matches_the_app(spec):
    committed = json.loads(COMMITTED.read_text())
    assert committed == spec, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_document_is_openapi_3_1_with_servers_and_bearer_security(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"][0]["url"] == "http://127.0.0.1:5000"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]


def test_every_operation_has_a_unique_id_and_a_summary(spec):
    ids = [op.get("operationId") for _, _, op in _operations(spec)]
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert all(op.get("summary") for _, _, op in _operations(spec))


def test_protected_operations_document_401_and_public_ones_say_so(spec):
    for path, method, op in _operations(spec):
        if op.get("security") == []:
            continue
        assert "401" in op["responses"], f"{method.upper()} {path} does not document 401"


def test_operations_on_an_id_document_404(spec):
    for path, method, op in _operations(spec):
        if "{" in path:
            assert "404" in op["responses"], f"{method.upper()} {path} does not document 404"


def test_request_bodies_refuse_unknown_fields(spec):
    for name, schema in spec["components"]["schemas"].items():
        if name.endswith(("Create", "Update", "In")):
            assert schema.get("additionalProperties") is False, name


def _response_schemas(spec):
    for _, _, op in _operations(spec):
        for response in op["responses"].values():
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            ref = (
                response.get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref")
            )
            if ref:
                yield ref.rsplit("/", 1)[-1]


def test_response_fields_are_required_and_nullability_is_explicit(spec):
    schemas = spec["components"]["schemas"]
    seen, todo = set(), list(_response_schemas(spec))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        schema = schemas[name]
        optional = set(schema.get("properties", {})) - set(schema.get("required", []))
        assert optional <= {"errors"}, f"{name}: {sorted(optional)} not marked required"
        text = json.dumps(schema)
        todo += [part.split('"')[0] for part in text.split("#/components/schemas/")[1:]]
    assert {"Organisation", "Me", "Error"} <= seen
    organisation = schemas["Organisation"]["properties"]
    assert organisation["ods_code"]["type"] == ["string", "null"]
    assert organisation["parent_id"]["type"] == ["integer", "null"]
    assert organisation["name"]["type"] == "string"


def test_the_spec_and_docs_are_served_by_the_app_with_local_assets(client):
    assert client.get("/api/v1/openapi.json").get_json()["openapi"] == "3.1.0"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js"):
        assert f"/api/v1/docs/static/{asset}" in html
        response = client.get(f"/api/v1/docs/static/{asset}")
        assert response.status_code == 200 and len(response.data) > 10_000
    assert client.get("/api/v1/docs/init.js").status_code == 200
