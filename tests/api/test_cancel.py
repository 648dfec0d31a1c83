"""Cancel queued, running and finished executions, and whole runs."""

import time
import uuid

import pytest

from tests.conftest import count_executions


def _idle_node(api) -> str:
    node_id = f"idle-{uuid.uuid4().hex[:6]}"  # registered, no worker: its work stays queued
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    return node_id


def test_cancelling_a_queued_execution_ends_it_and_wakes_a_sync_waiter(api):
    node_id = _idle_node(api)
    accepted = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}}).json()

    response = api.post(f"/api/v1/executions/{accepted['execution_id']}/cancel",
                        json={"reason": "customer withdrew"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error"], body["error_type"]) == (
        "cancelled", "cancelled: customer withdrew", "Cancelled")
    again = api.post(f"/api/v1/executions/{accepted['execution_id']}/cancel")
    assert again.status_code == 409 and again.json()["error"] == "execution_already_finished"
    missing = api.post("/api/v1/executions/exec_nope/cancel")
    assert missing.status_code == 404 and missing.json()["error"] == "execution_not_found"


def test_a_cancelled_queued_execution_never_starts(api, stack, redis_client):
    # Occupy both one-thread echo-agent workers, so the next one waits in the queue.
    busy = [api.post("/api/v1/execute/async/echo-agent.sleepy",
                     json={"input": {"seconds": 1.5}}).json() for _ in range(2)]
    key = f"never-{uuid.uuid4().hex}"
    queued = api.post("/api/v1/execute/async/echo-agent.count",
                      json={"input": {"key": key}}).json()

    api.post(f"/api/v1/executions/{queued['execution_id']}/cancel")

    for execution in busy:
        api.wait_for_status(execution["execution_id"])
    stack.wait_until(lambda: f"skipping {queued['execution_id']}" in (
        stack.log("echo-agent") + stack.log("echo-agent-2")), what="the message to be skipped")
    assert redis_client.get(key) is None
    assert api.get(f"/api/v1/executions/{queued['execution_id']}").json()["status"] == "cancelled"


def test_a_running_execution_is_told_cooperatively(api, stack, redis_client):
    key = f"coop-{uuid.uuid4().hex}"
    accepted = api.post("/api/v1/execute/async/echo-agent.cancellable",
                        json={"input": {"key": key}}).json()
    stack.wait_until(lambda: api.get(f"/api/v1/executions/{accepted['execution_id']}")
                     .json()["status"] == "running", what="it to run")

    api.post(f"/api/v1/executions/{accepted['execution_id']}/cancel")

    stack.wait_until(lambda: redis_client.get(key), what="the function to notice", timeout=10)
    assert redis_client.get(key) == b"ExecutionCancelledError"
    time.sleep(0.3)  # its own report arrives after the cancel and changes nothing
    record = api.get(f"/api/v1/executions/{accepted['execution_id']}").json()
    assert record["status"] == "cancelled"


def test_finished_executions_cannot_be_cancelled(api):
    done = api.execute("sentiment-agent.analyze", {"text": "fine"}).json()

    response = api.post(f"/api/v1/executions/{done['execution_id']}/cancel")

    assert response.status_code == 409
    assert response.json()["details"]["status"] == "succeeded"


def test_cancelling_a_run_cancels_parent_and_children_but_not_what_ended(api):
    node_id = _idle_node(api)
    finished = api.execute("sentiment-agent.analyze", {"text": "fine"}).json()
    run = {"X-Run-ID": finished["run_id"]}
    parent = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 1}},
                      headers=run).json()
    child = api.post(f"/api/v1/execute/async/{node_id}.plan", json={"input": {"n": 2}},
                     headers={**run, "X-Parent-Execution-ID": parent["execution_id"]}).json()
    before = count_executions()

    body = api.post(f"/api/v1/runs/{finished['run_id']}/cancel").json()

    assert sorted(body["cancelled"]) == sorted([parent["execution_id"], child["execution_id"]])
    assert body["count"] == 2 and count_executions() == before
    statuses = {e["execution_id"]: e["status"] for e in api.get(
        "/api/v1/executions", params={"run_id": finished["run_id"]}).json()["executions"]}
    assert statuses == {finished["execution_id"]: "succeeded",
                        parent["execution_id"]: "cancelled", child["execution_id"]: "cancelled"}


@pytest.mark.parametrize("function", ["stubborn", "stubborn_async"])
def test_a_running_execution_that_ignores_cancel_is_revoked_after_the_grace(
        api, stack, redis_client, function):
    key = f"revoke-{uuid.uuid4().hex}"
    accepted = api.post(f"/api/v1/execute/async/echo-agent.{function}",
                        json={"input": {"key": key, "seconds": 20}}).json()
    stack.wait_until(lambda: api.get(f"/api/v1/executions/{accepted['execution_id']}")
                     .json()["status"] == "running", what="the run to start")

    cancelled_at = time.monotonic()
    api.post(f"/api/v1/executions/{accepted['execution_id']}/cancel")
    stopped = stack.wait_until(lambda: redis_client.get(f"{key}:stopped"), timeout=10,
                               what="the revocation")

    # AGENTFIELD_CANCEL_GRACE=1 in the test stack; the revoker looks every second.
    assert stopped in (b"ExecutionRevoked", b"CancelledError")
    assert 1.0 <= time.monotonic() - cancelled_at < 5
    # The worker is free again: a new call on the node is served.
    assert api.execute("echo-agent.noop", {"value": 1}).json()["status"] == "succeeded"
    assert api.get(f"/api/v1/executions/{accepted['execution_id']}").json()["status"] == \
        "cancelled"
