"""A registration is bounded: ids, schema size and depth, functions and their DIDs."""

import json
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import DidKey


@pytest.fixture
def config(config):
    """Small limits, so the tests stay small."""
    return replace(config, max_functions=5, max_function_dids=6, schema_max_bytes=2048,
                   schema_max_depth=8)


def _node_id() -> str:
    return f"bounds-{uuid.uuid4().hex[:10]}"


def _register(client, node_id=None, reasoners=("plan",), skills=(), schema=None, **body):
    def entry(name):
        return {"id": name} if schema is None else {"id": name, "input_schema": schema}
    return client.post("/api/v1/nodes/register", json={
        "id": node_id or _node_id(), "reasoners": [entry(r) for r in reasoners],
        "skills": [entry(s) for s in skills], **body})


def _nested(depth: int) -> dict:
    """A schema ``depth`` JSON levels deep (each "items" adds one)."""
    schema: dict = {"type": "string"}
    for _ in range(depth - 1):
        schema = {"type": "array", "items": schema}
    return schema


def _did_rows(node_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(DidKey).where(
        DidKey.node_id == node_id, DidKey.function.is_not(None)))


@pytest.mark.parametrize("node_id", ["echo-agent\n", "echo-agent\r\n", "x" * 129, "a.b",
                                     "-lead", "ünï", 42])
def test_a_node_id_that_cannot_name_a_queue_is_refused(client, node_id):
    response = _register(client, node_id=node_id)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_field"
    assert response.json["details"] == {"field": "id"}


@pytest.mark.parametrize("function_id", ["plan\n", "x" * 129, "a.b", "a b", "ünï", "-x"])
def test_a_function_id_outside_the_rule_is_refused(client, function_id):
    response = _register(client, reasoners=("ok", function_id))
    as_skill = _register(client, reasoners=(), skills=(function_id,))

    assert response.status_code == 400 and as_skill.status_code == 400
    assert response.json["error"] == "invalid_field"
    assert response.json["details"] == {"field": "reasoners[1].id"}
    assert as_skill.json["details"] == {"field": "skills[0].id"}


def test_function_ids_as_the_sdk_writes_them_are_accepted(client):
    response = _register(client, reasoners=("analyze", "_private", "x" * 128),
                         skills=("get-weather", "v2"))

    assert response.status_code == 201, response.json


def test_more_functions_than_allowed_are_refused_before_anything_is_written(client, ctx):
    node_id = _node_id()

    response = _register(client, node_id, reasoners=("a", "b", "c"), skills=("d", "e", "f"))

    assert response.status_code == 400
    assert response.json == {
        "error": "too_many_functions",
        "message": "a node may register at most 5 reasoners and skills, not 6",
        "details": {"field": "reasoners", "count": 6, "max_functions": 5}}
    assert client.get(f"/api/v1/nodes/{node_id}").status_code == 404
    assert _did_rows(node_id) == 0


def test_a_schema_deeper_than_the_limit_is_refused(client):
    assert _register(client, schema=_nested(8)).status_code == 201

    response = _register(client, skills=("s",), reasoners=(), schema=_nested(9))

    assert response.status_code == 400
    assert response.json["error"] == "schema_too_large"
    assert response.json["details"] == {"field": "skills[0].input_schema", "max_depth": 8}


def test_a_deeply_nested_schema_is_refused_without_recursion(client):
    # 20,000 levels under "default" (data, not a subschema): still counted, no RecursionError
    deep: object = 1
    for _ in range(20_000):
        deep = [deep]
    app = client.application
    with app.test_request_context():
        from app.schemas import SchemaTooLarge, check_schema

        with pytest.raises(SchemaTooLarge):
            check_schema({"type": "array", "default": deep}, "reasoners[0].input_schema",
                         2048, 8)


def test_a_schema_over_the_size_limit_is_refused(client):
    schema = {"type": "object", "description": "x" * 2100}

    response = _register(client, schema=schema)

    assert len(json.dumps(schema)) > 2048
    assert response.status_code == 400
    assert response.json == {
        "error": "schema_too_large",
        "message": "'reasoners[0].input_schema' is 2134 bytes of JSON, over 2048",
        "details": {"field": "reasoners[0].input_schema", "max_bytes": 2048}}


@pytest.mark.parametrize("field, limit", [("version", 64), ("team_id", 128),
                                          ("lifecycle_status", 32), ("instance_id", 128)])
def test_text_fields_longer_than_their_column_are_refused(client, field, limit):
    assert _register(client, **{field: "v" * limit}).status_code == 201

    response = _register(client, **{field: "v" * (limit + 1)})

    assert response.status_code == 400
    assert response.json["details"] == {"field": field, "max_length": limit}


def test_function_dids_stay_bounded_across_reregistrations(client, ctx):
    # Given a node that renames its functions on every registration
    node_id = _node_id()
    assert _register(client, node_id, reasoners=("a", "b", "c")).status_code == 201
    assert _register(client, node_id, reasoners=("d", "e", "f")).status_code == 201
    assert _did_rows(node_id) == 6

    # When one more new name would pass the cap (retired DIDs are kept: credentials name them)
    response = _register(client, node_id, reasoners=("g",))

    # Then it is refused, nothing is written, and known names still register
    assert response.status_code == 409
    assert response.json["error"] == "function_did_limit_reached"
    assert response.json["details"] == {"node_id": node_id, "held": 6, "new": 1,
                                        "max_function_dids": 6}
    db.session.rollback()
    assert _did_rows(node_id) == 6
    assert [r["id"] for r in client.get(f"/api/v1/nodes/{node_id}").json["reasoners"]] == [
        "d", "e", "f"]
    assert _register(client, node_id, reasoners=("a", "f")).status_code == 201
    assert _did_rows(node_id) == 6
