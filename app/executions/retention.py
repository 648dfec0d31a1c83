"""Retention: delete what has outlived its window, in small batches, oldest first.

Run hourly by beat (``tasks.purge_expired``). What goes, and what bounds the rest:

- executions that ended more than ``AGENTFIELD_RETENTION_DAYS`` ago, with their notes,
  attempt log (a column of the row), webhook row and delivery attempts;
- execution credentials older than ``AGENTFIELD_CREDENTIAL_RETENTION_DAYS`` (kept longer
  by default: they are the proofs a run's audit export is made of);
- DID keys of functions a node no longer registers, retired longer than the window.

Running, queued and pending executions are never touched. 0 days keeps that kind
forever. Each batch is one statement on PostgreSQL and one short transaction on SQLite,
so the job never holds a long lock; a run stops after ``budget_seconds`` and the next
one carries on.
"""

import logging
import time
from datetime import timedelta

from sqlalchemy import delete

from app.executions import store
from app.extensions import get_config, get_engine
from app.models import DidKey, ExecutionNote, ExecutionWebhook, ExecutionWebhookEvent
from app.models.types import utcnow

log = logging.getLogger(__name__)

# Tables whose rows belong to one execution and go with it.
CHILD_TABLES = [ExecutionNote.__table__, ExecutionWebhook.__table__,
                ExecutionWebhookEvent.__table__]


def purge_expired(batch_size: int | None = None, budget_seconds: float = 300.0) -> dict:
    """Delete every kind of row past its retention window; return the counts."""
    config = get_config()
    batch_size = batch_size or config.retention_batch_size
    deadline = time.monotonic() + budget_seconds
    counts = {"executions": 0, "credentials": 0, "did_keys": 0}
    if config.retention_days:
        cutoff = utcnow() - timedelta(days=config.retention_days)
        counts["executions"] = _in_batches(
            lambda: store.delete_ended_before(cutoff, batch_size, CHILD_TABLES),
            batch_size, deadline)
        counts["did_keys"] = purge_retired_function_keys(cutoff)
    if config.credential_retention_days:
        cutoff = utcnow() - timedelta(days=config.credential_retention_days)
        counts["credentials"] = _in_batches(
            lambda: store.delete_credentials_before(cutoff, batch_size), batch_size,
            deadline)
    if any(counts.values()):
        log.info("retention deleted %s", counts)
    return counts


def purge_retired_function_keys(cutoff) -> int:
    """Delete the DID keys of removed functions retired before ``cutoff``.

    A credential they signed stays verifiable: a did:key carries its public key.
    """
    statement = delete(DidKey).where(DidKey.function.isnot(None),
                                     DidKey.status != "active", DidKey.retired_at < cutoff)
    with get_engine().connect() as conn:
        return conn.execute(statement).rowcount


def _in_batches(delete_batch, batch_size: int, deadline: float) -> int:
    total = 0
    while True:
        deleted = delete_batch()
        total += deleted
        if deleted < batch_size or time.monotonic() > deadline:
            return total
