"""Node registration, heartbeats and listing."""

from flask import Blueprint, request

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
def create_node():
    node = register_node(read_json_object())
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
        body["broker_url"] = config.redis_url or "redis://127.0.0.1:6379/0"
    return body, 201


@bp.post("/<node_id>/heartbeat")
@api_doc("Record a node's heartbeat", body=S.HEARTBEAT, body_required=False,
         responses={200: S.HEARTBEAT_ANSWER}, errors=(400, 404))
def heartbeat(node_id: str):
    body = read_json_object(required=False)
    node = record_heartbeat(node_id, body)
    return {"success": True, "message": "heartbeat received",
            "timestamp": isoformat(utcnow()), "health_status": node.health_status}


@bp.post("/<node_id>/shutdown")
@api_doc("Mark a node offline", responses={202: S.ACKNOWLEDGED}, errors=(404,))
def shutdown(node_id: str):
    mark_offline(node_id)
    return {"success": True, "message": "shutdown acknowledged"}, 202


@bp.get("")
@api_doc("List nodes", query={"health_status": S.STRING},
         responses={200: S.NODE_LIST})
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
def get_node(node_id: str):
    from app.errors import AgentNotFound

    node = db.session.get(AgentNode, node_id)
    if node is None:
        raise AgentNotFound(f"node '{node_id}' is not registered", {"node_id": node_id})
    return {**node_view(node), "limits": (node.node_metadata or {}).get("limits", {}),
            "circuit": circuits.describe(node_id)}
