"""Sync and async execute through the control plane and real Celery workers."""

import re

ID_RE = re.compile(r"^exec_\d{8}_\d{6}_[a-z0-9]{8}$")
RUN_RE = re.compile(r"^run_\d{8}_\d{6}_[a-z0-9]{8}$")


def test_sync_execute_returns_the_result(api):
    response = api.execute("sentiment-agent.analyze", {"text": "I love it, thanks"})

    assert response.status_code == 200
    body = response.json()
    assert ID_RE.match(body["execution_id"]) and RUN_RE.match(body["run_id"])
    assert response.headers["X-Execution-ID"] == body["execution_id"]
    assert response.headers["X-Run-ID"] == body["run_id"]
    assert body == {
        "execution_id": body["execution_id"],
        "run_id": body["run_id"],
        "status": "succeeded",
        "result": {"label": "positive", "score": 2},
        "duration_ms": body["duration_ms"],
        "finished_at": body["finished_at"],
    }
    assert isinstance(body["duration_ms"], int) and body["finished_at"].endswith("Z")


def test_async_execute_answers_202_then_succeeds(api):
    response = api.post("/api/v1/execute/async/sentiment-agent.analyze",
                        json={"input": {"text": "worst crash ever"}})

    assert response.status_code == 202
    body = response.json()
    assert body == {
        "execution_id": body["execution_id"],
        "run_id": body["run_id"],
        "workflow_id": body["run_id"],
        "status": "queued",
        "target": "sentiment-agent.analyze",
        "type": "skill",
        "created_at": body["created_at"],
        "enqueued_at": body["created_at"],
        "webhook_registered": False,
    }
    assert response.headers["X-Execution-ID"] == body["execution_id"]
    done = api.wait_for_status(body["execution_id"])
    assert done["status"] == "succeeded"
    assert done["result"] == {"label": "negative", "score": -2}
    assert done["input"] == {"text": "worst crash ever"}
    assert done["started_at"] and done["completed_at"] and done["duration_ms"] >= 0


def test_context_headers_are_stored_and_reach_the_agent(api):
    headers = {"X-Run-ID": "run_custom_1", "X-Session-ID": "sess-1", "X-Actor-ID": "team-a"}
    response = api.execute("echo-agent.echo", {"text": "hi"}, headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["run_id"] == "run_custom_1"
    result = body["result"]
    assert result["run_id"] == "run_custom_1"
    assert (result["session_id"], result["actor_id"]) == ("sess-1", "team-a")
    assert result["execution_id"] == body["execution_id"]
    record = api.get(f"/api/v1/executions/{body['execution_id']}").json()
    assert (record["session_id"], record["actor_id"], record["run_id"]) == (
        "sess-1", "team-a", "run_custom_1")


def test_parent_header_makes_a_child(api):
    parent = api.execute("echo-agent.noop", {"value": 1}).json()
    child = api.execute("echo-agent.noop", {"value": 2}, headers={
        "X-Run-ID": parent["run_id"], "X-Parent-Execution-ID": parent["execution_id"]}).json()

    record = api.get(f"/api/v1/executions/{child['execution_id']}").json()
    assert record["parent_execution_id"] == parent["execution_id"]
    assert record["run_id"] == parent["run_id"]


def test_typed_pydantic_input_is_validated_and_used(api):
    response = api.execute("echo-agent.total", {"order": {"sku": "A1", "quantity": 4}})

    assert response.json()["result"] == {"sku": "A1", "total": 12}


def test_failing_reasoner_gives_a_failed_execution_not_a_500(api):
    response = api.execute("echo-agent.explode", {"message": "kaboom"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["error_message"] == "kaboom"
    assert body["error_type"] == "ValueError"
    assert body["result"] is None
    record = api.get(f"/api/v1/executions/{body['execution_id']}").json()
    assert (record["status"], record["error"], record["error_type"]) == (
        "failed", "kaboom", "ValueError")


def test_sync_wait_that_runs_out_still_returns_the_execution_id(api, redis_client):
    response = api.execute("echo-agent.sleepy", {"seconds": 1.5, "key": "sleepy-timeout"},
                           headers={"X-Sync-Timeout": "0.3"})

    assert response.status_code == 202
    body = response.json()
    assert body["error"] == "sync_wait_timeout"
    assert body["status"] in ("queued", "running")
    assert response.headers["X-Execution-ID"] == body["execution_id"]
    # The execution goes on and finishes by itself.
    done = api.wait_for_status(body["execution_id"])
    assert done["status"] == "succeeded" and done["result"] == {"slept": 1.5}
    assert redis_client.get("sleepy-timeout") == b"1"


def test_a_slow_execution_shows_running_while_it_runs(api):
    accepted = api.post("/api/v1/execute/async/echo-agent.sleepy",
                        json={"input": {"seconds": 1.2}}).json()

    def running():
        status = api.get(f"/api/v1/executions/{accepted['execution_id']}").json()
        return status["status"] == "running" and status

    import time
    deadline = time.monotonic() + 5
    seen = None
    while time.monotonic() < deadline and not seen:
        seen = running()
        time.sleep(0.05)
    assert seen and seen["started_at"] and seen["attempt"] == 1
    assert api.wait_for_status(accepted["execution_id"])["status"] == "succeeded"
