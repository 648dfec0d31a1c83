"""Per-node limits: read from a registration's ``limits``, defaulted from the config."""

from app.errors import AgentNotFound, InvalidField
from app.extensions import get_config
from app.nodes.cache import load_node

# Our extension of the registration body: ``"limits": {...}``, each optional.
LIMITS = {
    "max_queued": (int, 1, None, "a positive integer"),
    "max_running": (int, 1, None, "a positive integer"),
    "circuit_failure_rate": (float, 0.01, 1.0, "a number in (0, 1]"),
    "circuit_min_calls": (int, 1, None, "a positive integer"),
    "circuit_cooldown_seconds": (float, 0.1, None, "a positive number of seconds"),
    "max_queued_seconds": (float, 1.0, None, "a number of seconds >= 1"),
}


def parse_limits(body: dict) -> dict:
    """Read the node's own limits; any left out fall back to the global defaults."""
    limits = body.get("limits") or {}
    if not isinstance(limits, dict):
        raise InvalidField("'limits' must be an object", {"field": "limits"})
    unknown = sorted(set(limits) - set(LIMITS))
    if unknown:
        raise InvalidField(f"unknown limits {unknown}", {"field": "limits",
                                                         "allowed": sorted(LIMITS)})
    parsed = {}
    for name, (kind, low, high, what) in LIMITS.items():
        value = limits.get(name)
        if value is None:
            continue
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int:
            number_ok = number_ok and isinstance(value, int)
        if not number_ok or value < low or (high is not None and value > high):
            raise InvalidField(f"'limits.{name}' must be {what}", {"field": f"limits.{name}"})
        parsed[name] = kind(value)
    return parsed


def queue_limit(node_id: str) -> int:
    """The node's queued-depth limit, else the global default (0: none)."""
    return load_node(node_id)["limits"].get("max_queued") or get_config().max_queued


def running_limit(node_id: str) -> int:
    """The node's running-concurrency limit, else the global default (0: none)."""
    return load_node(node_id)["limits"].get("max_running") or get_config().max_running


def queued_age_limit(node_id: str) -> float:
    """How long the node's executions may wait in its queue (0: forever).

    The node's own limit, else ``AGENTFIELD_MAX_QUEUED_SECONDS``; a node no longer
    registered gets the global one.
    """
    try:
        own = load_node(node_id)["limits"].get("max_queued_seconds")
    except AgentNotFound:
        own = None
    return own or get_config().max_queued_seconds
