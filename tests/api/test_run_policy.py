"""Per-function retries and timeouts: every try is visible on the execution."""

import uuid

import pytest


def test_retryable_failures_are_retried_and_each_try_is_recorded(api, redis_client):
    key = f"flaky-{uuid.uuid4().hex}"

    body = api.execute("echo-agent.flaky", {"key": key, "fail_times": 2}).json()

    assert body["status"] == "succeeded" and body["result"] == {"tries": 3}
    record = api.get(f"/api/v1/executions/{body['execution_id']}").json()
    assert [(a["attempt"], a["error_type"], a["error"]) for a in record["attempts"]] == [
        (1, "ConnectionError", "try 1 failed"), (2, "ConnectionError", "try 2 failed")]


def test_retries_run_out_and_the_execution_fails_listing_every_try(api, redis_client):
    key = f"flaky-{uuid.uuid4().hex}"

    body = api.execute("echo-agent.flaky", {"key": key, "fail_times": 10}).json()

    assert (body["status"], body["error_type"]) == ("failed", "ConnectionError")
    record = api.get(f"/api/v1/executions/{body['execution_id']}").json()
    assert [a["attempt"] for a in record["attempts"]] == [1, 2, 3, 4]
    assert redis_client.get(key) == b"4"


def test_an_error_that_is_not_retryable_is_not_retried(api, redis_client):
    key = f"picky-{uuid.uuid4().hex}"

    body = api.execute("echo-agent.picky", {"key": key}).json()

    assert (body["status"], body["error_type"]) == ("failed", "ValueError")
    assert redis_client.get(key) == b"1"
    assert api.get(f"/api/v1/executions/{body['execution_id']}").json()["attempts"] == []


@pytest.mark.parametrize("target", ["echo-agent.overrun", "echo-agent.overrun_async"])
def test_a_function_past_its_timeout_ends_as_timeout(api, target):
    body = api.execute(target, {"seconds": 2.0}).json()

    assert body["status"] == "timeout"
    assert body["error_type"] == "TimeoutError" and "0.3s" in body["error_message"]
    assert body["duration_ms"] < 1500


def test_unknown_policy_options_are_refused_at_import():
    from agent_sdk import Agent

    with pytest.raises(TypeError, match="unknown options"):
        Agent("unit").reasoner(retires=3)(lambda x: x)
