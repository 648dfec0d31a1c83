"""A node row as the API shows it (AgentField's AgentNode shape, with its DIDs)."""

from app.broker.names import queue_for
from app.keystore import node_dids
from app.models import AgentNode
from app.models.types import isoformat
from app.nodes.health import effective_health


def node_view(node: AgentNode) -> dict:
    """Render a node in AgentField's AgentNode JSON shape, with its DIDs."""
    dids = node_dids(node.id)
    return {
        "did": dids["agent"],
        "function_dids": dids["functions"],
        "id": node.id,
        "team_id": node.team_id,
        "base_url": node.base_url,
        "version": node.version,
        "deployment_type": "celery",
        "reasoners": node.reasoners,
        "skills": node.skills,
        "health_status": effective_health(node.health_status, node.last_heartbeat),
        "lifecycle_status": node.lifecycle_status,
        "last_heartbeat": isoformat(node.last_heartbeat),
        "registered_at": isoformat(node.registered_at),
        "metadata": node.node_metadata,
        "queue": queue_for(node.id),
    }
