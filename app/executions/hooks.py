"""The on-finished hooks every end of an execution runs, in this order.

Later features (live events, metrics) add theirs to ``DEFAULT_HOOKS``.
"""

import orjson

from app.credentials import issue_batch, issue_safely
from app.executions.cancellation import announce_cancel
from app.executions.lifecycle import FinishHook
from app.executions.views import sync_view
from app.extensions import get_config, get_keys
from app.nodes import circuits
from app.webhooks.trigger import enqueue_delivery


def wake_waiter(pipe, row: dict):
    """Push the sync answer onto the list the waiting request BLPOPs.

    A list survives a waiter that arrives late (pub/sub would not).
    """
    if row.get("mode") != "sync":
        return None
    config = get_config()
    key = get_keys().done(row["execution_id"])
    pipe.lpush(key, orjson.dumps(sync_view(row)))
    pipe.expire(key, int(config.sync_timeout) + config.result_signal_ttl)
    return None


def trigger_webhook(pipe, row: dict):
    """Start the webhook's delivery; a lost task is found by the webhook sweep."""
    if row.get("has_webhook"):
        enqueue_delivery(pipe, row["execution_id"])
    return None


def count_outcome(pipe, row: dict):
    """Add the outcome to the node's circuit window, then move the circuit on."""
    if row.get("error_type") == "enqueue_failed":
        return None  # the broker failed, not the node
    if not circuits.queue_outcome(pipe, row):
        return None
    return lambda results: circuits.settle(row, results[-1])


def issue_credentials(rows: list[dict], conn) -> None:
    """Sign each finished execution's credential (one INSERT for a batch)."""
    if conn is not None:
        issue_batch(rows, conn)
        return
    for row in rows:
        issue_safely(row["execution_id"], conn, row)


DEFAULT_HOOKS = [
    FinishHook("cancel_marker", signal=announce_cancel),
    FinishHook("waiter", signal=wake_waiter),
    FinishHook("webhook", signal=trigger_webhook),
    FinishHook("circuit", signal=count_outcome),
    FinishHook("credential", settle=issue_credentials),
]
