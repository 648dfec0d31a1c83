"""Registered schemas are untrusted: no fetching, no backtracking, bounded size and depth."""

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.errors import InputValidationFailed
from app.nodes.cache import resolve_function
from app.schemas import compile_validator, validate_input
from config.errors import ControlPlaneError

SECRET = "top-secret-file-content-7f3a"
EVIL = "^(a+)+$"


@pytest.fixture
def web_server():
    """A loopback HTTP server serving a schema and recording every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's name)
            hits.append(self.path)
            body = b'{"type": "string", "description": "fetched"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _register(client, schema=None, **body):
    node_id = body.pop("id", f"schema-{uuid.uuid4().hex[:10]}")
    reasoner = {"id": "plan"} if schema is None else {"id": "plan", "input_schema": schema}
    return client.post("/api/v1/nodes/register",
                       json={"id": node_id, "reasoners": [reasoner], **body})


def _ref_schema(ref: str) -> dict:
    return {"type": "object", "properties": {"x": {"$ref": ref}}}


# -- references -------------------------------------------------------------------------


def test_a_schema_referencing_a_web_url_is_refused_without_fetching(client, web_server):
    url, hits = web_server

    response = _register(client, _ref_schema(url + "/schema.json"))

    assert response.status_code == 400
    assert response.json["error"] == "schema_ref_not_allowed"
    assert response.json["details"] == {"field": "reasoners[0].input_schema",
                                        "ref": url + "/schema.json"}
    assert hits == []


def test_a_schema_referencing_a_file_is_refused_and_never_shows_it(client, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(f'{{"type": "integer", "description": "{SECRET}"}}')

    for ref in (secret.as_uri(), secret.as_uri() + "#/description", "secret.json"):
        response = _register(client, {"$id": tmp_path.as_uri() + "/root.json",
                                      **_ref_schema(ref)})

        assert response.status_code == 400, ref
        assert response.json["error"] == "schema_ref_not_allowed"
        assert SECRET not in response.get_data(as_text=True)


def test_a_stored_schema_with_a_remote_ref_is_never_fetched(ctx, web_server):
    # Given a schema stored before registration refused it
    url, hits = web_server
    schema = _ref_schema(url + "/schema.json")

    # When the execute path builds its validator and validates with it
    validator = compile_validator(schema)
    try:
        validate_input(validator, {"x": "text"}, "node.plan")
    except ControlPlaneError as exc:
        assert exc.status < 500

    # Then nothing was fetched
    assert hits == []


def test_the_validator_itself_refuses_to_fetch(ctx, web_server):
    from app.schemas import LocalValidator, local_registry

    url, hits = web_server
    validator = LocalValidator(_ref_schema(url + "/schema.json"), registry=local_registry())

    with pytest.raises(ControlPlaneError) as raised:
        validate_input(validator, {"x": "text"}, "node.plan")

    assert raised.value.code == "invalid_schema" and raised.value.status == 400
    assert hits == []


def test_references_inside_the_schema_still_resolve(register):
    # As pydantic writes them: nested models under $defs, referenced by "#/$defs/...".
    schema = {"$defs": {"Ticket": {"type": "object", "properties": {
        "message": {"type": "string"}}, "required": ["message"]}},
        "type": "object", "properties": {"ticket": {"$ref": "#/$defs/Ticket"}},
        "required": ["ticket"]}
    node_id = register(reasoners=[{"id": "triage", "input_schema": schema}])
    _, validator = resolve_function(node_id, "triage")

    validate_input(validator, {"ticket": {"message": "down"}}, "n.triage")
    with pytest.raises(InputValidationFailed) as raised:
        validate_input(validator, {"ticket": {"message": 42}}, "n.triage")
    assert raised.value.details["problems"] == [
        {"path": "ticket/message", "message": "42 is not of type 'string'"}]


def test_a_reference_to_nothing_in_the_schema_is_refused(client):
    response = _register(client, _ref_schema("#/$defs/missing"))

    assert response.status_code == 400
    assert response.json == {
        "error": "invalid_schema", "details": {"field": "reasoners[0].input_schema",
                                               "ref": "#/$defs/missing"},
        "message": "'reasoners[0].input_schema' references '#/$defs/missing', which is "
                   "not in the schema"}


# -- patterns ---------------------------------------------------------------------------


def _timed_problems(validator, data) -> tuple[float, list]:
    started = time.perf_counter()
    try:
        validate_input(validator, data, "n.plan")
        problems = []
    except InputValidationFailed as exc:
        problems = exc.details["problems"]
    return time.perf_counter() - started, problems


@pytest.mark.parametrize("schema, data", [
    ({"type": "object", "properties": {"s": {"type": "string", "pattern": EVIL}}},
     {"s": "a" * 27 + "!"}),
    ({"type": "object", "patternProperties": {EVIL: {"type": "integer"}}},
     {"a" * 27 + "!": 1}),
    ({"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False},
     {"a" * 27 + "!": 1}),
    ({"type": "object", "propertyNames": {"pattern": EVIL}}, {"a" * 27 + "!": 1}),
])
def test_a_catastrophic_pattern_validates_in_milliseconds(register, schema, data):
    node_id = register(reasoners=[{"id": "plan", "input_schema": schema}])
    _, validator = resolve_function(node_id, "plan")

    elapsed, _ = _timed_problems(validator, data)
    elapsed_matching, _ = _timed_problems(validator, {"a" * 27: 1, "s": "a" * 27})

    assert elapsed < 0.05 and elapsed_matching < 0.05


def test_patterns_still_match_as_before(register):
    schema = {"type": "object", "properties": {"code": {"type": "string",
                                                        "pattern": r"^[A-Z]{3}-\d+$"}},
              "patternProperties": {"^x-": {"type": "string"}}}
    node_id = register(reasoners=[{"id": "plan", "input_schema": schema}])
    _, validator = resolve_function(node_id, "plan")

    assert _timed_problems(validator, {"code": "ABC-12", "x-a": "s"})[1] == []
    assert [p["path"] for p in _timed_problems(validator, {"code": "ABC-12\n", "x-a": 1})[1]
            ] == ["code", "x-a"]


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)b", "(?<!a)b", "a{1001}"])
def test_a_pattern_re2_cannot_run_is_refused_at_registration(client, pattern):
    for schema in ({"type": "string", "pattern": pattern},
                   {"type": "object", "patternProperties": {pattern: {}}}):
        response = _register(client, schema)

        assert response.status_code == 400
        assert response.json["error"] == "schema_pattern_unsupported"
        assert response.json["details"] == {"field": "reasoners[0].input_schema",
                                             "pattern": pattern}


def test_unevaluated_properties_with_pattern_properties_is_refused(client):
    response = _register(client, {"type": "object", "patternProperties": {"^a": {}},
                                  "unevaluatedProperties": False})

    assert response.status_code == 400
    assert response.json["error"] == "schema_pattern_unsupported"


def test_a_pattern_given_as_data_is_not_a_pattern(client):
    schema = {"type": "object", "properties": {"pattern": {"type": "string"},
                                               "$ref": {"const": {"$ref": "http://x/"}}},
              "default": {"pattern": "(?=a)"}, "examples": [{"$ref": "file:///etc"}]}

    assert _register(client, schema).status_code == 201


def test_an_invalid_json_schema_is_refused(client):
    response = _register(client, {"type": "strange"})

    assert response.status_code == 400
    assert response.json["error"] == "invalid_schema"
    assert response.json["details"] == {"field": "reasoners[0].input_schema"}


# -- work per validation ------------------------------------------------------------------


def _doubling_schema(levels: int) -> dict:
    """A tiny schema whose references double the work at each level (2**levels paths)."""
    defs = {"l0": {"type": "string"}}
    for level in range(1, levels + 1):
        below = {"$ref": f"#/$defs/l{level - 1}"}
        defs[f"l{level}"] = {"anyOf": [below, {**below, "description": "again"}]}
    return {"$defs": defs, "$ref": f"#/$defs/l{levels}"}


def test_a_schema_that_doubles_its_work_is_cut_off_quickly(register):
    node_id = register(reasoners=[{"id": "plan", "input_schema": _doubling_schema(40)}])
    _, validator = resolve_function(node_id, "plan")

    started = time.perf_counter()
    with pytest.raises(InputValidationFailed) as raised:
        validate_input(validator, 5, "n.plan")
    elapsed = time.perf_counter() - started

    assert raised.value.code == "input_validation_too_expensive"
    assert raised.value.status == 422
    assert raised.value.details == {"target": "n.plan", "max_steps": 2020}
    assert elapsed < 0.5  # 2,000 keyword checks (about 0.1 s on a busy machine); 2**40 without
    validate_input(validator, "text", "n.plan")  # the first branch matches at once


def test_a_large_input_on_an_ordinary_schema_is_within_the_budget(register):
    item = {"type": "object", "properties": {"a": {"type": "integer"},
                                             "b": {"type": "string", "maxLength": 5}},
            "required": ["a"]}
    schema = {"type": "object", "properties": {
        f"f{i}": {"type": "array", "items": item} for i in range(5)}}
    node_id = register(reasoners=[{"id": "plan", "input_schema": schema}])
    _, validator = resolve_function(node_id, "plan")

    validate_input(validator, {f"f{i}": [{"a": j, "b": "x"} for j in range(400)]
                               for i in range(5)}, "n.plan")
