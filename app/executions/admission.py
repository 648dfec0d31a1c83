"""Admission: refuse an execution before anything is written, or let it through."""

from app.errors import AgentBusy, QueueFull
from app.executions import store
from app.executions.dispatchers import dispatcher_for
from app.nodes import circuits
from app.nodes.limits import queue_limit, running_limit


def queue_anyway(body: dict, headers) -> bool:
    """The caller accepts waiting for an unavailable agent (async work that can wait)."""
    flag = headers.get("X-Queue-If-Unavailable") or body.get("queue_if_unavailable")
    return str(flag).lower() in ("1", "true", "yes")


def admit(node_id: str, queue_if_unavailable: bool) -> None:
    """Refuse, writing nothing: 503 while the node's circuit is open, 429 over a limit.

    Raises:
        AgentUnavailable: the node's circuit is open (and the caller will not wait).
        QueueFull: more executions wait for the node than its ``max_queued``.
        AgentBusy: the node runs its ``max_running`` already.
    """
    circuits.admit(node_id, queue_if_unavailable)
    limit = queue_limit(node_id)
    if limit:
        queued = dispatcher_for(node_id).backlog(node_id)
        if queued >= limit:
            raise QueueFull(f"agent '{node_id}' has {queued} executions waiting (limit "
                            f"{limit}); retry later",
                            {"node_id": node_id, "queued": queued, "limit": limit})
    limit = running_limit(node_id)
    if limit:
        running = store.count_running(node_id)
        if running >= limit:
            raise AgentBusy(f"agent '{node_id}' is running {running} executions (limit "
                            f"{limit}); retry later",
                            {"node_id": node_id, "running": running, "limit": limit})
