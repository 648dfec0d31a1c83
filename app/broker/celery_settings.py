"""Celery settings that avoid the known Redis-broker traps (see docs/ARCHITECTURE.md)."""

from app.broker.names import (
    CONTROL_QUEUE,
    DELIVER_WEBHOOK_TASK,
    ISSUE_MISSING_CREDENTIALS_TASK,
    PURGE_EXPIRED_TASK,
    RECOVER_STUCK_TASK,
    SWEEP_NODE_HEALTH_TASK,
    SWEEP_WEBHOOKS_TASK,
    WEBHOOKS_QUEUE,
)
from config import Config


def celery_settings(config: Config) -> dict:
    """Return the Celery configuration for the control plane's app."""
    broker = config.redis_url or "redis://127.0.0.1:6379/0"
    return {
        "broker_url": broker,
        # PostgreSQL is the truth; no result backend keeps Redis clean and the
        # send path free of a result subscription.
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {
            "visibility_timeout": config.visibility_timeout,
            "health_check_interval": 25,
            "socket_keepalive": True,
            "socket_timeout": 30,
        },
        "broker_connection_retry_on_startup": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_default_queue": CONTROL_QUEUE,
        "task_create_missing_queues": True,
        "task_routes": {DELIVER_WEBHOOK_TASK: {"queue": WEBHOOKS_QUEUE}},
        "worker_send_task_events": True,
        "task_send_sent_event": False,
        "worker_max_tasks_per_child": 1000,
        "beat_schedule": {
            "sweep-node-health": {
                "task": SWEEP_NODE_HEALTH_TASK,
                "schedule": max(config.heartbeat_interval, 5.0),
                "options": {"queue": CONTROL_QUEUE, "expires": 30},
            },
            "recover-stuck-executions": {
                "task": RECOVER_STUCK_TASK,
                "schedule": 30.0,
                "options": {"queue": CONTROL_QUEUE, "expires": 60},
            },
            "sweep-webhooks": {
                "task": SWEEP_WEBHOOKS_TASK,
                "schedule": config.webhook_sweep_seconds,
                "kwargs": {"slack_seconds": config.webhook_sweep_seconds},
                "options": {"queue": CONTROL_QUEUE, "expires": 60},
            },
            "issue-missing-credentials": {
                "task": ISSUE_MISSING_CREDENTIALS_TASK,
                "schedule": 30.0,
                "options": {"queue": CONTROL_QUEUE, "expires": 60},
            },
            "purge-expired": {
                "task": PURGE_EXPIRED_TASK,
                "schedule": 3600.0,
                "options": {"queue": CONTROL_QUEUE, "expires": 3600},
            },
        },
        "include": ["tasks.control"],
    }
