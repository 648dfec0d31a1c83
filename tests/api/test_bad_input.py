"""Bad input gets a stable error code, a helpful message, and writes nothing."""

import pytest

from tests.conftest import count_executions

TARGET = "/api/v1/execute/echo-agent.total"
GOOD = {"order": {"sku": "A1", "quantity": 2}}


def _post(api, path, **kwargs):
    before = count_executions()
    response = api.post(path, **kwargs)
    assert count_executions() == before, "a rejected request must write nothing"
    return response


@pytest.mark.parametrize("path", [TARGET, "/api/v1/execute/async/echo-agent.total"])
@pytest.mark.parametrize("body, code", [
    (b"{not json", "invalid_json"),
    (b"[1, 2]", "invalid_json"),
    (b"", "invalid_json"),
    (b'{"input": {}}', "invalid_input"),
    (b'{"input": []}', "invalid_input"),
    (b'{"input": "text"}', "invalid_input"),
    (b'{"context": {}}', "invalid_input"),
])
def test_malformed_bodies_are_400(api, path, body, code):
    response = _post(api, path, data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["message"]


@pytest.mark.parametrize("target", ["noseparator", ".fn", "node.", "a.b.c"])
def test_malformed_target_is_400(api, target):
    response = _post(api, f"/api/v1/execute/{target}", json={"input": GOOD})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_unknown_node_is_404(api):
    response = _post(api, "/api/v1/execute/ghost-agent.run", json={"input": GOOD})

    assert response.status_code == 404
    assert response.json() == {
        "error": "agent_not_found",
        "message": "agent node 'ghost-agent' is not registered",
        "details": {"node_id": "ghost-agent"},
    }


def test_unknown_function_is_404_and_lists_what_exists(api):
    response = _post(api, "/api/v1/execute/sentiment-agent.shout", json={"input": GOOD})

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "function_not_found"
    assert body["details"]["available"] == ["analyze"]


@pytest.mark.parametrize("data, path", [
    ({"order": {"sku": "A1", "quantity": "many"}}, "order/quantity"),
    ({"order": {"sku": "A1"}}, "order"),
    ({"wrong": 1}, "(root)"),
])
def test_input_failing_the_schema_is_422(api, data, path):
    response = _post(api, TARGET, json={"input": data})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "input_validation_failed"
    assert body["details"]["target"] == "echo-agent.total"
    assert path in [p["path"] for p in body["details"]["problems"]]


def test_unknown_route_and_method_use_the_same_error_shape(api):
    missing = api.get("/api/v1/nothing-here")
    wrong_method = api.get("/api/v1/execute/echo-agent.total")

    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
