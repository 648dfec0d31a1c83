"""A redelivered message never runs an execution twice."""

import uuid

from celery import Celery

from tests.conftest import REDIS_URL


def _redeliver(record: dict) -> None:
    """Publish the execution's message again, as a broker redelivery would."""
    celery = Celery(broker=REDIS_URL, set_as_current=False)
    message = {
        "execution_id": record["execution_id"], "run_id": record["run_id"],
        "workflow_id": record["run_id"], "parent_execution_id": None,
        "session_id": None, "actor_id": None, "node_id": record["node_id"],
        "function": record["reasoner_id"], "type": record["type"],
        "input": record["input"], "context": None,
    }
    celery.send_task("agentfield.execute", kwargs={"message": message},
                     queue=f"agent.{record['node_id']}", task_id=record["execution_id"])
    celery.close()


def _dropped(stack, execution_id, why):
    text = stack.log("echo-agent") + stack.log("echo-agent-2")
    return f"dropping redelivered {execution_id}: already {why}" in text


def test_redelivery_after_the_execution_finished_is_dropped(api, stack, redis_client):
    key = f"runs-{uuid.uuid4().hex}"
    accepted = api.post("/api/v1/execute/async/echo-agent.count",
                        json={"input": {"key": key}}).json()
    record = api.wait_for_status(accepted["execution_id"])

    _redeliver(record)

    stack.wait_until(lambda: _dropped(stack, record["execution_id"], "done"),
                     what="the duplicate to be dropped")
    assert redis_client.get(key) == b"1"
    assert api.get(f"/api/v1/executions/{record['execution_id']}").json()["result"] == {
        "runs": 1}


def test_redelivery_while_running_elsewhere_is_dropped(api, stack, redis_client):
    key = f"runs-{uuid.uuid4().hex}"
    accepted = api.post("/api/v1/execute/async/echo-agent.count",
                        json={"input": {"key": key, "seconds": 2.0}}).json()
    execution_id = accepted["execution_id"]
    record = stack.wait_until(
        lambda: (r := api.get(f"/api/v1/executions/{execution_id}").json())["status"]
        == "running" and r, what="the execution to start")

    _redeliver(record)  # the other echo-agent instance is idle and takes it

    stack.wait_until(lambda: _dropped(stack, execution_id, "running"),
                     what="the duplicate to be dropped")
    assert api.wait_for_status(execution_id)["status"] == "succeeded"
    assert redis_client.get(key) == b"1"
