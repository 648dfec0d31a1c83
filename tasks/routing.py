"""Queue names and the task names shared with agent workers (the wire contract)."""

import re

CONTROL_QUEUE = "control"
# The task an agent worker runs for every execution; agent_sdk registers the same name.
EXECUTE_TASK = "agentfield.execute"
# Run by the control worker when an execution with a webhook ends.
DELIVER_WEBHOOK_TASK = "agentfield.deliver_webhook"
_NODE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")


def is_valid_node_id(node_id: str) -> bool:
    """Tell whether a node id can name a queue (letters, digits, '-' and '_')."""
    return bool(_NODE_ID_RE.match(node_id or ""))


def queue_for(node_id: str) -> str:
    """Return the Celery queue an agent node consumes: ``agent.<node_id>``."""
    if not is_valid_node_id(node_id):
        raise ValueError(f"invalid node id for a queue: {node_id!r}")
    return f"agent.{node_id}"
