"""Node liveness: heartbeats with hysteresis, the overdue sweep, shutdown notices."""

import logging
from datetime import timedelta

from sqlalchemy import select

from app.errors import AgentNotFound
from app.extensions import db, get_config
from app.models import AgentNode
from app.models.types import as_utc, isoformat, utcnow
from app.nodes.cache import load_node, reload_node

log = logging.getLogger(__name__)

ACTIVE, INACTIVE = "active", "inactive"


def record_heartbeat(node_id: str, body: dict) -> AgentNode:
    """Note a heartbeat; an inactive node comes back after a few in a row."""
    config = get_config()
    node = _get(node_id)
    now = utcnow()
    on_time = (now - as_utc(node.last_heartbeat)).total_seconds() <= config.node_inactive_after
    was_active = node.health_status == ACTIVE and on_time
    node.heartbeat_streak = node.heartbeat_streak + 1 if on_time else 1
    node.last_heartbeat = now
    if isinstance(body.get("status"), str):
        node.lifecycle_status = body["status"][:32]
    # Hysteresis: an overdue node needs a few heartbeats in a row to count again.
    if was_active or node.heartbeat_streak >= config.node_recover_heartbeats:
        if node.health_status != ACTIVE:
            log.info("node %s is active again", node_id)
        node.health_status = ACTIVE
    else:
        node.health_status = INACTIVE
    db.session.commit()
    return node


def sweep_node_health() -> list[str]:
    """Mark nodes whose heartbeats stopped as inactive; return their ids."""
    config = get_config()
    cutoff = utcnow() - timedelta(seconds=config.node_inactive_after)
    stale = db.session.scalars(
        select(AgentNode).where(AgentNode.health_status == ACTIVE,
                                AgentNode.last_heartbeat < cutoff)
    ).all()
    for node in stale:
        node.health_status, node.heartbeat_streak = INACTIVE, 0
        log.warning("node %s is inactive: no heartbeat since %s", node.id,
                    isoformat(node.last_heartbeat))
    db.session.commit()
    return [node.id for node in stale]


def mark_offline(node_id: str) -> AgentNode:
    """Record a node's own shutdown notice."""
    node = _get(node_id)
    node.lifecycle_status, node.health_status, node.heartbeat_streak = "offline", INACTIVE, 0
    db.session.commit()
    return node


def _get(node_id: str) -> AgentNode:
    node = db.session.get(AgentNode, node_id)
    if node is None:
        raise AgentNotFound(f"node '{node_id}' is not registered", {"node_id": node_id})
    return node


def effective_health(status: str, last_heartbeat) -> str:
    """Report inactive as soon as heartbeats are overdue, even before the sweep runs."""
    overdue = (utcnow() - as_utc(last_heartbeat)).total_seconds() > \
        get_config().node_inactive_after
    return INACTIVE if overdue else status


def is_live(node_id: str) -> bool:
    """Whether a worker of the node heartbeats within its window.

    A cached view that says "dead" is re-read first: a node that has just come back
    must not be refused for the cache's lifetime.
    """
    view = load_node(node_id)
    if effective_health(view["health_status"], view["last_heartbeat"]) != ACTIVE:
        view = reload_node(node_id)
    return effective_health(view["health_status"], view["last_heartbeat"]) == ACTIVE
