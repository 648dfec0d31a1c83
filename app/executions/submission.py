"""Submit an execution: check the target and input, admit it, record it, dispatch it."""

import logging

import orjson

from app.errors import EnqueueFailed, InputTooLarge, InvalidHeader, InvalidInput, InvalidTarget
from app.executions import lifecycle, store
from app.executions.admission import admit, queue_anyway
from app.executions.dispatchers import DispatchFailed, dispatcher_for
from app.executions.idempotency import fingerprint, insert_or_replay, read_key
from app.extensions import get_config
from app.ids import new_id
from app.models.types import utcnow
from app.nodes.cache import resolve_function
from app.schemas import validate_input
from app.status import FAILED, QUEUED, RUNNING
from app.webhooks import store as webhook_store
from app.webhooks.validation import InvalidWebhook, parse_webhook

log = logging.getLogger(__name__)

# The context headers we store, and their column lengths (app/models/execution.py).
CONTEXT_HEADERS = {"X-Run-ID": 128, "X-Parent-Execution-ID": 64, "X-Session-ID": 128,
                   "X-Actor-ID": 128, "Idempotency-Key": 255}


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
    check_context_headers(headers)
    data = body.get("input")
    if not isinstance(data, dict) or not data:
        raise InvalidInput("'input' is required and must be a non-empty JSON object",
                           {"field": "input"})
    check_input_size(data)
    kind, validator = resolve_function(node_id, function)
    validate_input(validator, data, target)
    key = read_key(headers)
    inline = body.get("dispatch") == "inline"
    if not inline:
        admit(node_id, queue_anyway(body, headers))
    row = _new_row(node_id, function, kind, data, body, headers, "inline" if inline else mode)
    webhook, webhook_error = (None, None) if inline else _webhook_request(body)
    if webhook is not None:
        # Stored first: a finished execution must find its webhook. An orphan left by
        # a crash in between is never read (deliveries join on the execution).
        webhook_store.register(row["execution_id"], webhook)
        row["has_webhook"] = True
    if key is None:
        store.insert_execution(row)
    else:
        row.update(idempotency_key=key, request_fingerprint=fingerprint(target, body))
        original = insert_or_replay(row)
        if original is not None:
            if webhook is not None:
                webhook_store.discard(row["execution_id"])
            return {**original, "replayed": True}
    if not inline:
        _dispatch(row)
    if webhook_error:
        row["webhook_error"] = webhook_error
    return row


def check_context_headers(headers) -> None:
    """Refuse a context header longer than its column or not printable ASCII.

    Raises:
        InvalidHeader: naming the header (an empty one counts as absent).
    """
    for name, limit in CONTEXT_HEADERS.items():
        value = headers.get(name)
        if value and not (len(value) <= limit and value.isascii() and value.isprintable()):
            raise InvalidHeader(f"'{name}' must be 1 to {limit} printable ASCII characters",
                                {"field": name})


def check_input_size(data: dict) -> None:
    """Refuse an input whose JSON is over ``AGENTFIELD_MAX_INPUT_BYTES``.

    Raises:
        InputTooLarge: with the size and the limit.
    """
    limit = get_config().max_input_bytes
    size = len(orjson.dumps(data))
    if size > limit:
        raise InputTooLarge(f"'input' is {size} bytes as JSON (at most {limit}, "
                            f"AGENTFIELD_MAX_INPUT_BYTES)",
                            {"field": "input", "size": size, "max_bytes": limit})


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


def _dispatch(row: dict) -> None:
    """Hand the row to its node; when that fails, end it ``failed`` and answer 503."""
    try:
        dispatcher_for(row["agent_node_id"]).dispatch(row)
    except DispatchFailed as exc:
        message = str(exc)
        log.error("execution %s: %s", row["execution_id"], message)
        lifecycle.finish(row["execution_id"], {
            "status": FAILED, "error_message": message, "error_type": "enqueue_failed",
            "completed_at": utcnow(),
        })
        raise EnqueueFailed(message, {"execution_id": row["execution_id"]}) from None
