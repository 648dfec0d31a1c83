"""The wire contract with the control plane, stated once: names, keys, message and report.

The SDK ships alone, so it owns this contract; the control plane's tests import this
module to prove both sides agree. Stdlib only: importing it needs neither Celery nor
pydantic.
"""

import hashlib
import hmac
import re

# -- the queue and the task -----------------------------------------------------------

EXECUTE_TASK = "agentfield.execute"
QUEUE_PREFIX = "agent."
# Both ids are matched whole (fullmatch): "$" alone lets a trailing newline through.
NODE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}"
NODE_ID_RE = re.compile(NODE_ID_PATTERN)
# A reasoner's or skill's id: a Python name fits, and "." stays the target separator.
FUNCTION_ID_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,127}"
FUNCTION_ID_RE = re.compile(FUNCTION_ID_PATTERN)


def is_valid_node_id(node_id: str) -> bool:
    """Tell whether a node id can name a queue (letters, digits, '-' and '_')."""
    return isinstance(node_id, str) and NODE_ID_RE.fullmatch(node_id) is not None


def is_valid_function_id(function_id: str) -> bool:
    """Tell whether a reasoner or skill id is 1-128 letters, digits, '_' or '-'."""
    return isinstance(function_id, str) and FUNCTION_ID_RE.fullmatch(function_id) is not None


def queue_name(node_id: str) -> str:
    """Return the queue a node consumes: ``agent.<node_id>``."""
    return f"{QUEUE_PREFIX}{node_id}"


# -- execution statuses -----------------------------------------------------------------

PENDING = "pending"
QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
TIMEOUT = "timeout"
STATUSES = (PENDING, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMEOUT)
TERMINAL_STATUSES = frozenset({SUCCEEDED, FAILED, CANCELLED, TIMEOUT})

# -- Redis keys, all under one namespace --------------------------------------------------

DEFAULT_NAMESPACE = "af"
# A lease's value once its execution ended: any redelivery of the message is dropped.
LEASE_DONE = b"done"


def lease_key(namespace: str, execution_id: str) -> str:
    """Return the key of an execution's lease: ``<ns>:lease:<execution_id>``."""
    return f"{namespace}:lease:{execution_id}"


def cancel_key(namespace: str, execution_id: str) -> str:
    """Return the key whose presence cancels an execution: ``<ns>:cancel:<execution_id>``."""
    return f"{namespace}:cancel:{execution_id}"


def reports_stream(namespace: str) -> str:
    """Return the stream agents append status reports to: ``<ns>:reports``."""
    return f"{namespace}:reports"


# -- the execution message (Celery kwargs ``{"message": {...}}``) ---------------------------

MESSAGE_REQUIRED = ("execution_id", "run_id", "node_id", "function")
# Ids that may be null; the execution context carries them.
MESSAGE_OPTIONAL_IDS = ("workflow_id", "parent_execution_id", "session_id", "actor_id")
MESSAGE_OPTIONAL = (*MESSAGE_OPTIONAL_IDS, "type", "input", "context")
MESSAGE_FIELDS = (*MESSAGE_REQUIRED, *MESSAGE_OPTIONAL)

# -- the status report -------------------------------------------------------------------

# The statuses an agent reports: ``running`` (best effort), then one terminal status.
REPORT_STATUSES = (RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMEOUT)
REPORT_FIELDS = ("status", "started_at", "completed_at", "duration_ms", "result", "error",
                 "error_type", "traceback", "problems", "attempts")
# One entry of a report's ``attempts``: a failed try that was retried (and the last one).
ATTEMPT_FIELDS = ("attempt", "error_type", "error", "at")
# The fields of one entry of the report stream; ``report`` is the JSON-encoded report.
STREAM_FIELDS = ("execution_id", "report", "key", "sig")


# -- API keys and signed reports -----------------------------------------------------------

# A scoped key reads ``afk_<key id>_<secret>``; any other string is the server's single
# ``AGENTFIELD_API_KEY`` (AgentField's form), whose id is ``env``.
KEY_PREFIX = "afk_"
ENV_KEY_ID = "env"
# Stream entries carry the key id and an HMAC-SHA256 of the execution id and the report,
# keyed by a secret derived from the API key: the control plane applies only reports
# signed by the node that owns the execution. Nothing secret crosses the wire.
REPORT_KEY_FIELD = "key"
REPORT_SIGNATURE_FIELD = "sig"
_REPORT_KEY_LABEL = b"agentfield/report-signing/v1"


def key_id_of(api_key: str) -> str:
    """Return the id of an API key: the ``<key id>`` of ``afk_<key id>_...``, else "env"."""
    if api_key.startswith(KEY_PREFIX):
        key_id, sep, _secret = api_key[len(KEY_PREFIX):].partition("_")
        if sep and key_id:
            return key_id
    return ENV_KEY_ID


def report_signing_key(api_key: str) -> bytes:
    """Derive the secret that signs reports from an API key (one-way)."""
    return hmac.new(api_key.encode(), _REPORT_KEY_LABEL, hashlib.sha256).digest()


def report_signature(signing_key: bytes, execution_id: str, report: bytes) -> str:
    """Sign one stream entry: HMAC-SHA256 over the execution id, a newline, the report."""
    return hmac.new(signing_key, execution_id.encode() + b"\n" + report,
                    hashlib.sha256).hexdigest()


def status_path(execution_id: str) -> str:
    """Return the HTTP path a report is posted to when the stream cannot take it."""
    return f"/api/v1/executions/{execution_id}/status"


__all__ = [
    "ATTEMPT_FIELDS", "CANCELLED", "DEFAULT_NAMESPACE", "ENV_KEY_ID", "EXECUTE_TASK",
    "FAILED", "KEY_PREFIX", "REPORT_KEY_FIELD", "REPORT_SIGNATURE_FIELD",
    "FUNCTION_ID_PATTERN", "FUNCTION_ID_RE",
    "LEASE_DONE", "MESSAGE_FIELDS", "MESSAGE_OPTIONAL", "MESSAGE_OPTIONAL_IDS",
    "MESSAGE_REQUIRED", "NODE_ID_PATTERN", "NODE_ID_RE", "PENDING", "QUEUED", "QUEUE_PREFIX",
    "REPORT_FIELDS", "REPORT_STATUSES", "RUNNING", "STATUSES", "STREAM_FIELDS", "SUCCEEDED",
    "TERMINAL_STATUSES", "TIMEOUT", "cancel_key", "is_valid_function_id", "is_valid_node_id",
    "key_id_of", "lease_key", "queue_name", "report_signature", "report_signing_key",
    "reports_stream", "status_path",
]
