"""Submit an execution: check the target and input, admit it, record it, dispatch it."""

import logging

import orjson

from app.auth.guard import require
from app.auth.principal import Principal
from app.errors import (
    Conflict,
    EnqueueFailed,
    ExecutionNotFound,
    InputTooLarge,
    InvalidHeader,
    InvalidInput,
    InvalidTarget,
)
from app.executions import lifecycle, store
from app.executions.admission import admit, queue_anyway
from app.executions.dispatchers import DispatchFailed, dispatcher_for
from app.executions.idempotency import fingerprint, insert_or_replay, read_key
from app.extensions import get_config
from app.ids import new_id
from app.models.types import utcnow
from app.nodes.cache import resolve_function
from app.schemas import validate_input
from app.status import FAILED, QUEUED, RUNNING, TERMINAL
from app.webhooks import store as webhook_store
from app.webhooks.validation import InvalidWebhook, parse_webhook

log = logging.getLogger(__name__)

class ParentFinished(Conflict):
    """Raised when an inline child names a parent execution that has already ended."""

    code = "parent_finished"


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


def submit_execution(target: str, body: dict, headers, mode: str,
                     principal: Principal) -> dict:
    """Validate, write the row (committed), then enqueue it; return the row.

    ``mode`` is "sync" or "async"; a body with ``"dispatch": "inline"`` records an
    execution that the calling agent runs itself (same-node calls), so nothing is queued.

    Raises:
        InsufficientScope: the key may not run this node's functions, or names a parent
            or run that is not its own.
    """
    node_id, function = parse_target(target)
    require(principal.grants.executes(node_id), f"execute:{node_id}",
            f"this key may not run node '{node_id}''s functions")
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
    run_id, owner = lineage(principal, node_id, headers, inline)
    if not inline:
        admit(node_id, queue_anyway(body, headers))
    row = _new_row(node_id, function, kind, data, body, headers, "inline" if inline else mode)
    row.update(run_id=run_id or row["run_id"], key_id=principal.key_id, owner_key_id=owner)
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


def lineage(principal: Principal, node_id: str, headers,
            inline: bool) -> tuple[str | None, str | None]:
    """Check the parent and run a submission names; return its run id and owner key.

    A child (``X-Parent-Execution-ID``) is submitted by the node that runs its parent
    (or an admin), joins the parent's run and belongs to the run's owner. An inline
    child is, moreover, of the same node as its parent, which has not ended. A root
    may name a run (``X-Run-ID``) only if that run is new or its own.

    Raises:
        InvalidHeader: no such parent, or a run that is not the parent's.
        InsufficientScope: someone else's parent or run.
        ParentFinished: an inline child of an execution that has ended.
    """
    parent_id = headers.get("X-Parent-Execution-ID") or None
    run_id = headers.get("X-Run-ID") or None
    if parent_id is None:
        if inline:
            raise InvalidHeader("'dispatch': 'inline' records a child of a running "
                                "execution: send X-Parent-Execution-ID",
                                {"field": "X-Parent-Execution-ID"})
        if run_id and not principal.grants.admin:
            root = store.run_root(run_id)
            require(root is None or principal.owns(root), "admin",
                    f"run '{run_id}' was started by another key")
        return run_id, principal.key_id
    if principal.key_id is None and not inline:
        return run_id, None  # authentication is off: the headers are taken as sent
    parent = _parent(parent_id)
    require(principal.acts_as(parent["agent_node_id"]), f"node:{parent['agent_node_id']}",
            "only the node running the parent execution may submit its children")
    if run_id and run_id != parent["run_id"]:
        raise InvalidHeader(f"X-Run-ID '{run_id}' is not the run of the parent execution",
                            {"field": "X-Run-ID"})
    if inline:
        require(principal.acts_as(node_id) and parent["agent_node_id"] == node_id,
                f"node:{node_id}", "an inline child runs on its parent's own node")
        if parent["status"] in TERMINAL:
            raise ParentFinished(f"parent execution '{parent_id}' has ended "
                                 f"({parent['status']})", {"field": "X-Parent-Execution-ID"})
    return parent["run_id"], parent["owner_key_id"] or parent["key_id"]


def _parent(parent_id: str) -> dict:
    try:
        return store.fetch_execution(parent_id)
    except ExecutionNotFound:
        raise InvalidHeader(f"X-Parent-Execution-ID names no execution ('{parent_id}')",
                            {"field": "X-Parent-Execution-ID"}) from None


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
        }, reporter=lifecycle.CONTROL_PLANE)
        raise EnqueueFailed(message, {"execution_id": row["execution_id"]}) from None
