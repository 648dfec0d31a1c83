"""Control-plane tasks on the ``control`` queue (run by the worker, scheduled by beat)."""

from celery import shared_task


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
def recover_stuck_executions_task() -> dict:
    """Re-send lost messages and requeue or time out executions whose worker vanished."""
    from celery import current_app as celery_app

    from app.recovery import reap_expired_leases, reconcile_queued

    with celery_app.flask_app.app_context():
        return {"resent": reconcile_queued(), **reap_expired_leases()}
