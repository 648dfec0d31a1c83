"""Hostile bodies, headers and parameters: a clear 4xx with a stable code, nothing written.

The app runs in this process on the real PostgreSQL and Redis; nodes are registered
through the registry, so an accepted execution is recorded and queued (no agent runs it).
"""

from dataclasses import replace

import orjson
import pytest

from app.jsonio import MAX_JSON_DEPTH
from memory.codec import MAX_TTL_SECONDS
from tests.conftest import count_executions

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def config(config):
    """Small limits, so that a test can pass them without megabytes of data."""
    return replace(config, max_body_bytes=20_000, max_input_bytes=1_000,
                   max_memory_value_bytes=500)


@pytest.fixture
def target(register):
    return f"/api/v1/execute/async/{register()}.plan"


def _post(client, path, body=None, *, raw: bytes | None = None, headers=None):
    """POST and check that no execution was written; return (status, JSON body)."""
    before = count_executions()
    data = raw if raw is not None else orjson.dumps(body)
    response = client.post(path, data=data, headers={**JSON, **(headers or {})})
    assert count_executions() == before, "a refused request must write nothing"
    return response.status_code, response.get_json()


def _nested(depth: int) -> bytes:
    """Return JSON text of objects nested depth levels (orjson writes at most 254)."""
    return b'{"x": ' * (depth - 1) + b'{"leaf": 1}' + b"}" * (depth - 1)


# -- 1. sizes -----------------------------------------------------------------------------

def test_a_body_over_the_limit_is_413_before_it_is_read(client, target):
    status, body = _post(client, target, raw=b'{"input": {"a": "' + b"x" * 30_000 + b'"}}')

    assert (status, body) == (413, {
        "error": "payload_too_large",
        "message": "the request body is larger than 20000 bytes (AGENTFIELD_MAX_BODY_BYTES)",
        "details": {"max_bytes": 20_000}})


def test_an_input_over_its_limit_is_413(client, target):
    status, body = _post(client, target, {"input": {"a": "x" * 1_000}})

    assert (status, body) == (413, {
        "error": "input_too_large",
        "message": "'input' is 1008 bytes as JSON (at most 1000, AGENTFIELD_MAX_INPUT_BYTES)",
        "details": {"field": "input", "size": 1008, "max_bytes": 1000}})


def test_an_input_at_its_limit_is_accepted(client, target):
    status, body = _post_accepted(client, target, {"input": {"a": "x" * 992}})

    assert status == 202 and body["status"] == "queued"


def test_a_memory_value_over_its_limit_is_413_and_not_stored(client):
    response = client.post("/api/v1/memory/set", headers=JSON,
                           json={"scope": "global", "key": "big", "data": "x" * 600})

    assert (response.status_code, response.get_json()) == (413, {
        "error": "memory_value_too_large",
        "message": "memory value is 602 bytes as JSON (at most 500)"})
    assert _memory_absent(client, "big")


# -- 2. U+0000 ----------------------------------------------------------------------------

@pytest.mark.parametrize("extra, path", [
    ({"input": {"text": "a\u0000b"}}, "input.text"),
    ({"input": {"list": ["ok", "\u0000"]}}, "input.list[1]"),
    ({"input": {"na\u0000me": 1}}, "input.na\u0000me"),
    ({"input": {"a": 1}, "context": {"note": "\u0000"}}, "context.note"),
    ({"input": {"a": 1}, "webhook": {"url": "https://example.com/hook",
                                     "headers": {"X-Tag": "\u0000"}}}, "webhook.headers.X-Tag"),
])
def test_nul_in_an_execute_body_is_400(client, target, extra, path):
    status, body = _post(client, target, extra)

    assert (status, body) == (400, {
        "error": "invalid_json_value",
        "message": f"'{path}' holds the character U+0000, which cannot be stored",
        "details": {"field": path}})


def test_an_escaped_backslash_before_u0000_is_text_not_nul(client, target):
    status, body = _post_accepted(client, target, {"input": {"text": "\\u0000"}})

    assert status == 202


def test_nul_in_a_note_is_400_and_nothing_is_noted(client, make_execution):
    row = make_execution()
    response = client.post("/api/v1/executions/note", headers={
        **JSON, "X-Execution-ID": row["execution_id"]}, json={"message": "a\u0000b"})

    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_json_value",
        "message": "'message' holds the character U+0000, which cannot be stored",
        "details": {"field": "message"}})
    notes = client.get(f"/api/v1/executions/{row['execution_id']}/notes").get_json()
    assert notes["notes"] == []


def test_nul_in_vector_metadata_is_400_and_nothing_is_stored(client):
    response = client.post("/api/v1/memory/vector/set", headers=JSON, json={
        "scope": "global", "key": "v", "embedding": [0.1, 0.2],
        "metadata": {"t": "\u0000"}})

    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_json_value",
        "message": "'metadata.t' holds the character U+0000, which cannot be stored",
        "details": {"field": "metadata.t"}})
    search = client.post("/api/v1/memory/vector/search", headers=JSON, json={
        "scope": "global", "query_embedding": [0.1, 0.2]}).get_json()
    assert [hit for hit in search if hit.get("key") == "v"] == []


def test_nul_in_a_memory_value_is_stored_faithfully(client):
    # Redis holds any string: the value comes back as it was sent.
    stored = client.post("/api/v1/memory/set", headers=JSON,
                         json={"scope": "global", "key": "nul", "data": {"t": "a\u0000b"}})
    found = client.post("/api/v1/memory/get", headers=JSON,
                        json={"scope": "global", "key": "nul"})

    assert stored.status_code == 200
    assert found.get_json()["data"] == {"t": "a\u0000b"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/executions/exec%00"),
    ("GET", "/api/v1/executions?run_id=run%00"),
    ("GET", "/api/v1/executions?session_id=%00"),
    ("GET", "/api/v1/executions/%00/notes"),
    ("GET", "/api/v1/executions/%00/credential"),
    ("GET", "/api/v1/did/workflow/%00/vc-chain"),
    ("GET", "/api/v1/did/document/%00"),
    ("GET", "/api/v1/nodes/%00"),
    ("POST", "/api/v1/executions/%00/cancel"),
    ("POST", "/api/v1/did/rotate/%00"),
    ("POST", "/api/v1/runs/%00/cancel"),
])
def test_nul_in_the_url_is_400(client, method, path):
    response = client.open(path, method=method)

    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_character",
        "message": "the URL holds the character U+0000 (%00)"})


# -- 3. context headers -------------------------------------------------------------------

@pytest.mark.parametrize("header, value, limit", [
    ("X-Run-ID", "r" * 129, 128),
    ("X-Parent-Execution-ID", "p" * 65, 64),
    ("X-Session-ID", "s" * 129, 128),
    ("X-Actor-ID", "a" * 129, 128),
    ("Idempotency-Key", "k" * 256, 255),
    ("X-Run-ID", "run\x00", 128),
    ("X-Session-ID", "caf\u00e9", 128),
    ("Idempotency-Key", "key\x01", 255),
])
def test_a_bad_context_header_is_400(client, target, header, value, limit):
    status, body = _post(client, target, {"input": {"a": 1}}, headers={header: value})

    assert (status, body) == (400, {
        "error": "invalid_header",
        "message": f"'{header}' must be 1 to {limit} printable ASCII characters",
        "details": {"field": header}})


def test_context_headers_at_their_column_length_are_stored(client, target):
    # (A parent must be a real execution, whose ids are shorter: see the next test.)
    headers = {"X-Run-ID": "r" * 128, "X-Session-ID": "s" * 128, "X-Actor-ID": "a" * 128,
               "Idempotency-Key": "k" * 255}
    status, body = _post_accepted(client, target, {"input": {"a": 1}}, headers=headers)

    assert status == 202 and body["run_id"] == "r" * 128


def test_a_parent_that_is_no_execution_is_400_and_nothing_is_stored(client, target):
    before = count_executions()

    response = client.post(target, json={"input": {"a": 1}},
                           headers={"X-Parent-Execution-ID": "p" * 64})

    assert count_executions() == before
    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_header",
        "message": f"X-Parent-Execution-ID names no execution ('{'p' * 64}')",
        "details": {"field": "X-Parent-Execution-ID"}})


# -- 4. nesting and query integers --------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 300, 1000])
def test_a_body_nested_too_deep_is_400(client, target, depth):
    # {"input": <depth levels>} is depth + 1 levels deep.
    status, body = _post(client, target, raw=b'{"input": ' + _nested(depth) + b"}")

    assert (status, body) == (400, {
        "error": "json_too_deep",
        "message": f"request body nests arrays and objects more than {MAX_JSON_DEPTH} "
                   "levels deep",
        "details": {"max_depth": MAX_JSON_DEPTH}})


def test_a_body_at_the_depth_limit_is_accepted(client, target):
    body = orjson.loads(_nested(MAX_JSON_DEPTH - 1))
    status, _ = _post_accepted(client, target, {"input": body})

    assert status == 202


def test_a_memory_value_nested_too_deep_is_400_and_not_stored(client):
    response = client.post("/api/v1/memory/set", headers=JSON, data=(
        b'{"scope": "global", "key": "deep", "data": ' + _nested(300) + b"}"))

    assert response.status_code == 400
    assert response.get_json()["error"] == "json_too_deep"
    assert _memory_absent(client, "deep")


@pytest.mark.parametrize("path, name, low, high", [
    ("/api/v1/executions", "limit", 1, 200),
    ("/api/v1/executions", "offset", 0, 10**9),
    ("/api/v1/memory/events/history", "limit", 1, 1000),
])
@pytest.mark.parametrize("raw", ["\u00b2", "1_0", " 5", "\u0665", "-1", "1e2", "", "abc"])
def test_a_query_integer_must_be_ascii_digits(client, path, name, low, high, raw):
    response = client.get(path, query_string={name: raw})

    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_field",
        "message": f"'{name}' must be a whole number between {low} and {high}",
        "details": {"field": name}})


# -- 5. TTLs ------------------------------------------------------------------------------

@pytest.mark.parametrize("path, extra", [
    ("/api/v1/memory/set", {"data": 1}),
    ("/api/v1/memory/increment", {"amount": 1}),
    ("/api/v1/memory/compare-and-set", {"expected": None, "data": 1}),
])
@pytest.mark.parametrize("ttl", [10**12, 10**16, MAX_TTL_SECONDS + 1, -1, 1.5])
def test_a_ttl_out_of_bounds_is_400_and_nothing_is_stored(client, path, extra, ttl):
    response = client.post(path, headers=JSON,
                           json={"scope": "global", "key": "ttl", "ttl": ttl, **extra})

    assert (response.status_code, response.get_json()) == (400, {
        "error": "invalid_field",
        "message": "'ttl' must be a whole number of seconds from 0 (never expires) "
                   f"to {MAX_TTL_SECONDS}",
        "details": {"field": "ttl"}})
    assert _memory_absent(client, "ttl")


def test_the_longest_ttl_is_stored_and_listed(client):
    response = client.post("/api/v1/memory/set", headers=JSON, json={
        "scope": "global", "key": "long", "data": 1, "ttl": MAX_TTL_SECONDS})
    listed = client.get("/api/v1/memory/list", query_string={"scope": "global"})

    assert response.status_code == 200
    assert listed.status_code == 200
    assert [m["ttl_seconds"] for m in listed.get_json()] == [MAX_TTL_SECONDS]


# -- 6. sync timeout ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["abc", "-1", "nan", "inf", "1e3", "", " 5"])
def test_a_bad_sync_timeout_header_is_400(client, register, raw):
    path = f"/api/v1/execute/{register()}.plan"
    status, body = _post(client, path, {"input": {"a": 1}}, headers={"X-Sync-Timeout": raw})

    assert (status, body) == (400, {
        "error": "invalid_header",
        "message": "'X-Sync-Timeout' must be a number of seconds such as 5 or 0.5",
        "details": {"field": "X-Sync-Timeout"}})


def test_a_bad_timeout_parameter_is_400(client, register):
    path = f"/api/v1/execute/{register()}.plan?timeout=-0.5"
    status, body = _post(client, path, {"input": {"a": 1}})

    assert (status, body) == (400, {
        "error": "invalid_field",
        "message": "'timeout' must be a number of seconds such as 5 or 0.5",
        "details": {"field": "timeout"}})


# -- 7. content type ----------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    None])
def test_a_body_that_is_not_json_is_415(client, target, content_type):
    before = count_executions()
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(target, data=b'{"input": {"a": 1}}', headers=headers)

    assert count_executions() == before
    assert (response.status_code, response.get_json()) == (415, {
        "error": "unsupported_media_type",
        "message": "send the body as application/json, not "
                   f"{(content_type or 'no type').split(';')[0]!r}",
        "details": {"content_type": content_type}})


@pytest.mark.parametrize("content_type", [
    "application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"])
def test_json_types_with_parameters_and_suffixes_are_accepted(client, target, content_type):
    status, _ = _post_accepted(client, target, {"input": {"a": 1}},
                               headers={"Content-Type": content_type})

    assert status == 202


def test_an_optional_body_may_be_empty_without_a_type(client, make_execution):
    row = make_execution()
    response = client.post(f"/api/v1/executions/{row['execution_id']}/cancel")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


# -- helpers ------------------------------------------------------------------------------

def _post_accepted(client, path, body, headers=None):
    before = count_executions()
    response = client.post(path, data=orjson.dumps(body), headers={**JSON, **(headers or {})})
    assert count_executions() == before + 1, response.get_json()
    return response.status_code, response.get_json()


def _memory_absent(client, key: str) -> bool:
    response = client.post("/api/v1/memory/get", headers=JSON,
                           json={"scope": "global", "key": key})
    return response.status_code == 404
