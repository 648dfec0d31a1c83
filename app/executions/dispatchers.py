"""How an execution reaches its node: one named strategy per node, behind one interface.

Admission, limits, circuits, idempotency, cancellation and recovery are shared; only
the last step differs. Every node consumes a Celery queue today (``celery_queue``);
agents written with the official AgentField SDK (HTTP services) will get a second
strategy here.
"""

from typing import Protocol

import redis

from app.broker.envelope import publish_task
from app.broker.names import queue_for
from app.executions.views import agent_message
from app.extensions import get_redis
from app.nodes.cache import load_node


class DispatchFailed(Exception):
    """Raised when the execution could not be handed over (the broker refused it)."""


class Dispatcher(Protocol):
    """Hand a recorded execution to its node; may be called again for the same row."""

    name: str

    def dispatch(self, row: dict) -> None:
        """Send the execution on its way (at least once; the node drops duplicates).

        Raises:
            DispatchFailed: nothing was sent.
        """

    def backlog(self, node_id: str) -> int:
        """How many executions wait for the node (admission compares it to max_queued)."""


class CeleryQueueDispatcher:
    """LPUSH a standard Celery task message onto the node's queue ``agent.<node_id>``."""

    name = "celery_queue"

    def dispatch(self, row: dict) -> None:
        try:
            publish_task(get_redis(), queue_for(row["agent_node_id"]), row["execution_id"],
                         {"message": agent_message(row)})
        except (redis.RedisError, OSError) as exc:
            raise DispatchFailed(f"could not enqueue on the broker: {exc}") from exc

    def backlog(self, node_id: str) -> int:
        return get_redis().llen(queue_for(node_id))


DISPATCHERS: dict[str, Dispatcher] = {CeleryQueueDispatcher.name: CeleryQueueDispatcher()}


def dispatcher_for(node_id: str) -> Dispatcher:
    """Return the strategy the node registered with."""
    return DISPATCHERS[load_node(node_id)["dispatcher"]]
