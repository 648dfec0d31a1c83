"""Circuit breaking per node: failures and a missing worker open it; a probe closes it."""

import time

import pytest
import requests

from app.nodes.circuits import CLOSED_CACHE_SECONDS


@pytest.fixture(scope="module")
def breaker(stack, api):
    stack.start_agent("breaker-agent", "tests/agents/breaker_agent.py")
    stack.wait_until(lambda: _node(api)["circuit"]["state"] == "closed"
                     and _node(api)["health_status"] == "active", what="breaker-agent")
    yield stack
    if "breaker-agent" in stack.processes:
        stack.stop("breaker-agent")


def _node(api) -> dict:
    response = api.get("/api/v1/nodes/breaker-agent")
    return response.json() if response.ok else {"circuit": {"state": None}, "health_status": None}


def _call(api, fail=False, **kwargs) -> requests.Response:
    return api.post("/api/v1/execute/breaker-agent.work", json={"input": {"fail": fail}},
                    **kwargs)


def test_failures_open_the_circuit_and_a_successful_probe_closes_it(api, breaker):
    for _ in range(4):
        assert _call(api, fail=True).json()["status"] == "failed"
    time.sleep(CLOSED_CACHE_SECONDS)  # every web process has seen the opening

    refused = _call(api)
    assert refused.status_code == 503
    assert refused.json()["error"] == "agent_unavailable"
    assert int(refused.headers["Retry-After"]) >= 1 and refused.json()["retry_after"] >= 1
    circuit = _node(api)["circuit"]
    assert (circuit["state"], circuit["reason"]) == ("open", "failure_rate")
    assert circuit["recent_failures"] == 4 and circuit["min_calls"] == 4

    time.sleep(1.8)  # the node's cool-down
    probe = _call(api, fail=True)  # half-open: one probe goes through, and fails
    assert probe.status_code == 200 and probe.json()["status"] == "failed", probe.text
    assert _call(api).status_code == 503  # reopened (a half-open circuit is never cached)
    time.sleep(1.8)
    assert _call(api).json()["status"] == "succeeded"  # the probe that closes it
    assert _node(api)["circuit"]["state"] == "closed"
    assert _call(api).status_code == 200


def test_a_call_admitted_before_the_opening_was_seen_does_not_close_it(api, breaker):
    for _ in range(4):
        _call(api, fail=True)
    # Whatever a stale process admits in the next half second succeeds, and is ignored.
    for _ in range(3):
        _call(api)
    time.sleep(CLOSED_CACHE_SECONDS)
    assert _node(api)["circuit"]["state"] == "open" and _call(api).status_code == 503
    time.sleep(1.8)
    assert _call(api).json()["status"] == "succeeded"  # the probe
    assert _node(api)["circuit"]["state"] == "closed"


def test_only_one_probe_goes_through_while_half_open(api, breaker):
    for _ in range(4):
        _call(api, fail=True)
    time.sleep(1.8)
    probe = api.post("/api/v1/execute/async/breaker-agent.work",
                     json={"input": {"seconds": 0.5}})
    assert probe.status_code == 202
    assert _call(api).status_code == 503  # the probe has not answered yet
    assert api.wait_for_status(probe.json()["execution_id"])["status"] == "succeeded"
    assert _call(api).status_code == 200


def test_stopping_every_instance_opens_the_circuit_and_queued_work_drains_after(
        api, breaker):
    breaker.stop("breaker-agent")
    breaker.wait_until(lambda: _call(api).status_code == 503, timeout=15,
                       what="the circuit to open")
    started = time.monotonic()
    refused = _call(api)
    assert time.monotonic() - started < 0.5  # fails fast, nothing waits on the queue
    assert refused.json()["details"]["reason"] == "no_live_worker"
    assert _node(api)["circuit"]["state"] == "open"

    waiting = [api.post("/api/v1/execute/async/breaker-agent.work", json={"input": {"fail": False}},
                        headers={"X-Queue-If-Unavailable": "true"}) for _ in range(5)]
    assert [r.status_code for r in waiting] == [202] * 5

    breaker.start_agent("breaker-agent", "tests/agents/breaker_agent.py")
    for accepted in waiting:
        done = api.wait_for_status(accepted.json()["execution_id"], timeout=30)
        assert done["status"] == "succeeded"
    breaker.wait_until(lambda: _node(api)["circuit"]["state"] == "closed", timeout=10,
                       what="the circuit to close")
    assert _call(api).status_code == 200
