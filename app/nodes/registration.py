"""Register a node: validate the AgentField-style body, store it, give it its DIDs."""

import logging

from sqlalchemy.exc import IntegrityError

from app.broker.names import is_valid_node_id
from app.errors import InvalidField
from app.extensions import db
from app.keystore import ensure_node_dids, root_did
from app.models import AgentNode
from app.models.types import utcnow
from app.nodes.cache import node_cache
from app.nodes.health import ACTIVE
from app.nodes.limits import parse_limits

log = logging.getLogger(__name__)


def register_node(body: dict) -> AgentNode:
    """Create or update a node from an AgentField-style registration body.

    Instances of one node starting together race to insert its row: the loser's
    transaction (its DIDs included) is rolled back and it registers again as an update.
    """
    try:
        return _register_once(body)
    except IntegrityError:
        db.session.rollback()
        return _register_once(body)


def _register_once(body: dict) -> AgentNode:
    node_id = body.get("id") or body.get("node_id")
    if not isinstance(node_id, str) or not is_valid_node_id(node_id):
        raise InvalidField("'id' must be 1-128 letters, digits, '-' or '_'",
                           {"field": "id"})
    reasoners = _functions(body, "reasoners")
    skills = _functions(body, "skills")
    now = utcnow()
    node = db.session.get(AgentNode, node_id) or AgentNode(id=node_id, registered_at=now)
    node.version = str(body.get("version") or "")
    node.base_url = body.get("base_url")
    node.team_id = body.get("team_id") or "default"
    node.reasoners, node.skills = reasoners, skills
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    node.node_metadata = {**metadata, "limits": parse_limits(body)}
    node.lifecycle_status = body.get("lifecycle_status") or "starting"
    node.instance_id = body.get("instance_id")
    node.health_status, node.heartbeat_streak = ACTIVE, 1
    node.last_heartbeat = node.updated_at = now
    db.session.add(node)
    node.identity = ensure_node_dids(node_id, [f["id"] for f in reasoners],
                                     [f["id"] for f in skills])
    root_did()
    db.session.commit()
    node_cache.drop(node_id)
    log.info("node %s registered (%d reasoners, %d skills)", node_id, len(reasoners), len(skills))
    return node


def _functions(body: dict, field: str) -> list[dict]:
    items = body.get(field) or []
    if not isinstance(items, list):
        raise InvalidField(f"'{field}' must be a list", {"field": field})
    functions = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise InvalidField(f"every entry of '{field}' needs a string 'id'", {"field": field})
        schema = item.get("input_schema")
        if schema is not None and not isinstance(schema, dict):
            raise InvalidField(f"'{field}[].input_schema' must be an object", {"field": field})
        functions.append(item)
    return functions
