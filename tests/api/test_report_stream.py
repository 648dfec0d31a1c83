"""Agents report outcomes on the Redis stream; the control plane applies them durably."""

import uuid

import orjson

from tests.conftest import NAMESPACE, signed

STREAM = f"{NAMESPACE}:reports"


def _queued_execution(api) -> dict:
    """An execution on a node with no worker: it stays queued until a report arrives."""
    node_id = f"idle-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    accepted = api.post(f"/api/v1/execute/async/{node_id}.plan",
                        json={"input": {"goal": "x"}}).json()
    assert api.get(f"/api/v1/executions/{accepted['execution_id']}").json()["status"] == "queued"
    return accepted


def _report(execution_id: str, **report) -> dict:
    return signed({"execution_id": execution_id, "report": orjson.dumps(report)})


def test_a_report_on_the_stream_finishes_the_execution(api, stack, redis_client):
    accepted = _queued_execution(api)

    redis_client.xadd(STREAM, _report(accepted["execution_id"], status="succeeded",
                                      result={"plan": [1, 2]}, duration_ms=12))

    done = api.wait_for_status(accepted["execution_id"], timeout=10)
    assert (done["status"], done["result"], done["duration_ms"]) == (
        "succeeded", {"plan": [1, 2]}, 12)
    stack.wait_until(lambda: redis_client.xlen(STREAM) == 0, what="the entry to be deleted")


def test_a_report_taken_by_a_consumer_that_died_is_applied_by_another(api, stack,
                                                                      redis_client):
    accepted = _queued_execution(api)
    # Add the report and read it, in one transaction, as a consumer that then vanishes
    # without acknowledging it: the live consumers never see it as new.
    pipe = redis_client.pipeline(transaction=True)
    pipe.xadd(STREAM, _report(accepted["execution_id"], status="failed",
                              error="model refused", error_type="RefusalError"))
    pipe.xreadgroup("control-plane", "dead-consumer", {STREAM: ">"}, count=10)
    _, delivered = pipe.execute()
    assert delivered[0][1], "the dead consumer holds the entry"

    done = api.wait_for_status(accepted["execution_id"], timeout=15)
    assert (done["status"], done["error"], done["error_type"]) == (
        "failed", "model refused", "RefusalError")
    stack.wait_until(lambda: redis_client.xpending(STREAM, "control-plane")["pending"] == 0,
                     what="no report left pending", timeout=15)


def test_a_malformed_report_is_dropped_without_blocking_the_stream(api, stack, redis_client):
    accepted = _queued_execution(api)

    redis_client.xadd(STREAM, {"execution_id": accepted["execution_id"], "report": b"{nope"})
    redis_client.xadd(STREAM, _report(accepted["execution_id"], status="succeeded",
                                      result={"ok": True}))

    assert api.wait_for_status(accepted["execution_id"], timeout=10)["result"] == {"ok": True}
    # Whichever consumer took it (web or the control worker) says so.
    assert "rejected" in stack.log("web") + stack.log("control")
