"""queue_limit / running_limit: a node's registered limits, else the configured defaults."""

from dataclasses import replace

import pytest

from app.errors import AgentNotFound, InvalidField
from app.nodes.cache import load_node
from app.nodes.limits import queue_limit, running_limit
from app.nodes.registration import register_node


@pytest.fixture
def config(config):
    """Global defaults that differ from every node's own limits below."""
    return replace(config, max_queued=7, max_running=5)


def test_a_node_s_own_limits_win_over_the_defaults(register):
    node_id = register(limits={"max_queued": 3, "max_running": 2})

    assert (queue_limit(node_id), running_limit(node_id)) == (3, 2)


def test_a_node_without_limits_gets_the_configured_defaults(register):
    node_id = register()

    assert (queue_limit(node_id), running_limit(node_id)) == (7, 5)


def test_each_limit_falls_back_on_its_own(register):
    node_id = register(limits={"max_running": 1})

    assert (queue_limit(node_id), running_limit(node_id)) == (7, 1)


def test_limits_are_stored_with_their_types(register):
    node_id = register(limits={"max_queued": 50, "circuit_failure_rate": 1,
                               "circuit_min_calls": 4, "circuit_cooldown_seconds": 2})

    assert load_node(node_id)["limits"] == {
        "max_queued": 50, "circuit_failure_rate": 1.0, "circuit_min_calls": 4,
        "circuit_cooldown_seconds": 2.0}
    assert isinstance(load_node(node_id)["limits"]["circuit_failure_rate"], float)


@pytest.mark.parametrize("limits, message, details", [
    ([1], "'limits' must be an object", {"field": "limits"}),
    ({"max_parallel": 1}, "unknown limits ['max_parallel']", {
        "field": "limits", "allowed": ["circuit_cooldown_seconds", "circuit_failure_rate",
                                       "circuit_min_calls", "max_queued",
                                       "max_queued_seconds", "max_running"]}),
    ({"max_queued": 0}, "'limits.max_queued' must be a positive integer",
     {"field": "limits.max_queued"}),
    ({"max_running": 1.5}, "'limits.max_running' must be a positive integer",
     {"field": "limits.max_running"}),
    ({"max_queued": True}, "'limits.max_queued' must be a positive integer",
     {"field": "limits.max_queued"}),
    ({"circuit_failure_rate": 1.5}, "'limits.circuit_failure_rate' must be a number in (0, 1]",
     {"field": "limits.circuit_failure_rate"}),
    ({"circuit_cooldown_seconds": "60"},
     "'limits.circuit_cooldown_seconds' must be a positive number of seconds",
     {"field": "limits.circuit_cooldown_seconds"}),
])
def test_bad_limits_refuse_the_registration(ctx, limits, message, details):
    node_id = "inproc-bad-limits"

    with pytest.raises(InvalidField) as raised:
        register_node({"id": node_id, "reasoners": [{"id": "plan"}], "limits": limits})

    assert (str(raised.value), raised.value.details) == (message, details)
    with pytest.raises(AgentNotFound):
        load_node(node_id)
