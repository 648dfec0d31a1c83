"""Status reports from agent workers: validate one, then start or finish the execution."""

from datetime import datetime

from app.errors import InvalidField, InvalidStatus
from app.executions import lifecycle, store
from app.models.types import utcnow
from app.status import RUNNING, STATUSES, SUCCEEDED, TERMINAL, normalise_status


def apply_status_report(execution_id: str, body: dict, conn=None,
                        batch: list | None = None) -> dict:
    """Record a worker's report; return the row's key columns as they now stand.

    Raises:
        InvalidStatus: the status word is unknown.
        ExecutionNotFound: no such execution.
        ExecutionAlreadyFinished: a terminal outcome is already recorded.

    ``batch`` collects the rows that reached a terminal state (the caller then settles
    them with ``lifecycle.settle``); without it they are settled here.
    """
    status = normalise_status(body.get("status"))
    if status is None:
        raise InvalidStatus(
            f"unsupported status {body.get('status')!r}",
            {"allowed": list(STATUSES)},
        )
    if status in TERMINAL:
        return lifecycle.finish(execution_id, outcome_of(status, body), conn, batch,
                                fill_duration=True)
    if status == RUNNING:
        row = lifecycle.start(execution_id, _timestamp(body, "started_at"))
        return row or store.fetch_execution(execution_id, conn)
    return store.fetch_execution(execution_id, conn)


def outcome_of(status: str, body: dict) -> dict:
    """Turn a terminal report into the outcome ``lifecycle.finish`` records."""
    completed_at = _timestamp(body, "completed_at") or utcnow()
    values = {
        "status": status,
        "result_payload": body.get("result"),
        "error_message": None if status == SUCCEEDED else _error_text(body, status),
        "error_type": None if status == SUCCEEDED else _short(body.get("error_type")),
        "completed_at": completed_at,
    }
    duration = body.get("duration_ms")
    if duration is not None:
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
            raise InvalidField("'duration_ms' must be a non-negative number",
                               {"field": "duration_ms"})
        values["duration_ms"] = int(duration)
    values["started_at"] = _timestamp(body, "started_at")
    attempts = body.get("attempts")
    if attempts is not None and not isinstance(attempts, list):
        raise InvalidField("'attempts' must be a list", {"field": "attempts"})
    values["attempt_log"] = attempts[:50] if attempts else None
    return values


def _error_text(body: dict, status: str) -> str:
    error = body.get("error") or body.get("error_message")
    if isinstance(error, dict):
        error = error.get("message") or str(error)
    return str(error) if error else f"execution {status}"


def _short(value) -> str | None:
    return str(value)[:128] if value else None


def _timestamp(body: dict, field: str) -> datetime | None:
    raw = body.get(field)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(f"'{field}' must be an RFC 3339 timestamp",
                           {"field": field}) from None
