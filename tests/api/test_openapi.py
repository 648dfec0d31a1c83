"""GET /openapi.json: a valid OpenAPI 3.1 document of every route, and true to the wire."""

import uuid

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.openapi.declaration import declaration_of
from app.openapi.document import openapi_path


def _schema(document: dict, path: str, method: str, status: int) -> dict:
    """The declared response schema, with the components it may reference beside it."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = next(iter(response["content"].values()))["schema"]
    return {**schema, "components": document["components"]}


def _check(document: dict, path: str, method: str, response) -> None:
    declared = _schema(document, path, method, response.status_code)
    errors = sorted(Draft202012Validator(declared).iter_errors(response.json()), key=str)
    assert not errors, (path, method, response.status_code, [e.message for e in errors])


@pytest.fixture(scope="module")
def live_document(api) -> dict:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/openapi.json").get_json()

    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"


def test_every_route_under_api_is_declared_beside_its_view(app, client):
    document = client.get("/openapi.json").get_json()
    undeclared, missing = [], []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        if declaration_of(app.view_functions[rule.endpoint]) is None:
            undeclared.append(f"{rule.endpoint} ({rule.rule})")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in document["paths"].get(openapi_path(rule.rule), {}):
                missing.append(f"{method} {rule.rule}")

    assert undeclared == [], "add @api_doc(...) above these views"
    assert missing == []
    operation_ids = [op["operationId"] for item in document["paths"].values()
                     for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_operation_declares_its_errors_in_the_one_error_shape(client):
    document = client.get("/openapi.json").get_json()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            default = operation["responses"]["default"]["content"]["application/json"]
            assert default["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method)
    assert document["components"]["schemas"]["Error"]["required"] == ["error", "message"]


@pytest.mark.parametrize("rule, path", [
    ("/api/v1/executions/<execution_id>", "/api/v1/executions/{execution_id}"),
    ("/api/v1/did/document/<path:did>", "/api/v1/did/document/{did}"),
    ("/x/<int(min=1):n>/y", "/x/{n}/y"),
])
def test_flask_rules_become_openapi_paths(rule, path):
    assert openapi_path(rule) == path


def test_path_parameters_are_declared_and_a_path_converter_may_hold_slashes(client):
    document = client.get("/openapi.json").get_json()
    did = document["paths"]["/api/v1/did/document/{did}"]["get"]["parameters"]
    execution = document["paths"]["/api/v1/executions/{execution_id}"]["get"]["parameters"]

    assert did == [{"name": "did", "in": "path", "required": True,
                    "schema": {"type": "string", "minLength": 1}}]
    assert execution[0]["schema"]["pattern"] == "^[^/]+$"


def test_execute_answers_match_their_declared_schemas(api, live_document):
    sync = api.execute("echo-agent.noop", {"value": 1})
    queued = api.post("/api/v1/execute/async/echo-agent.noop", json={"input": {"value": 2}})
    finished = api.wait_for_status(queued.json()["execution_id"])
    fetched = api.get(f"/api/v1/executions/{finished['execution_id']}")
    listed = api.get("/api/v1/executions", params={"limit": 3})

    assert (sync.status_code, queued.status_code, fetched.status_code) == (200, 202, 200)
    _check(live_document, "/api/v1/execute/{target}", "post", sync)
    _check(live_document, "/api/v1/execute/async/{target}", "post", queued)
    _check(live_document, "/api/v1/executions/{execution_id}", "get", fetched)
    _check(live_document, "/api/v1/executions", "get", listed)


def test_node_health_and_memory_answers_match_their_declared_schemas(api, live_document):
    headers = {"X-Session-ID": f"openapi-{uuid.uuid4().hex[:8]}"}
    written = api.post("/api/v1/memory/set", json={"key": "k", "data": [1, {"a": None}]},
                       headers=headers)
    read = api.post("/api/v1/memory/get", json={"key": "k"}, headers=headers)
    listed = api.get("/api/v1/memory/list", params={"scope": "session"}, headers=headers)

    assert (written.status_code, read.status_code) == (200, 200)
    _check(live_document, "/api/v1/memory/set", "post", written)
    _check(live_document, "/api/v1/memory/get", "post", read)
    _check(live_document, "/api/v1/memory/list", "get", listed)
    _check(live_document, "/api/v1/nodes", "get", api.get("/api/v1/nodes"))
    _check(live_document, "/api/v1/nodes/{node_id}", "get", api.get("/api/v1/nodes/echo-agent"))
    _check(live_document, "/api/v1/health", "get", api.get("/api/v1/health"))
    _check(live_document, "/api/v1/did/root", "get", api.get("/api/v1/did/root"))


def test_errors_match_the_declared_error_shape(api, live_document):
    missing = api.get("/api/v1/executions/exec_nope")
    no_memory = api.post("/api/v1/memory/get", json={"key": "absent-" + uuid.uuid4().hex})
    bad_body = api.post("/api/v1/execute/echo-agent.noop", data=b"[1]",
                        headers={"Content-Type": "application/json"})

    assert (missing.status_code, no_memory.status_code, bad_body.status_code) == (404, 404, 400)
    _check(live_document, "/api/v1/executions/{execution_id}", "get", missing)
    _check(live_document, "/api/v1/memory/get", "post", no_memory)
    _check(live_document, "/api/v1/execute/{target}", "post", bad_body)
