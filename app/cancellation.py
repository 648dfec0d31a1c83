"""Cancel executions: recorded in the database first, then announced to workers.

A cancelled row is terminal, so a later report from the worker changes nothing. The
Redis marker ``<ns>:cancel:<execution_id>`` tells workers: a queued execution is dropped
when its message is taken, a running one sees ``app.ctx.cancelled`` and gets
ExecutionCancelledError at its next ``app.call``.
"""

from sqlalchemy import select

from app import records
from app.credentials import issue_safely
from app.dispatch import signal_completion
from app.extensions import get_config, get_redis
from app.models.types import utcnow
from app.reports import ExecutionAlreadyFinished
from app.status import TERMINAL


def cancel_key(namespace: str, execution_id: str) -> str:
    return f"{namespace}:cancel:{execution_id}"


def cancel_execution(execution_id: str, reason: str | None = None) -> dict:
    """Cancel one execution; return its row.

    Raises:
        ExecutionNotFound: no such execution.
        ExecutionAlreadyFinished: it already has an outcome.
    """
    message = f"cancelled: {reason}" if reason else "cancelled"
    row = records.finish_execution(execution_id, {
        "status": "cancelled", "error_message": message, "error_type": "Cancelled",
        "completed_at": utcnow()})
    if row is None:
        current = records.fetch_execution(execution_id)  # 404 when unknown
        raise ExecutionAlreadyFinished(
            f"execution '{execution_id}' already ended as '{current['status']}'",
            {"execution_id": execution_id, "status": current["status"]})
    config = get_config()
    get_redis().set(cancel_key(config.namespace, execution_id), reason or "1",
                    ex=config.visibility_timeout * 2)
    signal_completion(row)
    issue_safely(execution_id, row=row)
    return row


def cancel_run(run_id: str, reason: str | None = None) -> list[str]:
    """Cancel every execution of a run that has not ended; return their ids."""
    executions = records.executions
    with records.connection() as conn:
        ids = conn.execute(select(executions.c.execution_id).where(
            executions.c.run_id == run_id,
            executions.c.status.not_in(sorted(TERMINAL)))).scalars().all()
    cancelled = []
    for execution_id in ids:
        try:
            cancel_execution(execution_id, reason)
            cancelled.append(execution_id)
        except ExecutionAlreadyFinished:
            pass  # it ended meanwhile
    return cancelled
