"""The OpenAPI document: committed copy in sync, and complete enough for generated clients."""

import json
import re
import tempfile
from pathlib import Path

import pytest
from flask_limiter.util import get_qualified_name
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api import spec as document
from api.app import create_app
from api.auth import pages
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
    assert spec["security"] == [{"bearerAuth": []}, {"oauth2": []}]


def test_the_oauth_2_scheme_is_the_issuers_code_flow_with_pkce(spec):
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2" and "PKCE" in scheme["description"]
    assert scheme["flows"] == {
        "authorizationCode": {
            "authorizationUrl": "http://127.0.0.1:5000/oauth/authorize",
            "tokenUrl": "http://127.0.0.1:5000/oauth/token",
            "refreshUrl": "http://127.0.0.1:5000/oauth/token",
            "scopes": {
                "openid": scheme["flows"]["authorizationCode"]["scopes"]["openid"],
                "profile": scheme["flows"]["authorizationCode"]["scopes"]["profile"],
                "email": scheme["flows"]["authorizationCode"]["scopes"]["email"],
            },
        }
    }


def test_the_oauth_urls_follow_api_url():
    with tempfile.TemporaryDirectory() as instance:
        settings = Settings.from_env(
            {"INSTANCE_PATH": instance, "API_URL": "https://commons.example.nhs.uk"}
        )
        produced = create_app(settings).extensions["commons_api"].spec.to_dict()
    flow = produced["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "https://commons.example.nhs.uk/oauth/authorize"
    assert flow["tokenUrl"] == "https://commons.example.nhs.uk/oauth/token"


def test_public_operations_declare_no_security_and_the_rest_either_scheme(spec):
    public = {"getHealth", "getReadiness", "getJwks", "getToken", "revokeToken"}
    public |= {"getOpenIdConfiguration", "getCalendarFeed", "getUnsubscribePage", "unsubscribe"}
    for path, method, op in _operations(spec):
        if op["operationId"] in public:
            assert op.get("security") == [], f"{method.upper()} {path}"
        else:
            assert op.get("security", spec["security"]) in (
                spec["security"],
                [{"bearerAuth": []}, {"oauth2": ["openid"]}],
            ), f"{method.upper()} {path}"


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


def _component(spec, response):
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def _error_schema(spec, response) -> str | None:
    content = _component(spec, response).get("content", {}).get("application/json", {})
    return content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1] or None


def test_every_operation_documents_the_answers_it_can_get(spec):
    """400 where it reads a body or a query string, 413 where it reads a body, 414 always, 503
    with Retry-After where it reaches the database: with the API's error body."""
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        has_body = "requestBody" in op
        has_query = any(p["in"] == "query" for p in op.get("parameters", []))
        assert ("400" in responses) == (has_body or has_query), where
        assert ("413" in responses) == has_body, where
        assert "414" in responses, where
        for status in ("413", "414"):
            if status in responses:
                assert _error_schema(spec, responses[status]) == "Error", (where, status)
        if op["tags"] != ["oauth"]:  # the issuer answers 400 with RFC 6749's body
            assert "400" not in responses or _error_schema(spec, responses["400"]) == "Error"
        if op.get("security") != [] or op["operationId"] in {"getToken", "revokeToken"}:
            busy = _component(spec, responses["503"])
            assert busy["headers"]["Retry-After"]["required"] is True, where
            assert _error_schema(spec, responses["503"]) == "Error", where


def _view(app, path: str, method: str):
    """The view function that answers this operation."""
    endpoint, _ = app.url_map.bind("localhost").match(
        re.sub(r"\{\w+\}", "1", path), method=method.upper()
    )
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method) if view_class is not None else view


def test_429_is_documented_exactly_where_the_limiter_applies(app, spec):
    """The limiter's hooks run for the sign-in pages' blueprint only (api/auth/pages.py), and
    limit the views decorated with limits: the document says 429 there and nowhere else."""
    limited = set(pages.limiter.limit_manager._decorated_limits)
    assert limited, "the sign-in pages are rate-limited"
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        for blueprint, functions in hooks.items():
            if blueprint != pages.blp.name:
                assert not any("limiter" in repr(f).lower() for f in functions), blueprint
    for path, method, op in _operations(spec):
        view = _view(app, path, method)
        can_limit = get_qualified_name(view) in limited and document.rate_limited(app, view, method)
        assert ("429" in op["responses"]) == can_limit, f"{method.upper()} {path}"


def test_the_issuers_endpoints_are_described(spec):
    paths = spec["paths"]
    token = paths["/oauth/token"]["post"]
    assert set(token["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    assert token["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OAuthError"
    }
    assert spec["components"]["schemas"]["OAuthError"]["required"] == ["error"]
    revoke = paths["/oauth/revoke"]["post"]
    assert "application/x-www-form-urlencoded" in revoke["requestBody"]["content"]
    for method in ("get", "post"):
        userinfo = paths["/oauth/userinfo"][method]
        assert userinfo["security"] == [{"bearerAuth": []}, {"oauth2": ["openid"]}]
        schema = userinfo["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/UserInfo"}
    claims = spec["components"]["schemas"]["UserInfo"]["properties"]
    assert set(claims) == {"sub", "email", "email_verified", "name"}
    assert paths["/.well-known/openid-configuration"]["get"]["security"] == []


def test_what_the_issuer_answers_is_what_the_document_says(client, spec):
    schemas = _validators(spec)
    discovery = client.get("/.well-known/openid-configuration")
    schemas("OpenIDConfiguration").validate(discovery.get_json())
    refused = client.post("/oauth/token", data={"grant_type": "password"})
    assert refused.status_code == 400
    schemas("OAuthError").validate(refused.get_json())
    unauthenticated = client.get("/oauth/userinfo")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["WWW-Authenticate"]
    schemas("OAuthError").validate(unauthenticated.get_json())


def _validators(spec):
    registry = Registry().with_resource(
        "urn:commons:openapi", Resource.from_contents(spec, default_specification=DRAFT202012)
    )

    def validator(name_or_schema):
        schema = name_or_schema
        if isinstance(schema, str):
            schema = {"$ref": f"urn:commons:openapi#/components/schemas/{schema}"}
        else:
            schema = json.loads(
                json.dumps(schema).replace('"#/components/', '"urn:commons:openapi#/components/')
            )
        return Draft202012Validator(schema, registry=registry)

    return validator


def _examples(spec):
    for path, method, op in _operations(spec):
        bodies = [("request", op.get("requestBody", {}))]
        bodies += [(status, _component(spec, r)) for status, r in op["responses"].items()]
        for where, body in bodies:
            for media in body.get("content", {}).values():
                if "example" in media:
                    yield f"{method.upper()} {path} {where}", media["schema"], media["example"]


def test_every_example_is_valid_for_its_schema(spec):
    validator = _validators(spec)
    examples = list(_examples(spec))
    for where, schema, example in examples:
        errors = [e.message for e in validator(schema).iter_errors(example)]
        assert not errors, (where, errors)
    shown = {where for where, _, _ in examples}
    for expected in (
        "POST /api/v1/problems request",
        "POST /api/v1/problems 201",
        "GET /api/v1/problems 200",
        "GET /api/v1/problems/{problem_id} 200",
        "POST /api/v1/problems/{problem_id}/comments request",
        "POST /api/v1/problems/{problem_id}/comments 201",
        "POST /api/v1/organisations request",
        "POST /api/v1/organisations 201",
        "GET /api/v1/organisations/{organisation_id} 200",
        "POST /api/v1/organisations/{organisation_id}/members request",
        "POST /api/v1/organisations/{organisation_id}/members 201",
        "POST /api/v1/problems 422",
        "POST /api/v1/problems 400",
        "GET /api/v1/problems/{problem_id} 404",
    ):
        assert expected in shown, f"no example for {expected}"


def test_every_201_documents_its_location(spec):
    for path, method, op in _operations(spec):
        created = op["responses"].get("201")
        if created is not None:
            header = created.get("headers", {}).get("Location")
            assert header and header["required"] is True, f"{method.upper()} {path}"


def test_every_201_carries_the_location_it_documents(client, net, auth, spec):
    member, admin = auth(net.members["practice1"]), auth(net.admins["pcn1"])
    created = client.post(
        "/api/v1/problems",
        json={"board_id": net.pcn1.id, "title": "Letters late", "body": "A week."},
        headers=member,
    )
    problem = created.get_json()["id"]
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1/problems/{problem}"
    assert client.get(created.headers["Location"], headers=member).get_json()["id"] == problem

    comment = client.post(
        f"/api/v1/problems/{problem}/comments", json={"body": "Same here"}, headers=member
    )
    assert comment.status_code == 201
    assert comment.headers["Location"] == f"/api/v1/problems/{problem}/comments"
    listed = client.get(comment.headers["Location"], headers=member).get_json()["items"]
    assert comment.get_json()["id"] in [c["id"] for c in listed]

    signal = client.put(
        f"/api/v1/problems/{problem}/affected", json={}, headers=auth(net.members["practice2"])
    )
    assert signal.status_code == 201
    assert signal.headers["Location"] == f"/api/v1/problems/{problem}/affected"
    again = client.put(
        f"/api/v1/problems/{problem}/affected", json={}, headers=auth(net.members["practice2"])
    )
    assert again.status_code == 200 and "Location" not in again.headers

    report = client.post(
        f"/api/v1/problems/{problem}/reports", json={"reason": "Names a patient"}, headers=member
    )
    assert report.status_code == 201
    assert report.headers["Location"] == f"/api/v1/reports/{report.get_json()['id']}"

    organisation = client.post(
        "/api/v1/organisations",
        json={"kind": "practice", "name": "Meadow Lane", "parent_id": net.pcn1.id},
        headers=admin,
    )
    assert organisation.status_code == 201, organisation.get_json()
    new_id = organisation.get_json()["id"]
    assert organisation.headers["Location"] == f"/api/v1/organisations/{new_id}"
    assert client.get(organisation.headers["Location"], headers=admin).status_code == 200

    invited = client.post(
        f"/api/v1/organisations/{net.pcn1.id}/members",
        json={"email": "sam.jones@riverside.example"},
        headers=admin,
    )
    assert invited.status_code == 201, invited.get_json()
    person = invited.get_json()["person"]["id"]
    assert invited.headers["Location"] == (f"/api/v1/organisations/{net.pcn1.id}/members/{person}")


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
        if name not in document.STANDARD_SCHEMAS:  # OAuth's and OpenID's optional members
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
