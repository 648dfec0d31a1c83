"""Bring stuck executions to an end: lost messages, vanished workers.

Both sweeps are idempotent and safe to run from several processes at once: a re-sent
message is harmless (the execution's lease drops a duplicate), a per-execution Redis
marker keeps two sweepers from re-sending the same one in one interval, and every state
change is a conditional UPDATE.
"""

import logging
from datetime import timedelta

from app.executions import lifecycle, store
from app.executions.dispatchers import dispatcher_for
from app.executions.lifecycle import ExecutionAlreadyFinished
from app.extensions import get_config, get_keys, get_redis
from app.models.types import as_utc, utcnow
from app.nodes.limits import queued_age_limit
from app.status import TIMEOUT

log = logging.getLogger(__name__)

LEASE_GRACE_SECONDS = 120  # a live worker renews its 60 s lease every 20 s


def reconcile_queued(older_than: float = 300, limit: int = 500) -> list[str]:
    """Re-send the message of executions queued longer than ``older_than`` seconds.

    One queued past its node's maximum queued age (``limits.max_queued_seconds``, else
    ``AGENTFIELD_MAX_QUEUED_SECONDS``) ends as ``timeout`` instead: a node with no
    worker would otherwise be sent the same message every interval forever. Returns
    the ids re-sent.
    """
    now = utcnow()
    rows = store.queued_oldest_first(now - timedelta(seconds=older_than), limit)
    resent = []
    for row in rows:
        waited = (now - as_utc(row["created_at"])).total_seconds()
        max_age = queued_age_limit(row["agent_node_id"])
        if max_age and waited > max_age:
            _time_out(row, f"queued for {waited:.1f} s, longer than the {max_age:g} s "
                      f"node '{row['agent_node_id']}' allows; no worker took it",
                      error_type="queue_timeout")
        elif _resend(row, older_than):
            resent.append(row["execution_id"])
    return resent


def reap_expired_leases(max_attempts: int = 3, grace: float = LEASE_GRACE_SECONDS,
                        limit: int = 500) -> dict[str, list[str]]:
    """Requeue running executions whose worker vanished, or end them as ``timeout``."""
    config = get_config()
    rows = store.running_since_before(utcnow() - timedelta(seconds=grace), limit)
    outcome: dict[str, list[str]] = {"requeued": [], "timed_out": []}
    for row in rows:
        if row["mode"] == "inline":  # run by its caller, no lease: only the run limit applies
            age = (utcnow() - as_utc(row["started_at"])).total_seconds()
            if age > config.max_run_seconds and _time_out(row, "ran past the run limit"):
                outcome["timed_out"].append(row["execution_id"])
            continue
        if get_redis().exists(get_keys().lease(row["execution_id"])):
            continue  # a worker still holds it (or it finished and the report is on its way)
        if row["attempt"] >= max_attempts:
            if _time_out(row, f"worker lost {row['attempt']} times"):
                outcome["timed_out"].append(row["execution_id"])
        elif _requeue(row):
            outcome["requeued"].append(row["execution_id"])
    return outcome


def _resend(row: dict, interval: float) -> bool:
    marker = get_keys().resent(row["execution_id"])
    if not get_redis().set(marker, 1, nx=True, ex=max(1, int(interval))):
        return False  # another sweeper re-sent it this interval
    dispatcher_for(row["agent_node_id"]).dispatch(row)
    log.warning("re-sent the message of %s (queued since %s)", row["execution_id"],
                row["created_at"])
    return True


def _requeue(row: dict) -> bool:
    moved = store.requeue(row["execution_id"])
    if moved:
        log.warning("worker of %s vanished (attempt %d); requeued", row["execution_id"],
                    row["attempt"])
        _resend(row, 1)
    return moved


def _time_out(row: dict, why: str, error_type: str = "Timeout") -> bool:
    try:
        lifecycle.finish(row["execution_id"], {
            "status": TIMEOUT, "error_message": f"timed out: {why}", "error_type": error_type,
            "completed_at": utcnow()}, reporter=lifecycle.CONTROL_PLANE)
    except ExecutionAlreadyFinished:
        return False  # it ended meanwhile
    log.warning("%s ended as timeout (%s): %s", row["execution_id"], error_type, why)
    return True
