"""Poisoned entries on the running stack's report stream stop no consumer."""

import uuid

import orjson

from tests.conftest import NAMESPACE, signed

STREAM, DEAD = f"{NAMESPACE}:reports", f"{NAMESPACE}:reports:dead"


def _queued_execution(api) -> str:
    """An execution on a node with no worker: it stays queued until a report arrives."""
    node_id = f"idle-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    return api.post(f"/api/v1/execute/async/{node_id}.plan",
                    json={"input": {"goal": "x"}}).json()["execution_id"]


def test_poisoned_reports_end_their_execution_or_are_set_aside(api, stack, redis_client):
    # Given poison for every consumer of the stack (two web workers, the control worker)
    nul_value, nul_key, huge = (_queued_execution(api) for _ in range(3))
    dead_before = api.get("/api/v1/health").json()["reports"]["dead_letters"]
    for _ in range(3):
        redis_client.xadd(STREAM, {"report": b'{"status":"succeeded"}'})
        redis_client.xadd(STREAM, {"execution_id": nul_value, "report": b"\x00\xff"})
    # (signed as the stack's agents sign: what sets these apart is their content)
    redis_client.xadd(STREAM, signed({"execution_id": nul_value, "report": orjson.dumps(
        {"status": "succeeded", "result": {"text": "a\x00b"}})}))
    redis_client.xadd(STREAM, signed({"execution_id": nul_key, "report": orjson.dumps(
        {"status": "succeeded", "result": {"\x00": 1}})}))
    redis_client.xadd(STREAM, signed({"execution_id": huge, "report": orjson.dumps(
        {"status": "succeeded", "result": 1, "duration_ms": 1e300})}))

    # Then the poisoned executions end failed, saying why
    ended = [api.wait_for_status(e, timeout=15) for e in (nul_value, nul_key, huge)]
    assert [(e["status"], e["error_type"]) for e in ended] == [
        ("failed", "result_not_storable"), ("failed", "result_not_storable"),
        ("failed", "invalid_report")]
    # and the rest is set aside, counted where an operator looks
    stack.wait_until(lambda: redis_client.xlen(STREAM) == 0, what="the stream to drain")
    health = api.get("/api/v1/health").json()
    assert health["reports"]["dead_letters"] == dead_before + 6
    assert redis_client.xlen(DEAD) == dead_before + 6
    # and every consumer still works: sync calls keep finishing
    for n in range(6):
        response = api.execute("echo-agent.noop", {"value": n})
        assert response.status_code == 200 and response.json()["result"] == {"value": n}
    logs = stack.log("web") + stack.log("control")
    assert "Exception in thread report-consumer" not in logs
    assert "report consumer failed" not in logs
