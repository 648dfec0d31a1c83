"""Control-plane tasks on the ``control`` queue (run by the worker, scheduled by beat)."""

from celery import shared_task

from tasks.routing import CONTROL_QUEUE, DELIVER_WEBHOOK_TASK


@shared_task(name="tasks.sweep_node_health", ignore_result=True)
def sweep_node_health_task() -> list[str]:
    """Mark nodes whose heartbeats stopped as inactive."""
    from celery import current_app as celery_app

    from app.registry import sweep_node_health

    with celery_app.flask_app.app_context():
        return sweep_node_health()


@shared_task(name="tasks.issue_missing_credentials", ignore_result=True)
def issue_missing_credentials_task() -> int:
    """Issue credentials for finished executions that have none (a crash in between)."""
    from celery import current_app as celery_app

    from app.credentials import issue_missing

    with celery_app.flask_app.app_context():
        return issue_missing()


@shared_task(name="tasks.recover_stuck_executions", ignore_result=True)
def recover_stuck_executions_task(queued_older_than: float = 300,
                                  lease_grace: float = 120) -> dict:
    """Re-send lost messages and requeue or time out executions whose worker vanished."""
    from celery import current_app as celery_app

    from app.recovery import reap_expired_leases, reconcile_queued

    with celery_app.flask_app.app_context():
        return {"resent": reconcile_queued(older_than=queued_older_than),
                **reap_expired_leases(grace=lease_grace)}


@shared_task(name=DELIVER_WEBHOOK_TASK, bind=True, ignore_result=True, acks_late=True)
def deliver_webhook_task(self, execution_id: str) -> str:
    """Make one delivery attempt; on failure schedule the next with a countdown.

    The database row holds the schedule: a countdown lost with a dying worker is found
    by the sweep (below and at worker start), and the claim stops a double delivery.
    """
    from celery import current_app as celery_app

    from app.extensions import get_config
    from app.webhooks.delivery import deliver

    with celery_app.flask_app.app_context():
        state, delay = deliver(execution_id)
        # Never a countdown near the visibility timeout (trap C-1): a longer wait is
        # done in steps, each early task re-scheduling itself.
        limit = get_config().visibility_timeout / 4
    if delay is not None:
        self.apply_async(args=[execution_id], countdown=min(delay, limit), queue=CONTROL_QUEUE)
    return state


@shared_task(name="tasks.sweep_webhooks", ignore_result=True)
def sweep_webhooks_task(slack_seconds: float = 10.0) -> list[str]:
    """Re-send the task of deliveries that are overdue (their task was lost)."""
    from celery import current_app as celery_app

    from app.webhooks.delivery import sweep

    with celery_app.flask_app.app_context():
        return sweep(slack_seconds)
