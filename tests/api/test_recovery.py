"""Recovery sweeps: a lost message is re-sent, a vanished worker's execution is requeued
or timed out. The sweeps are called as plain functions (beat runs them every 30 s)."""

import time
import uuid

import pytest

from app.executions.recovery import reap_expired_leases, reconcile_queued
from tests.conftest import NAMESPACE


@pytest.fixture
def control_plane(app):
    with app.app_context():
        yield app


def test_a_lost_message_is_re_sent_and_the_execution_finishes(api, control_plane,
                                                               redis_client):
    busy = [api.post("/api/v1/execute/async/echo-agent.sleepy",
                     json={"input": {"seconds": 1.0}}).json() for _ in range(2)]
    key = f"lost-{uuid.uuid4().hex}"
    queued = api.post("/api/v1/execute/async/echo-agent.count",
                      json={"input": {"key": key}}).json()
    redis_client.delete("agent.echo-agent")  # the broker loses the waiting message

    resent = reconcile_queued(older_than=0)
    again = reconcile_queued(older_than=60)  # a second sweeper in the same interval

    assert queued["execution_id"] in resent and queued["execution_id"] not in again
    done = api.wait_for_status(queued["execution_id"], timeout=15)
    assert done["status"] == "succeeded" and redis_client.get(key) == b"1"
    for execution in busy:
        api.wait_for_status(execution["execution_id"])


def _running_without_worker(api) -> str:
    node_id = f"ghost-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    accepted = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}}).json()
    # A worker took it, said it was running, then vanished: no lease is left behind.
    api.post(f"/api/v1/executions/{accepted['execution_id']}/status",
             json={"status": "running"})
    return accepted["execution_id"]


def test_a_vanished_worker_s_execution_is_requeued_then_timed_out(api, control_plane):
    execution_id = _running_without_worker(api)
    time.sleep(0.05)

    first = reap_expired_leases(max_attempts=2, grace=0)
    queued = api.get(f"/api/v1/executions/{execution_id}").json()
    api.post(f"/api/v1/executions/{execution_id}/status", json={"status": "running"})
    second = reap_expired_leases(max_attempts=2, grace=0)

    assert execution_id in first["requeued"] and queued["status"] == "queued"
    assert execution_id in second["timed_out"]
    record = api.get(f"/api/v1/executions/{execution_id}").json()
    assert (record["status"], record["error_type"], record["attempt"]) == (
        "timeout", "Timeout", 2)


def test_a_held_lease_keeps_the_sweeper_away(api, control_plane, redis_client):
    execution_id = _running_without_worker(api)
    redis_client.set(f"{NAMESPACE}:lease:{execution_id}", "some-worker", px=5000)

    outcome = reap_expired_leases(grace=0)

    assert execution_id not in outcome["requeued"] + outcome["timed_out"]
    assert api.get(f"/api/v1/executions/{execution_id}").json()["status"] == "running"


def test_work_queued_for_a_node_without_worker_ends_past_its_maximum_age(api,
                                                                         control_plane):
    node_id = f"ghost-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}],
                                             "limits": {"max_queued_seconds": 1}})
    accepted = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}},
                        headers={"X-Queue-If-Unavailable": "true"}).json()
    time.sleep(1.2)

    resent = reconcile_queued(older_than=0)

    record = api.get(f"/api/v1/executions/{accepted['execution_id']}").json()
    assert accepted["execution_id"] not in resent
    assert (record["status"], record["error_type"]) == ("timeout", "queue_timeout")
    assert f"longer than the 1 s node '{node_id}' allows" in record["error"]
