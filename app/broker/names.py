"""Queue names and task names: what the control plane and its workers agree on."""

import re

CONTROL_QUEUE = "control"
# Webhook deliveries wait on other people's servers: a queue and a worker of their own,
# so that sweeps and recovery on ``control`` never queue behind a slow receiver.
WEBHOOKS_QUEUE = "webhooks"
AGENT_QUEUE_PREFIX = "agent."
# The task an agent worker runs for every execution; agent_sdk/protocol.py names it too.
EXECUTE_TASK = "agentfield.execute"
# Run by the webhooks worker when an execution with a webhook ends.
DELIVER_WEBHOOK_TASK = "agentfield.deliver_webhook"
# Control-plane housekeeping, scheduled by beat on the control queue.
SWEEP_NODE_HEALTH_TASK = "tasks.sweep_node_health"
RECOVER_STUCK_TASK = "tasks.recover_stuck_executions"
SWEEP_WEBHOOKS_TASK = "tasks.sweep_webhooks"
ISSUE_MISSING_CREDENTIALS_TASK = "tasks.issue_missing_credentials"
PURGE_EXPIRED_TASK = "tasks.purge_expired"

# Matched whole (fullmatch): match() with "$" let "agent" + newline pass as a lookalike.
NODE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}")
# A reasoner's or skill's id: a Python name fits, and "." stays the target separator.
FUNCTION_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,127}")


def is_valid_node_id(node_id: str) -> bool:
    """Tell whether a node id can name a queue (letters, digits, '-' and '_')."""
    return isinstance(node_id, str) and NODE_ID_RE.fullmatch(node_id) is not None


def is_valid_function_id(function_id: str) -> bool:
    """Tell whether a reasoner or skill id is 1-128 letters, digits, '_' or '-'."""
    return isinstance(function_id, str) and FUNCTION_ID_RE.fullmatch(function_id) is not None


def queue_for(node_id: str) -> str:
    """Return the Celery queue an agent node consumes: ``agent.<node_id>``."""
    if not is_valid_node_id(node_id):
        raise ValueError(f"invalid node id for a queue: {node_id!r}")
    return AGENT_QUEUE_PREFIX + node_id
