"""Bring stuck executions to an end: lost messages, vanished workers.

Both sweeps are idempotent and safe to run from several processes at once: a re-sent
message is harmless (the execution's lease drops a duplicate), a per-execution Redis
marker keeps two sweepers from re-sending the same one in one interval, and every state
change is a conditional UPDATE.
"""

import logging
from datetime import timedelta

from sqlalchemy import select, update

from app import records
from app.credentials import issue_safely
from app.dispatch import execution_message, signal_completion
from app.extensions import get_config, get_redis
from app.models.types import as_utc, utcnow
from app.status import QUEUED, RUNNING, TIMEOUT
from tasks.publish import publish_task
from tasks.routing import queue_for

log = logging.getLogger(__name__)

executions = records.executions
LEASE_GRACE_SECONDS = 120  # a live worker renews its 60 s lease every 20 s


def reconcile_queued(older_than: float = 300, limit: int = 500) -> list[str]:
    """Re-send the message of executions queued longer than ``older_than`` seconds."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    rows = _select(executions.c.status == QUEUED, executions.c.created_at < cutoff, limit)
    return [row["execution_id"] for row in rows if _resend(row, older_than)]


def reap_expired_leases(max_attempts: int = 3, grace: float = LEASE_GRACE_SECONDS,
                        limit: int = 500) -> dict[str, list[str]]:
    """Requeue running executions whose worker vanished, or end them as ``timeout``."""
    config = get_config()
    cutoff = utcnow() - timedelta(seconds=grace)
    rows = _select(executions.c.status == RUNNING, executions.c.started_at < cutoff, limit)
    outcome = {"requeued": [], "timed_out": []}
    for row in rows:
        if row["mode"] == "inline":  # run by its caller, no lease: only the run limit applies
            age = (utcnow() - as_utc(row["started_at"])).total_seconds()
            if age > config.max_run_seconds and _time_out(row, "ran past the run limit"):
                outcome["timed_out"].append(row["execution_id"])
            continue
        if get_redis().exists(f"{config.namespace}:lease:{row['execution_id']}"):
            continue  # a worker still holds it (or it finished and the report is on its way)
        if row["attempt"] >= max_attempts:
            if _time_out(row, f"worker lost {row['attempt']} times"):
                outcome["timed_out"].append(row["execution_id"])
        elif _requeue(row):
            outcome["requeued"].append(row["execution_id"])
    return outcome


def _select(*conditions_and_limit):
    *conditions, limit = conditions_and_limit
    with records.connection() as conn:
        return [dict(r) for r in conn.execute(
            select(executions).where(*conditions).limit(limit)).mappings()]


def _resend(row: dict, interval: float) -> bool:
    marker = f"{get_config().namespace}:resent:{row['execution_id']}"
    if not get_redis().set(marker, 1, nx=True, ex=max(1, int(interval))):
        return False  # another sweeper re-sent it this interval
    publish_task(get_redis(), queue_for(row["agent_node_id"]), row["execution_id"],
                 {"message": execution_message(row)})
    log.warning("re-sent the message of %s (queued since %s)", row["execution_id"],
                row["created_at"])
    return True


def _requeue(row: dict) -> bool:
    with records.connection() as conn:
        moved = conn.execute(update(executions).where(
            executions.c.execution_id == row["execution_id"],
            executions.c.status == RUNNING).values(status=QUEUED, updated_at=utcnow())).rowcount
    if moved:
        log.warning("worker of %s vanished (attempt %d); requeued", row["execution_id"],
                    row["attempt"])
        _resend(row, 1)
    return bool(moved)


def _time_out(row: dict, why: str) -> bool:
    finished = records.finish_execution(row["execution_id"], {
        "status": TIMEOUT, "error_message": f"timed out: {why}", "error_type": "Timeout",
        "completed_at": utcnow()})
    if finished:
        signal_completion(finished)
        issue_safely(row["execution_id"], row=finished)
    return finished is not None
