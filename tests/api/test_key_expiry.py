"""Nothing an execution leaves in Redis lives forever: every per-execution key expires."""

import uuid

import pytest

from app.executions import lifecycle
from app.executions.recovery import reconcile_queued
from app.executions.store import insert_execution
from app.models.types import utcnow
from tests.conftest import NAMESPACE, TEST_REPORTER

# The families written once per execution (by us or by agents); each must carry a TTL.
PER_EXECUTION = ("lease", "cancel", "done", "resent")


@pytest.fixture
def control_plane(app):
    with app.app_context():
        yield app


def test_every_per_execution_key_expires(api, control_plane, redis_client):
    # Given executions that went every way: sync, async, re-sent, then cancelled.
    assert api.execute("echo-agent.noop", {"value": 1}).status_code == 200
    accepted = api.post("/api/v1/execute/async/echo-agent.noop",
                        json={"input": {"value": 2}}).json()
    api.wait_for_status(accepted["execution_id"])
    node_id = f"ghost-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    stuck = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}},
                     headers={"X-Queue-If-Unavailable": "true"}).json()["execution_id"]
    assert stuck in reconcile_queued(older_than=0)
    assert api.post(f"/api/v1/executions/{stuck}/cancel", json={}).status_code == 200
    _finish_sync_execution_nobody_waits_for(node_id)

    # When the database is scanned, then every such key has an expiry.
    seen, forever = set(), []
    for key in redis_client.scan_iter(match=f"{NAMESPACE}:*", count=1000):
        family = key.decode().split(":")[1]
        if family in PER_EXECUTION:
            seen.add(family)
            if redis_client.ttl(key) == -1:
                forever.append(key)
    assert seen == set(PER_EXECUTION)
    assert forever == []


def _finish_sync_execution_nobody_waits_for(node_id: str) -> None:
    """A sync caller that left: its answer stays on the ``done`` list, unread."""
    now = utcnow()
    execution_id = f"exec_{uuid.uuid4().hex}"
    insert_execution({
        "execution_id": execution_id, "run_id": f"run_{uuid.uuid4().hex}",
        "agent_node_id": node_id, "reasoner_id": "plan", "type": "reasoner",
        "status": "running", "mode": "sync", "input_payload": {"n": 1}, "attempt": 1,
        "created_at": now, "started_at": now, "updated_at": now})
    lifecycle.finish(execution_id, {"status": "succeeded", "result_payload": {"ok": 1},
                                    "completed_at": utcnow()}, reporter=TEST_REPORTER)
