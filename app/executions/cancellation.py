"""Cancel executions: recorded in the database first, then announced to workers.

A cancelled row is terminal, so a later report from the worker changes nothing. The
Redis marker ``<ns>:cancel:<execution_id>`` tells workers: a queued execution is dropped
when its message is taken, a running one sees ``app.ctx.cancelled`` and gets
ExecutionCancelledError at its next ``app.call``.
"""

from app.executions import lifecycle, store
from app.executions.lifecycle import ExecutionAlreadyFinished, Reporter
from app.extensions import get_config, get_keys
from app.models.types import utcnow
from app.status import CANCELLED


def cancel_execution(execution_id: str, reason: str | None, by: Reporter) -> dict:
    """Cancel one execution; return its row.

    Raises:
        ExecutionNotFound: no such execution.
        ExecutionAlreadyFinished: it already has an outcome.
    """
    message = f"cancelled: {reason}" if reason else "cancelled"
    return lifecycle.finish(execution_id, {
        "status": CANCELLED, "error_message": message, "error_type": "Cancelled",
        "completed_at": utcnow()}, reporter=by)


def announce_cancel(pipe, row: dict):
    """On-finished hook: tell workers a cancelled execution must not (go on) run.

    Workers only ask whether the marker exists; its value says why, for people.
    """
    if row.get("status") != CANCELLED:
        return None
    pipe.set(get_keys().cancel(row["execution_id"]), row.get("error_message") or "1",
             ex=get_config().visibility_timeout * 2)
    return None


def cancel_run(run_id: str, reason: str | None, by: Reporter) -> list[str]:
    """Cancel every execution of a run that has not ended; return their ids."""
    cancelled = []
    for execution_id in store.active_ids_of_run(run_id):
        try:
            cancel_execution(execution_id, reason, by)
            cancelled.append(execution_id)
        except ExecutionAlreadyFinished:
            pass  # it ended meanwhile
    return cancelled
