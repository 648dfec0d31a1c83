"""The agent's Celery app: one queue per node, late acks, one message at a time."""

import logging
import os
import socket

from celery import Celery

log = logging.getLogger(__name__)

# The wire contract with the control plane (tasks/routing.py names the same task).
EXECUTE_TASK = "agentfield.execute"


def queue_name(node_id: str) -> str:
    return f"agent.{node_id}"


def build_celery(agent) -> Celery:
    """Create the Celery app whose single task hands messages to ``agent``.

    The settings are a promise: they (and the broker URL, which may come from the
    control plane) are resolved only when Celery first needs its configuration, so
    ``celery = app.celery`` at import time has no side effects.
    """
    celery = Celery(f"agent-{agent.node_id}", set_as_current=False)
    celery.add_defaults(lambda: celery_settings(agent))

    @celery.task(name=EXECUTE_TASK, bind=False, ignore_result=True)
    def execute(message: dict) -> None:
        agent.handle_message(message)

    return celery


def celery_settings(agent) -> dict:
    """Reliability settings shared with the control plane (see docs/ARCHITECTURE.md)."""
    return dict(
        broker_url=agent.broker_url,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": 2 * agent.max_run_seconds,
            "health_check_interval": 25,
            "socket_keepalive": True,
            "socket_timeout": 30,
        },
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_default_queue=queue_name(agent.node_id),
        task_create_missing_queues=True,
        # Task events feed Flower's task views but cost ~8% of a worker's CPU; queue
        # depth needs none. AGENTFIELD_TASK_EVENTS=1 turns them on.
        worker_send_task_events=os.environ.get("AGENTFIELD_TASK_EVENTS", "0") == "1",
        worker_hijack_root_logger=False,
        worker_pool="threads",
        worker_concurrency=agent.concurrency,
    )


def worker_argv(agent) -> list[str]:
    """The ``celery worker`` arguments ``app.run()`` uses."""
    hostname = f"{agent.node_id}@{socket.gethostname()}-{os.getpid()}"
    return [
        "worker",
        "--queues", queue_name(agent.node_id),
        "--pool", "threads",
        "--concurrency", str(agent.concurrency),
        "--hostname", hostname,
        "--without-gossip",
        "--without-mingle",
        # Celery logs two INFO lines per task: ~6% of a busy worker's CPU.
        "--loglevel", os.getenv("AGENTFIELD_WORKER_LOG_LEVEL", "WARNING"),
    ]
