"""Circuits: closed -> open (no heartbeat, failure rate) -> half-open probe -> closed."""

import time

import pytest

from app.errors import AgentUnavailable
from app.extensions import get_redis
from app.nodes import circuits
from app.nodes.health import mark_offline

TIGHT = {"circuit_failure_rate": 0.5, "circuit_min_calls": 4, "circuit_cooldown_seconds": 60}


def _outcome(node_id: str, status: str) -> None:
    """Record one finished execution as signal_completion does: queue, execute, settle."""
    row = {"agent_node_id": node_id, "status": status}
    pipe = get_redis().pipeline(transaction=False)
    assert circuits.queue_outcome(pipe, row)
    circuits.settle(row, pipe.execute()[-1])


def _refusal(node_id: str) -> AgentUnavailable:
    with pytest.raises(AgentUnavailable) as raised:
        circuits.admit(node_id)
    return raised.value


def _state(node_id: str) -> dict:
    described = circuits.describe(node_id)
    described.pop("opened_at")
    return described


def test_a_node_without_a_live_worker_is_refused_unless_the_caller_queues_anyway(register):
    node_id = register()
    mark_offline(node_id)

    refused = _refusal(node_id)

    assert (refused.code, refused.status, refused.retry_after) == ("agent_unavailable", 503, 30)
    assert refused.details == {"node_id": node_id, "circuit": "open",
                               "reason": "no_live_worker"}
    assert circuits.admit(node_id, queue_anyway=True) is None


def test_a_live_node_is_admitted_and_its_circuit_is_closed(register):
    node_id = register()

    assert circuits.admit(node_id) is None
    assert _state(node_id) == {"state": "closed", "reason": None, "why": None,
                               "recent_calls": 0, "recent_failures": 0,
                               # the tests' settings (tests/conftest.py SETTINGS)
                               "failure_rate": 1.0, "min_calls": 20,
                               "cooldown_seconds": 30.0}


def test_the_failure_rate_opens_the_circuit_once_enough_calls_are_seen(register):
    node_id = register(limits=TIGHT)
    _outcome(node_id, "succeeded")
    _outcome(node_id, "failed")
    _outcome(node_id, "timeout")
    assert _state(node_id)["state"] == "closed"  # 3 calls: below min_calls

    _outcome(node_id, "failed")

    assert _state(node_id) == {"state": "open", "reason": "failure_rate",
                               "why": "3 of the last 4 executions failed or timed out",
                               "recent_calls": 4, "recent_failures": 3,
                               "failure_rate": 0.5, "min_calls": 4,
                               "cooldown_seconds": 60.0}
    refused = _refusal(node_id)
    assert refused.details == {"node_id": node_id, "circuit": "open",
                               "reason": "failure_rate"}
    assert refused.retry_after == 60


def test_half_open_lets_one_probe_through_and_its_success_closes(register):
    # Given a circuit opened by failures whose cool-down is over
    node_id = register(limits={**TIGHT, "circuit_cooldown_seconds": 0.3})
    for _ in range(4):
        _outcome(node_id, "failed")
    assert _state(node_id)["state"] == "open"
    time.sleep(0.4)

    # When two executions arrive, only the first (the probe) passes
    assert circuits.admit(node_id) is None
    refused = _refusal(node_id)
    assert refused.details == {"node_id": node_id, "circuit": "half_open",
                               "reason": "failure_rate"}
    assert refused.retry_after == 1

    # Then the probe's success closes the circuit and forgets the window
    _outcome(node_id, "succeeded")
    assert _state(node_id) == {"state": "closed", "reason": None, "why": None,
                               "recent_calls": 0, "recent_failures": 0,
                               "failure_rate": 0.5, "min_calls": 4,
                               "cooldown_seconds": 0.3}
    assert circuits.admit(node_id) is None


def test_a_failed_probe_opens_the_circuit_again(register):
    node_id = register(limits={**TIGHT, "circuit_cooldown_seconds": 0.3})
    for _ in range(4):
        _outcome(node_id, "failed")
    time.sleep(0.4)
    assert circuits.admit(node_id) is None  # the probe

    _outcome(node_id, "failed")

    assert _state(node_id) == {"state": "open", "reason": "failure_rate",
                               "why": "the probe execution failed",
                               "recent_calls": 5, "recent_failures": 5,
                               "failure_rate": 0.5, "min_calls": 4,
                               "cooldown_seconds": 0.3}
    assert _refusal(node_id).details["circuit"] == "open"
