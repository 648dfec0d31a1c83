"""Every operation the app publishes in ``/openapi.json``, called with no key, with a key
outside its declared scope and with the full-access key, against real PostgreSQL and
Redis: the document's ``x-required-scope`` is what the server enforces.

The operations are read from the app's own document when the tests are collected, so a
new endpoint joins the matrix by being served, and a failure names its operation.
"""

import re
import uuid
from dataclasses import dataclass

import pytest

from app.auth.policy import declared_policy
from tests.conftest import SETTINGS

PUBLIC = {("GET", "/api/v1/health"), ("GET", "/openapi.json")}
# For each policy, the scopes of a valid key that lacks the family the policy names.
LACKING = {
    "execute": ["memory:read"],
    "node": ["execute"],
    "memory:read": ["execute"],
    "memory:write": ["memory:read"],
    "admin": ["execute", "executions:read", "memory:write", "node:matrix-node"],
}
_PARAMETER = re.compile(r"\{(\w+)\}")
# The scopes as reviewed against docs/TRUST.md. The matrix checks that the server
# enforces what it publishes; this pins what it publishes, so a changed (or new)
# policy fails here until it is reviewed and written down.
REVIEWED = {
    ("GET", "/api/v1/health"): "public",
    ("GET", "/openapi.json"): "public",
    ("GET", "/api/v1/did/root"): "authenticated",
    ("GET", "/api/v1/did/document/{did}"): "authenticated",
    ("GET", "/api/v1/did/resolve/{did}"): "authenticated",
    ("GET", "/api/v1/nodes"): "authenticated",
    ("GET", "/api/v1/nodes/{node_id}"): "authenticated",
    # the view then checks the execution or run: its owner, a reader, or an admin
    ("GET", "/api/v1/did/export/{run_id}"): "authenticated",
    ("GET", "/api/v1/did/workflow/{run_id}/vc-chain"): "authenticated",
    ("GET", "/api/v1/executions"): "authenticated",
    ("POST", "/api/v1/executions/batch-status"): "authenticated",
    ("GET", "/api/v1/executions/{execution_id}"): "authenticated",
    ("GET", "/api/v1/executions/{execution_id}/credential"): "authenticated",
    ("GET", "/api/v1/executions/{execution_id}/notes"): "authenticated",
    ("POST", "/api/v1/executions/{execution_id}/cancel"): "authenticated",
    ("POST", "/api/v1/executions/{execution_id}/webhook/redeliver"): "authenticated",
    ("POST", "/api/v1/executions/{execution_id}/webhook/retry"): "authenticated",
    ("POST", "/api/ui/v1/executions/{execution_id}/webhook/retry"): "authenticated",
    ("POST", "/api/v1/runs/{run_id}/cancel"): "authenticated",
    ("POST", "/api/v1/execute/{target}"): "execute",
    ("POST", "/api/v1/execute/async/{target}"): "execute",
    ("POST", "/api/v1/nodes"): "node",
    ("POST", "/api/v1/nodes/register"): "node",
    ("POST", "/api/v1/nodes/{node_id}/heartbeat"): "node",
    ("POST", "/api/v1/nodes/{node_id}/shutdown"): "node",
    ("POST", "/api/v1/executions/{execution_id}/status"): "node",
    ("POST", "/api/v1/executions/note"): "node",
    ("POST", "/api/v1/memory/get"): "memory:read",
    ("POST", "/api/v1/memory/exists"): "memory:read",
    ("GET", "/api/v1/memory/list"): "memory:read",
    ("GET", "/api/v1/memory/events/history"): "memory:read",
    ("GET", "/api/v1/memory/events/sse"): "memory:read",
    ("POST", "/api/v1/memory/vector/search"): "memory:read",
    ("POST", "/api/v1/memory/set"): "memory:write",
    ("POST", "/api/v1/memory/delete"): "memory:write",
    ("POST", "/api/v1/memory/increment"): "memory:write",
    ("POST", "/api/v1/memory/compare-and-set"): "memory:write",
    ("POST", "/api/v1/memory/vector/set"): "memory:write",
    ("POST", "/api/v1/memory/vector/delete"): "memory:write",
    ("GET", "/api/v1/admin/keys"): "admin",
    ("POST", "/api/v1/admin/keys"): "admin",
    ("DELETE", "/api/v1/admin/keys/{key_id}"): "admin",
    ("POST", "/api/v1/admin/keys/{key_id}/revoke"): "admin",
    ("POST", "/api/v1/did/rotate/{node_id}"): "admin",
}


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the document describes it."""

    method: str
    path: str
    policy: str
    has_body: bool
    streams: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations_of(document: dict) -> list[Operation]:
    """Every operation of an OpenAPI document, in the document's order."""
    return [Operation(method.upper(), path, operation["x-required-scope"],
                      "requestBody" in operation, _streams(operation))
            for path, item in document["paths"].items()
            for method, operation in item.items()]


def _streams(operation: dict) -> bool:
    content = operation["responses"].get("200", {}).get("content", {})
    return "text/event-stream" in content


def _served_document() -> dict:
    """``GET /openapi.json`` of an app built as the fixtures build it (no service used)."""
    from app import create_app
    from app.extensions import db
    from config import Config

    app = create_app(Config.from_env(SETTINGS))
    try:
        return app.test_client().get("/openapi.json").get_json()
    finally:
        with app.app_context():
            db.engine.dispose()
        for name in ("redis", "redis_blocking"):
            app.extensions[name].close()
        app.extensions["autocommit_engine"].dispose()


OPERATIONS = operations_of(_served_document())


def scope_table(operations: list[Operation]) -> str:
    """The operations and the scope each needs, as a markdown table."""
    rows = [f"| {op.method} | `{op.path}` | `{op.policy}` |" for op in operations]
    return "\n".join(["| method | path | required scope |", "|---|---|---|", *rows])


@pytest.fixture
def new_key(client):
    """Create a key through the admin endpoint; return its token."""

    def make(*scopes: str) -> str:
        response = client.post("/api/v1/admin/keys", json={
            "name": f"matrix-{uuid.uuid4().hex[:6]}", "scopes": list(scopes)})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    return make


@pytest.fixture
def call(register):
    """Send an operation with harmless path values and ``{}`` as its body, if it has one.

    ``{target}`` names a function of a node registered for the test; every other path
    parameter is a fresh id, so nothing existing is touched. A streaming answer is not
    read: its status is kept and the stream closed (which gives its slot back).
    """
    target = f"{register()}.plan"

    def send(client, op: Operation, headers: dict | None = None) -> tuple[int, dict | None]:
        url = _PARAMETER.sub(lambda m: target if m[1] == "target"
                             else f"matrix-{uuid.uuid4().hex}", op.path)
        response = client.open(url, method=op.method, headers=headers or {},
                               json={} if op.has_body else None, buffered=not op.streams)
        try:
            if response.mimetype == "text/event-stream":
                return response.status_code, None
            return response.status_code, response.get_json(silent=True)
        finally:
            response.close()

    return send


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_without_a_key_only_public_operations_answer(op, anonymous_client, call):
    status, body = call(anonymous_client, op)

    if op.policy == "public":
        assert status != 401, body
    else:
        assert (status, body and body.get("error"), body and sorted(body)) == (
            401, "authentication_required", ["error", "message"])


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.policy in LACKING], ids=str)
def test_a_key_outside_the_declared_scope_is_refused(op, anonymous_client, call, new_key):
    token = new_key(*LACKING[op.policy])

    status, body = call(anonymous_client, op, {"X-API-Key": token})

    assert (status, body and body.get("error"), body and body.get("details")) == (
        403, "insufficient_scope", {"required": op.policy})


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_the_full_access_key_passes_every_check(op, client, call, app):
    status, body = call(client, op)

    # Not refused; and what the view then says of the harmless values is an answer
    # (400 bad body, 404 unknown id...), never a crash.
    assert status not in (401, 403) and status < 500, body
    if op.streams:
        assert status == 200
        assert app.extensions["stream_slots"].open == 0  # closed, so given back


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.policy == "authenticated"],
                         ids=str)
def test_any_valid_key_passes_an_authenticated_operations_check(op, anonymous_client, call,
                                                                new_key):
    status, body = call(anonymous_client, op, {"X-API-Key": new_key("memory:read")})

    # The view may still refuse what it acts on (403 with a finer scope), never the key.
    assert status != 401, body
    if status == 403:
        assert body["details"]["required"] != "authenticated", body


def test_the_matrix_covers_the_document_served_now(client):
    served = operations_of(client.get("/openapi.json").get_json())

    assert served == OPERATIONS


def test_every_operation_needs_the_reviewed_scope():
    assert {(op.method, op.path): op.policy for op in OPERATIONS} == REVIEWED


def test_only_health_and_the_document_are_public(client):
    document = client.get("/openapi.json").get_json()
    public = {(op.method, op.path) for op in operations_of(document) if op.policy == "public"}
    unsecured = {(method.upper(), path) for path, item in document["paths"].items()
                 for method, operation in item.items() if operation["security"] == []}

    assert public == PUBLIC
    assert unsecured == PUBLIC


def test_every_route_declares_its_policy(app):
    undeclared = [rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static"
                  and declared_policy(app.view_functions[rule.endpoint]) is None]

    assert undeclared == []


def test_the_scope_table_has_a_row_per_operation():
    table = scope_table(OPERATIONS)
    print("\n" + table)

    assert len(table.splitlines()) == len(OPERATIONS) + 2
