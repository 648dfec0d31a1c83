"""Run an execution: record it, enqueue it on the agent's queue, signal and await its end."""

import logging
import time

import orjson
import redis

from app import circuits, records
from app.credentials import issue_safely
from app.errors import AgentBusy, EnqueueFailed, InvalidInput, InvalidTarget, QueueFull
from app.extensions import get_blocking_redis, get_config, get_redis
from app.idempotency import fingerprint, insert_or_replay, read_key
from app.ids import new_id
from app.models.types import utcnow
from app.registry import queue_limit, resolve_function, running_limit
from app.schemas import validate_input
from app.status import FAILED, QUEUED, RUNNING, TERMINAL
from app.webhooks import store as webhook_store
from app.webhooks.trigger import enqueue_delivery
from app.webhooks.validation import InvalidWebhook, parse_webhook
from tasks.publish import publish_task
from tasks.routing import queue_for

log = logging.getLogger(__name__)


def parse_target(target: str) -> tuple[str, str]:
    """Split ``node.function``; both parts are required."""
    node_id, dot, function = target.partition(".")
    if not dot or not node_id or not function or "." in function:
        raise InvalidTarget(
            f"invalid target '{target}': use the form 'node_id.function_name'",
            {"target": target},
        )
    return node_id, function


def submit_execution(target: str, body: dict, headers, mode: str) -> dict:
    """Validate, write the row (committed), then enqueue it; return the row.

    ``mode`` is "sync" or "async"; a body with ``"dispatch": "inline"`` records an
    execution that the calling agent runs itself (same-node calls), so nothing is queued.
    """
    node_id, function = parse_target(target)
    data = body.get("input")
    if not isinstance(data, dict) or not data:
        raise InvalidInput("'input' is required and must be a non-empty JSON object",
                           {"field": "input"})
    kind, validator = resolve_function(node_id, function)
    validate_input(validator, data, target)
    key = read_key(headers)
    inline = body.get("dispatch") == "inline"
    if not inline:
        _admit(node_id, _queue_anyway(body, headers))
    row = _new_row(node_id, function, kind, data, body, headers, "inline" if inline else mode)
    webhook, webhook_error = (None, None) if inline else _webhook_request(body)
    if webhook is not None:
        # Stored first: a finished execution must find its webhook. An orphan left by
        # a crash in between is never read (deliveries join on the execution).
        webhook_store.register(row["execution_id"], webhook)
        row["has_webhook"] = True
    if key is None:
        records.insert_execution(row)
    else:
        row.update(idempotency_key=key, request_fingerprint=fingerprint(target, body))
        original = insert_or_replay(row)
        if original is not None:
            if webhook is not None:
                webhook_store.discard(row["execution_id"])
            return {**original, "replayed": True}
    if not inline:
        _enqueue(row)
    if webhook_error:
        row["webhook_error"] = webhook_error
    return row


def _webhook_request(body: dict):
    """Return (webhook, None), (None, why it was refused) or (None, None) without one.

    An unacceptable webhook does not fail the request (AgentField's behaviour): the
    execution runs and the answer says ``webhook_registered: false`` and why.
    """
    raw = body.get("webhook")
    if raw is None:
        return None, None
    try:
        return parse_webhook(raw, get_config().webhook_allow_private), None
    except InvalidWebhook as exc:
        return None, str(exc)


def _queue_anyway(body: dict, headers) -> bool:
    """The caller accepts waiting for an unavailable agent (async work that can wait)."""
    flag = headers.get("X-Queue-If-Unavailable") or body.get("queue_if_unavailable")
    return str(flag).lower() in ("1", "true", "yes")


def _admit(node_id: str, queue_anyway: bool) -> None:
    """Refuse, writing nothing: 503 while the node's circuit is open, 429 over a limit."""
    circuits.admit(node_id, queue_anyway)
    limit = queue_limit(node_id)
    if limit:
        queued = get_redis().llen(queue_for(node_id))
        if queued >= limit:
            raise QueueFull(f"agent '{node_id}' has {queued} executions waiting (limit "
                            f"{limit}); retry later",
                            {"node_id": node_id, "queued": queued, "limit": limit})
    limit = running_limit(node_id)
    if limit:
        running = records.count_running(node_id)
        if running >= limit:
            raise AgentBusy(f"agent '{node_id}' is running {running} executions (limit "
                            f"{limit}); retry later",
                            {"node_id": node_id, "running": running, "limit": limit})


def _new_row(node_id, function, kind, data, body, headers, mode) -> dict:
    now = utcnow()
    context = body.get("context") if isinstance(body.get("context"), dict) else None
    inline = mode == "inline"
    return {
        "execution_id": new_id("exec"),
        "run_id": headers.get("X-Run-ID") or new_id("run"),
        "parent_execution_id": headers.get("X-Parent-Execution-ID") or None,
        "agent_node_id": node_id,
        "reasoner_id": function,
        "type": kind,
        "status": RUNNING if inline else QUEUED,
        "mode": mode,
        "input_payload": data,
        "context": context,
        "session_id": headers.get("X-Session-ID") or None,
        "actor_id": headers.get("X-Actor-ID") or None,
        "attempt": 1 if inline else 0,
        "created_at": now,
        "started_at": now if inline else None,
        "updated_at": now,
        "result_payload": None, "error_message": None, "error_type": None,
        "completed_at": None, "duration_ms": None,
        "idempotency_key": None, "request_fingerprint": None, "has_webhook": False,
    }


def execution_message(row: dict) -> dict:
    """Build the message an agent worker receives (the wire contract with agent_sdk)."""
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


def _enqueue(row: dict) -> None:
    try:
        publish_task(get_redis(), queue_for(row["agent_node_id"]), row["execution_id"],
                     {"message": execution_message(row)})
    except (redis.RedisError, OSError) as exc:
        message = f"could not enqueue on the broker: {exc}"
        log.error("execution %s: %s", row["execution_id"], message)
        records.finish_execution(row["execution_id"], {
            "status": FAILED, "error_message": message, "error_type": "enqueue_failed",
            "completed_at": utcnow(),
        })
        issue_safely(row["execution_id"])
        raise EnqueueFailed(message, {"execution_id": row["execution_id"]}) from None


def done_key(execution_id: str) -> str:
    return f"{get_config().namespace}:done:{execution_id}"


def signal_completion(row: dict) -> None:
    """Announce an end: wake a sync waiter, and start the webhook's delivery if it has one.

    The waiter BLPOPs a list, which survives a waiter that arrives late. A lost webhook
    task is not lost work: the webhook sweep finds the delivery still pending.
    """
    config = get_config()
    pipe = get_redis().pipeline(transaction=False)
    if row.get("mode") == "sync":
        key = done_key(row["execution_id"])
        pipe.lpush(key, orjson.dumps(records.sync_view(row)))
        pipe.expire(key, int(config.sync_timeout) + config.result_signal_ttl)
    if row.get("has_webhook"):
        enqueue_delivery(pipe, row["execution_id"])
    counted = circuits.queue_outcome(pipe, row)
    if len(pipe):
        results = pipe.execute()
        if counted:
            circuits.settle(row, results[-1])


def wait_for_completion(execution_id: str, timeout: float) -> dict | None:
    """Block until the execution ends; return its sync view, or None when time runs out.

    Waits on the Redis completion list in slices and re-reads the row after each
    empty slice, so a lost signal costs at most one slice.
    """
    config = get_config()
    blocking = get_blocking_redis()
    key = done_key(execution_id)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        item = blocking.blpop([key], timeout=max(0.01, min(remaining, config.sync_wait_slice)))
        if item is not None:
            return orjson.loads(item[1])
        row = records.fetch_execution(execution_id)
        if row["status"] in TERMINAL:
            return records.sync_view(row)
    return None


def poll_until_finished(execution_id: str, timeout: float) -> dict | None:
    """Wait for an execution another request started (its signal is not ours to take)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        row = records.fetch_execution(execution_id)
        if row["status"] in TERMINAL:
            return records.sync_view(row)
        if time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
