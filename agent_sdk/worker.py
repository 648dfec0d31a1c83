"""The agent's Celery app: one queue per node, late acks, one message at a time."""

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery import signals as celery_signals

from agent_sdk.protocol import EXECUTE_TASK, queue_name
from agent_sdk.settings import AgentSettings

log = logging.getLogger(__name__)


def build_celery(node_id: str, handle: Callable[[dict], None],
                 settings: Callable[[], dict[str, Any]]) -> Celery:
    """Create the Celery app whose single task hands each message to ``handle``.

    The settings are a promise: they (and the broker URL, which may come from the
    control plane) are resolved only when Celery first needs its configuration, so
    ``celery = app.celery`` at import time has no side effects.
    """
    celery = Celery(f"agent-{node_id}", set_as_current=False)
    celery.add_defaults(settings)

    # Not shared: every agent's task has the same name, and a shared one would be added
    # to every Celery app in the process, so one agent could run another's messages.
    @celery.task(name=EXECUTE_TASK, bind=False, ignore_result=True, shared=False)
    def execute(message: dict) -> None:
        handle(message)

    return celery


def unacked_keys(node_id: str) -> dict[str, str]:
    """Name kombu's ack-emulation keys after the node's queue (Redis transport options).

    By default every worker on the broker keeps its delivered, unacked messages in one
    shared hash (``unacked``); per node, an agent holds only its own in-flight messages,
    and a Redis ACL can confine it to them (docs/broker-acl.md).
    """
    queue = queue_name(node_id)
    return {"unacked_key": f"unacked.{queue}",
            "unacked_index_key": f"unacked_index.{queue}",
            "unacked_mutex_key": f"unacked_mutex.{queue}"}


def celery_settings(node_id: str, broker_url: str, settings: AgentSettings) -> dict[str, Any]:
    """Reliability settings shared with the control plane (see docs/ARCHITECTURE.md)."""
    return dict(
        broker_url=broker_url,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": 2 * settings.max_run_seconds,
            "health_check_interval": 25,
            "socket_keepalive": True,
            "socket_timeout": 30,
            # One list per queue: the control plane publishes at priority 0 only, so
            # kombu's priority lists (agent.<node>\x06\x16<n>) would stay empty, and
            # the BRPOP names one key instead of four.
            "priority_steps": [0],
            **unacked_keys(node_id),
        },
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_default_queue=queue_name(node_id),
        task_create_missing_queues=True,
        # Task events feed Flower's task views but cost ~8% of a worker's CPU; queue
        # depth needs none. AGENTFIELD_TASK_EVENTS=1 turns them on.
        worker_send_task_events=settings.task_events,
        worker_enable_remote_control=settings.remote_control,
        worker_hijack_root_logger=False,
        worker_pool="threads",
        worker_concurrency=settings.concurrency,
    )


def worker_argv(node_id: str, settings: AgentSettings) -> list[str]:
    """The ``celery worker`` arguments ``app.run()`` uses."""
    hostname = f"{node_id}@{socket.gethostname()}-{os.getpid()}"
    return [
        "worker",
        "--queues", queue_name(node_id),
        "--pool", "threads",
        "--concurrency", str(settings.concurrency),
        "--hostname", hostname,
        "--without-gossip",
        "--without-mingle",
        # Worker heartbeats are events on a pub/sub channel, which Flower reads along
        # with remote control: without one, the other is of no use.
        *([] if settings.remote_control else ["--without-heartbeat"]),
        # Celery logs two INFO lines per task: ~6% of a busy worker's CPU.
        "--loglevel", settings.worker_log_level,
    ]


def on_worker_signals(celery: Celery, ready: Callable[[], None],
                      shutdown: Callable[[], None]) -> tuple[Callable, Callable]:
    """Call ``ready`` when a worker of ``celery`` is ready, ``shutdown`` when one stops."""
    def on_ready(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is celery:
            ready()

    def on_shutdown(sender: Any = None, **_: Any) -> None:
        shutdown()

    celery_signals.worker_ready.connect(on_ready, weak=False)
    celery_signals.worker_shutdown.connect(on_shutdown, weak=False)
    return on_ready, on_shutdown
