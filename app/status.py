"""The execution status vocabulary and the aliases accepted on input."""

PENDING, QUEUED, RUNNING = "pending", "queued", "running"
SUCCEEDED, FAILED, CANCELLED, TIMEOUT = "succeeded", "failed", "cancelled", "timeout"

STATUSES = (PENDING, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMEOUT)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, TIMEOUT})

_ALIASES = {
    "success": SUCCEEDED, "successful": SUCCEEDED, "completed": SUCCEEDED,
    "complete": SUCCEEDED, "done": SUCCEEDED, "ok": SUCCEEDED,
    "error": FAILED, "errored": FAILED, "failure": FAILED,
    "canceled": CANCELLED, "cancel": CANCELLED,
    "timed_out": TIMEOUT, "timedout": TIMEOUT,
    "wait": QUEUED, "waiting": QUEUED,
    "in_progress": RUNNING, "processing": RUNNING, "started": RUNNING,
}


def normalise_status(raw: object) -> str | None:
    """Map a status word or alias to the canonical word; None if unknown."""
    if not isinstance(raw, str):
        return None
    word = raw.strip().lower()
    if word in STATUSES:
        return word
    return _ALIASES.get(word)
