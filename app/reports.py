"""Status reports from agent workers: validate, persist, then signal the end."""

from datetime import datetime

from sqlalchemy import true

from app import records
from app.credentials import issue_safely
from app.dispatch import signal_completion
from app.errors import InvalidField, InvalidStatus
from app.models.types import as_utc, utcnow
from app.status import RUNNING, STATUSES, SUCCEEDED, TERMINAL, normalise_status
from config.errors import ControlPlaneError


class ExecutionAlreadyFinished(ControlPlaneError):
    """Raised when a report arrives for an execution that already has an outcome."""

    code = "execution_already_finished"
    status = 409


def apply_status_report(execution_id: str, body: dict, conn=None,
                        finished: list | None = None) -> dict:
    """Record a worker's report; return the row's key columns as they now stand.

    Raises:
        InvalidStatus: the status word is unknown.
        ExecutionNotFound: no such execution.
        ExecutionAlreadyFinished: a terminal outcome is already recorded.

    ``finished`` collects the rows that reached a terminal state (their credentials are
    then the caller's to issue); without it they are issued here.
    """
    status = normalise_status(body.get("status"))
    if status is None:
        raise InvalidStatus(
            f"unsupported status {body.get('status')!r}",
            {"allowed": list(STATUSES)},
        )
    if status in TERMINAL:
        return _finish(execution_id, status, body, conn, finished)
    if status == RUNNING:
        row = records.mark_running(execution_id, _timestamp(body, "started_at"))
        return row or records.fetch_execution(execution_id, conn)
    return records.fetch_execution(execution_id, conn)


def _finish(execution_id: str, status: str, body: dict, conn, finished) -> dict:
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
    row = records.finish_execution(execution_id, values, conn)
    if row is None:
        current = records.fetch_execution(execution_id, conn)  # raises 404 when unknown
        raise ExecutionAlreadyFinished(
            f"execution '{execution_id}' already ended as '{current['status']}'",
            {"execution_id": execution_id, "status": current["status"]},
        )
    if row["duration_ms"] is None:
        row = _fill_duration(row)
    signal_completion(row)
    # After the signal, off the caller's critical path. A batch consumer passes
    # ``finished`` and issues for the whole batch with one INSERT.
    if finished is not None:
        finished.append(row)
    else:
        issue_safely(execution_id, conn, row)
    return row


def _fill_duration(row: dict) -> dict:
    start = row["started_at"] or row["created_at"]
    end = row["completed_at"]
    if start is None or end is None:
        return row
    duration = max(0, int((as_utc(end) - as_utc(start)).total_seconds() * 1000))
    updated = records.update_execution(row["execution_id"], true(), {"duration_ms": duration})
    return updated or row


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
