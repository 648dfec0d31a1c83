"""Every JSON shape of an execution row: API answers, the agent's message, the webhook."""

from app.models.types import isoformat, utcnow
from app.status import SUCCEEDED

WEBHOOK_EVENTS = {"succeeded": "execution.completed", "failed": "execution.failed",
                  "cancelled": "execution.cancelled", "timeout": "execution.timeout"}


def _target(row: dict) -> str:
    return f"{row['agent_node_id']}.{row['reasoner_id']}"


def status_view(row: dict) -> dict:
    """Render a row as ``GET /api/v1/executions/{id}`` answers it."""
    return {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "workflow_id": row["run_id"],
        "parent_execution_id": row["parent_execution_id"],
        "node_id": row["agent_node_id"],
        "agent_node_id": row["agent_node_id"],
        "reasoner_id": row["reasoner_id"],
        "target": _target(row),
        "type": row["type"],
        "status": row["status"],
        "input": row["input_payload"],
        "result": row["result_payload"],
        "error": row["error_message"],
        "error_type": row["error_type"],
        "session_id": row["session_id"],
        "actor_id": row["actor_id"],
        "attempt": row["attempt"],
        "attempts": row.get("attempt_log") or [],
        "created_at": isoformat(row["created_at"]),
        "started_at": isoformat(row["started_at"]),
        "completed_at": isoformat(row["completed_at"]),
        "duration_ms": row["duration_ms"],
        "webhook_registered": bool(row.get("has_webhook")),
    }


def sync_view(row: dict) -> dict:
    """Render a row as the sync execute endpoint answers it (AgentField's shape)."""
    body = {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "status": row["status"],
        "result": row["result_payload"],
        "duration_ms": row["duration_ms"],
        "finished_at": isoformat(row["completed_at"]),
    }
    if row["error_message"] is not None:
        body["error_message"] = row["error_message"]
        body["error_type"] = row["error_type"]
    if row.get("has_webhook"):
        body["webhook_registered"] = True
    return body


def accepted_view(row: dict) -> dict:
    """Render a row as the async execute endpoint answers it (202)."""
    created = isoformat(row["created_at"])
    return {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "workflow_id": row["run_id"],
        "status": row["status"],
        "target": _target(row),
        "type": row["type"],
        "created_at": created,
        "enqueued_at": created,
        "webhook_registered": bool(row.get("has_webhook")),
        **({"webhook_error": row["webhook_error"]} if row.get("webhook_error") else {}),
    }


def agent_message(row: dict) -> dict:
    """Build the message an agent worker receives (agent_sdk/protocol.py parses it)."""
    return {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "workflow_id": row["run_id"],
        "parent_execution_id": row["parent_execution_id"],
        "session_id": row["session_id"],
        "actor_id": row["actor_id"],
        "node_id": row["agent_node_id"],
        "function": row["reasoner_id"],
        "type": row["type"],
        "input": row["input_payload"],
        "context": row["context"],
    }


def webhook_payload(row: dict) -> dict:
    """The body announcing an execution's end (AgentField's fields, in its order)."""
    payload = {
        "event": WEBHOOK_EVENTS.get(row["status"], "execution.failed"),
        "execution_id": row["execution_id"],
        "workflow_id": row["run_id"],
        "status": row["status"],
        "target": _target(row),
        "type": row["type"],
    }
    if row["duration_ms"] is not None:
        payload["duration_ms"] = row["duration_ms"]
    if row["status"] == SUCCEEDED:
        if row["result_payload"] is not None:
            payload["result"] = row["result_payload"]
    elif row["error_message"] is not None:
        payload["error_message"] = row["error_message"]
    payload["timestamp"] = isoformat(row["completed_at"] or utcnow())
    return payload
