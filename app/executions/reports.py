"""Status reports from agent workers: validate one, then start or finish the execution.

A report is checked whole before anything is written: what PostgreSQL cannot hold
(U+0000 in text or JSON, nesting the JSON encoder refuses, a duration past BIGINT, a
timestamp outside years 1-9999) is refused here with a stable code, so neither the
status endpoint nor the report consumer ever sends it to the database.
"""

import math
from datetime import UTC, datetime

import orjson

from app.errors import BadRequest, ExecutionNotFound, InvalidField, InvalidStatus
from app.executions import lifecycle, store
from app.extensions import get_config
from app.models.types import utcnow
from app.status import RUNNING, STATUSES, SUCCEEDED, TERMINAL, normalise_status

MAX_ID_LENGTH = 64  # executions.execution_id is VARCHAR(64)
MAX_DEPTH = 200  # orjson refuses to encode past 254 levels; it decodes up to 1024
_MAX_BIGINT = 2**63 - 1
MAX_ERROR_CHARS = 16_384  # an error message is diagnostic: kept whole up to this


class ResultNotStorable(BadRequest):
    """Raised when a report's result (or attempt log) is JSON the database cannot hold."""

    code = "result_not_storable"


def apply_status_report(execution_id: str, body: dict, conn=None,
                        batch: list | None = None, *,
                        reporter: lifecycle.Reporter) -> dict:
    """Record a worker's report; return the row's key columns as they now stand.

    Only an execution of the reporter's node is changed (admins report for any).

    Raises:
        InvalidStatus: the status word is unknown.
        InvalidField: a field has the wrong type or an impossible value.
        ResultNotStorable: the result holds what the database cannot store.
        ExecutionNotFound: no such execution.
        InsufficientScope: the execution belongs to another node.
        ExecutionAlreadyFinished: a terminal outcome is already recorded.

    ``batch`` collects the rows that reached a terminal state (the caller then settles
    them with ``lifecycle.settle``); without it they are settled here.
    """
    check_execution_id(execution_id)
    status = status_of(body)
    if status in TERMINAL:
        return lifecycle.finish(execution_id, outcome_of(status, body), conn, batch,
                                reporter=reporter, fill_duration=True)
    if status == RUNNING:
        row = lifecycle.start(execution_id, _timestamp(body, "started_at"), reporter, conn)
        if row is not None:
            return row
    row = store.fetch_execution(execution_id, conn)
    lifecycle.check_owner(row, reporter)
    return row


def check_execution_id(execution_id: object) -> None:
    """Refuse an id no execution can have (raises ExecutionNotFound)."""
    if (not isinstance(execution_id, str) or not execution_id
            or len(execution_id) > MAX_ID_LENGTH or "\x00" in execution_id):
        raise ExecutionNotFound(f"execution {str(execution_id)[:80]!r} not found",
                                {"execution_id": str(execution_id)[:80]})


def status_of(body: dict) -> str:
    """The report's canonical status word (raises InvalidStatus)."""
    status = normalise_status(body.get("status"))
    if status is None:
        raise InvalidStatus(f"unsupported status {str(body.get('status'))[:80]!r}",
                            {"allowed": list(STATUSES)})
    return status


def outcome_of(status: str, body: dict) -> dict:
    """Turn a terminal report into the outcome ``lifecycle.finish`` records."""
    completed_at = _timestamp(body, "completed_at") or utcnow()
    values = {
        "status": status,
        "result_payload": _within_limit(storable(body.get("result"), "result")),
        "error_message": None if status == SUCCEEDED else _error_text(body, status),
        "error_type": None if status == SUCCEEDED else _short(body.get("error_type")),
        "completed_at": completed_at,
    }
    duration = body.get("duration_ms")
    if duration is not None:
        if (not isinstance(duration, int | float) or isinstance(duration, bool)
                or not math.isfinite(duration) or not 0 <= duration <= _MAX_BIGINT):
            raise InvalidField("'duration_ms' must be a non-negative number",
                               {"field": "duration_ms"})
        values["duration_ms"] = int(duration)
    values["started_at"] = _timestamp(body, "started_at")
    attempts = body.get("attempts")
    if attempts is not None and not isinstance(attempts, list):
        raise InvalidField("'attempts' must be a list", {"field": "attempts"})
    values["attempt_log"] = storable(attempts[:50], "attempts") if attempts else None
    return values


def storable(value, field: str):
    """Return ``value`` if the database can store it as JSON; raise ResultNotStorable.

    PostgreSQL refuses U+0000 in jsonb (in keys and strings); the encoder refuses
    nesting deeper than ``MAX_DEPTH`` and numbers it cannot write.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            _not_storable(field, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if "\x00" in item:
                _not_storable(field, "a string holds U+0000")
        elif isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str) or "\x00" in key:
                    _not_storable(field, "a key holds U+0000 or is not a string")
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, float) and not math.isfinite(item):
            _not_storable(field, "a number is not finite")
        elif isinstance(item, int) and not isinstance(item, bool) and not (
                -2**63 <= item < 2**64):
            _not_storable(field, "an integer is outside 64 bits")
    return value


def _within_limit(result):
    """Refuse a result larger than ``AGENTFIELD_MAX_RESULT_BYTES`` as JSON."""
    if result is None or isinstance(result, bool | int | float):
        return result
    size = len(orjson.dumps(result))
    limit = get_config().max_result_bytes
    if size > limit:
        _not_storable("result", f"it is {size} bytes as JSON, over the {limit}-byte limit "
                                "(AGENTFIELD_MAX_RESULT_BYTES)")
    return result


def _not_storable(field: str, why: str):
    raise ResultNotStorable(f"'{field}' cannot be stored: {why}",
                            {"field": field, "reason": why})


def _error_text(body: dict, status: str) -> str:
    error = body.get("error") or body.get("error_message")
    if isinstance(error, dict):
        error = error.get("message") or str(error)
    if not error:
        return f"execution {status}"
    text = _clean(str(error))
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " [cut]"


def _short(value) -> str | None:
    return _clean(str(value)[:128]) if value else None


def _clean(text: str) -> str:
    # Text columns cannot hold U+0000; an error message is diagnostic, so replace it.
    return text.replace("\x00", "\ufffd")


def _timestamp(body: dict, field: str) -> datetime | None:
    raw = body.get(field)
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        # Out of range once in UTC (year 1 at +01:00) is unreadable when read back.
        (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidField(f"'{field}' must be an RFC 3339 timestamp",
                           {"field": field}) from None
    return value
