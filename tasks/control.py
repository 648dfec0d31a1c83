"""Control-plane tasks: housekeeping on ``control``, webhook deliveries on ``webhooks``.

Each runs inside the Flask app's context (the app's Celery task class provides it).
"""

from celery import shared_task

from app.broker.names import (
    DELIVER_WEBHOOK_TASK,
    ISSUE_MISSING_CREDENTIALS_TASK,
    PURGE_EXPIRED_TASK,
    RECOVER_STUCK_TASK,
    SWEEP_NODE_HEALTH_TASK,
    SWEEP_WEBHOOKS_TASK,
    WEBHOOKS_QUEUE,
)
from app.credentials import issue_missing
from app.executions.recovery import reap_expired_leases, reconcile_queued
from app.executions.retention import purge_expired
from app.extensions import get_config
from app.nodes.health import sweep_node_health
from app.webhooks.delivery import deliver, sweep


@shared_task(name=SWEEP_NODE_HEALTH_TASK, ignore_result=True)
def sweep_node_health_task() -> list[str]:
    """Mark nodes whose heartbeats stopped as inactive."""
    return sweep_node_health()


@shared_task(name=ISSUE_MISSING_CREDENTIALS_TASK, ignore_result=True)
def issue_missing_credentials_task() -> int:
    """Issue credentials for finished executions that have none (a crash in between)."""
    return issue_missing()


@shared_task(name=RECOVER_STUCK_TASK, ignore_result=True)
def recover_stuck_executions_task(queued_older_than: float = 300,
                                  lease_grace: float = 120) -> dict:
    """Re-send lost messages and requeue or time out executions whose worker vanished."""
    return {"resent": reconcile_queued(older_than=queued_older_than),
            **reap_expired_leases(grace=lease_grace)}


@shared_task(name=DELIVER_WEBHOOK_TASK, bind=True, ignore_result=True, acks_late=True)
def deliver_webhook_task(self, execution_id: str) -> str:
    """Make one delivery attempt; on failure schedule the next with a countdown.

    The database row holds the schedule: a countdown lost with a dying worker is found
    by the sweep (below and at worker start), and the claim stops a double delivery.
    """
    state, delay = deliver(execution_id)
    if delay is not None:
        # Never a countdown near the visibility timeout (trap C-1): a longer wait is
        # done in steps, each early task re-scheduling itself.
        limit = get_config().visibility_timeout / 4
        self.apply_async(args=[execution_id], countdown=min(delay, limit),
                         queue=WEBHOOKS_QUEUE)
    return state


@shared_task(name=SWEEP_WEBHOOKS_TASK, ignore_result=True)
def sweep_webhooks_task(slack_seconds: float = 10.0) -> list[str]:
    """Re-send the task of deliveries that are overdue (their task was lost)."""
    return sweep(slack_seconds)


@shared_task(name=PURGE_EXPIRED_TASK, ignore_result=True)
def purge_expired_task() -> dict:
    """Delete executions, credentials and retired keys past their retention window."""
    return purge_expired()
