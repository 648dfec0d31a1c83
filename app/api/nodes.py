"""Node registration, heartbeats and listing."""

from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, request

from app.auth.guard import current_principal, require
from app.auth.policy import requires
from app.broker.names import queue_for
from app.extensions import db, get_config
from app.jsonio import read_json_object
from app.keystore import root_did
from app.models import AgentNode
from app.models.types import isoformat, utcnow
from app.nodes import circuits
from app.nodes.health import mark_offline, record_heartbeat
from app.nodes.registration import register_node
from app.nodes.views import node_view
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("nodes", __name__, url_prefix="/api/v1/nodes")


@bp.post("/register")
@bp.post("")
@api_doc("Register (or re-register) an agent node", body=S.NODE_REGISTRATION,
         responses={201: S.NODE_REGISTERED}, errors=(400,))
@requires("node")
def create_node():
    body = read_json_object()
    node_id = body.get("id") or body.get("node_id")
    if isinstance(node_id, str):
        require(current_principal().acts_as(node_id), f"node:{node_id}",
                f"only node '{node_id}''s key (or an admin) may register it")
    node = register_node(body)
    config = get_config()
    body = {
        "success": True,
        "message": "Node registered successfully",
        "node_id": node.id,
        "resolved_base_url": node.base_url,
        "queue": queue_for(node.id),
        "heartbeat_interval": config.heartbeat_interval,
        "namespace": config.namespace,
        "identity_package": {**node.identity, "agentfield_server_id": root_did()},
    }
    if config.advertise_broker:
        # Lets an agent find the broker with zero configuration (dev stack, one host).
        # Never its password: an agent that needs one has it in its own configuration.
        body["broker_url"] = without_credentials(config.redis_url
                                                 or "redis://127.0.0.1:6379/0")
    return body, 201


@bp.post("/<node_id>/heartbeat")
@api_doc("Record a node's heartbeat", body=S.HEARTBEAT, body_required=False,
         responses={200: S.HEARTBEAT_ANSWER}, errors=(400, 404))
@requires("node")
def heartbeat(node_id: str):
    _require_node(node_id)
    body = read_json_object(required=False)
    node = record_heartbeat(node_id, body)
    return {"success": True, "message": "heartbeat received",
            "timestamp": isoformat(utcnow()), "health_status": node.health_status}


@bp.post("/<node_id>/shutdown")
@api_doc("Mark a node offline", responses={202: S.ACKNOWLEDGED}, errors=(404,))
@requires("node")
def shutdown(node_id: str):
    _require_node(node_id)
    mark_offline(node_id)
    return {"success": True, "message": "shutdown acknowledged"}, 202


@bp.get("")
@api_doc("List nodes", query={"health_status": S.STRING},
         responses={200: S.NODE_LIST})
@requires("authenticated")
def list_nodes():
    wanted = request.args.get("health_status")
    nodes = [node_view(node) for node in db.session.scalars(
        db.select(AgentNode).order_by(AgentNode.id))]
    if wanted:
        nodes = [node for node in nodes if node["health_status"] == wanted]
    return {"nodes": nodes, "count": len(nodes), "filters": {"health_status": wanted}}


@bp.get("/<node_id>")
@api_doc("Get one node, its limits and circuit", responses={200: S.NODE},
         errors=(404,))
@requires("authenticated")
def get_node(node_id: str):
    from app.errors import AgentNotFound

    node = db.session.get(AgentNode, node_id)
    if node is None:
        raise AgentNotFound(f"node '{node_id}' is not registered", {"node_id": node_id})
    return {**node_view(node), "limits": (node.node_metadata or {}).get("limits", {}),
            "circuit": circuits.describe(node_id)}


def _require_node(node_id: str) -> None:
    require(current_principal().acts_as(node_id), f"node:{node_id}",
            f"only node '{node_id}''s key (or an admin) may do that")


def without_credentials(url: str) -> str:
    """The URL with any user name and password taken out."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
