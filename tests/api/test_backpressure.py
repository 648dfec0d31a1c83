"""Per-node limits: over the queued depth or running concurrency, 429 with Retry-After,
and nothing is written."""

import uuid

import pytest

from tests.conftest import count_executions


def test_a_full_queue_answers_429_and_writes_nothing(api):
    node_id = f"slow-{uuid.uuid4().hex[:6]}"  # registered, but no worker drains its queue
    api.post("/api/v1/nodes/register", json={
        "id": node_id, "reasoners": [{"id": "plan"}], "limits": {"max_queued": 3}})
    accepted = [api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": n}})
                for n in range(3)]
    before = count_executions()

    refused = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 4}})

    assert [a.status_code for a in accepted] == [202, 202, 202]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    body = refused.json()
    assert body["error"] == "agent_queue_full" and body["retry_after"] == 1
    assert body["details"] == {"node_id": node_id, "queued": 3, "limit": 3}
    assert count_executions() == before


def test_a_bad_limit_is_refused_at_registration(api):
    response = api.post("/api/v1/nodes/register", json={
        "id": f"bad-{uuid.uuid4().hex[:6]}", "limits": {"max_queued": 0}})

    assert response.status_code == 400
    assert response.json()["details"] == {"field": "limits.max_queued"}


def test_a_node_at_its_running_limit_answers_429_and_writes_nothing(api):
    node_id = f"busy-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={
        "id": node_id, "reasoners": [{"id": "plan"}], "limits": {"max_running": 1}})
    first = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}}).json()
    api.post(f"/api/v1/executions/{first['execution_id']}/status", json={"status": "running"})
    before = count_executions()

    refused = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 2}})

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == "agent_busy"
    assert refused.json()["details"] == {"node_id": node_id, "running": 1, "limit": 1}
    assert count_executions() == before
    api.post(f"/api/v1/executions/{first['execution_id']}/status",
             json={"status": "succeeded", "result": {}})
    again = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 3}})
    assert again.status_code == 202


@pytest.mark.parametrize("limits, field", [
    ({"max_running": 0}, "limits.max_running"),
    ({"circuit_failure_rate": 1.5}, "limits.circuit_failure_rate"),
    ({"circuit_min_calls": 2.5}, "limits.circuit_min_calls"),
    ({"circuit_cooldown_seconds": True}, "limits.circuit_cooldown_seconds"),
    ({"max_parallel": 3}, "limits"),
    ([1], "limits"),
])
def test_bad_limits_are_refused_at_registration(api, limits, field):
    response = api.post("/api/v1/nodes/register", json={
        "id": f"bad-{uuid.uuid4().hex[:6]}", "limits": limits})
    assert response.status_code == 400 and response.json()["details"]["field"] == field
