"""Register a node: validate the AgentField-style body, store it, give it its DIDs."""

import logging

from sqlalchemy.exc import IntegrityError

from app.broker.names import is_valid_function_id, is_valid_node_id
from app.errors import BadRequest, InvalidField
from app.extensions import db, get_config
from app.keystore import ensure_node_dids, root_did
from app.models import AgentNode
from app.models.types import utcnow
from app.nodes.cache import node_cache
from app.nodes.health import ACTIVE
from app.nodes.limits import parse_limits
from app.schemas import check_schema

log = logging.getLogger(__name__)
# The node row's bounded text columns (app/models/node.py): longer values are refused.
_TEXT_FIELDS = {"version": 64, "team_id": 128, "lifecycle_status": 32, "instance_id": 128}


class TooManyFunctions(BadRequest):
    """Raised when a registration declares more reasoners and skills than allowed."""

    code = "too_many_functions"


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
    _check_text_fields(body)
    reasoners, skills = _all_functions(body)
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
    # The node row is flushed by this first query: two instances registering at once
    # meet on its primary key, so the loser rolls back (DIDs included) and registers
    # again as an update, seeing the winner's DIDs. A refusal (too many function DIDs)
    # raises before the commit, so nothing is written.
    node.identity = ensure_node_dids(node_id, [f["id"] for f in reasoners],
                                     [f["id"] for f in skills])
    root_did()
    db.session.commit()
    node_cache.drop(node_id)
    log.info("node %s registered (%d reasoners, %d skills)", node_id, len(reasoners), len(skills))
    return node


def _check_text_fields(body: dict) -> None:
    for name, limit in _TEXT_FIELDS.items():
        value = body.get(name)
        if value is not None and len(str(value)) > limit:
            raise InvalidField(f"'{name}' is longer than {limit} characters",
                               {"field": name, "max_length": limit})


def _all_functions(body: dict) -> tuple[list[dict], list[dict]]:
    config = get_config()
    for field in ("reasoners", "skills"):
        if not isinstance(body.get(field) or [], list):
            raise InvalidField(f"'{field}' must be a list", {"field": field})
    count = len(body.get("reasoners") or []) + len(body.get("skills") or [])
    if count > config.max_functions:
        raise TooManyFunctions(
            f"a node may register at most {config.max_functions} reasoners and skills, "
            f"not {count}", {"field": "reasoners", "count": count,
                             "max_functions": config.max_functions})
    limits = (config.schema_max_bytes, config.schema_max_depth)
    return _functions(body, "reasoners", limits), _functions(body, "skills", limits)


def _functions(body: dict, field: str, limits: tuple[int, int]) -> list[dict]:
    functions = []
    for index, item in enumerate(body.get(field) or []):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise InvalidField(f"every entry of '{field}' needs a string 'id'", {"field": field})
        if not is_valid_function_id(item["id"]):
            raise InvalidField(f"'{field}[{index}].id' must be 1-128 letters, digits, '_' "
                               "or '-'", {"field": f"{field}[{index}].id"})
        schema = item.get("input_schema")
        if schema is not None and not isinstance(schema, dict):
            raise InvalidField(f"'{field}[].input_schema' must be an object", {"field": field})
        if schema:
            check_schema(schema, f"{field}[{index}].input_schema", *limits)
        functions.append(item)
    return functions
