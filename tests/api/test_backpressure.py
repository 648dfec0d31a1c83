"""A node's queued-depth limit: over it, 429 with Retry-After, and nothing is written."""

import uuid

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
