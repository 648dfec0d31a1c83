"""Agent nodes: registration, heartbeats with hysteresis, and a short-lived lookup cache."""

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import AgentNotFound, FunctionNotFound, InvalidField
from app.extensions import db, get_config
from app.keystore import ensure_node_dids, node_dids, root_did
from app.models import AgentNode
from app.models.types import as_utc, isoformat, utcnow
from app.schemas import compile_validator
from tasks.routing import is_valid_node_id

log = logging.getLogger(__name__)

ACTIVE, INACTIVE = "active", "inactive"


class NodeCache:
    """Cache node rows per process for a few seconds; a miss always reads the database."""

    def __init__(self):
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get(self, node_id: str, max_age: float) -> dict | None:
        entry = self._entries.get(node_id)
        if entry and time.monotonic() - entry[0] < max_age:
            return entry[1]
        return None

    def put(self, node_id: str, node: dict) -> None:
        with self._lock:
            self._entries[node_id] = (time.monotonic(), node)

    def drop(self, node_id: str) -> None:
        with self._lock:
            self._entries.pop(node_id, None)


node_cache = NodeCache()


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
    node.node_metadata = {**metadata, "limits": _limits(body)}
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


# Our extension of the registration body: ``"limits": {...}``, each optional.
_LIMITS = {
    "max_queued": (int, 1, None, "a positive integer"),
    "max_running": (int, 1, None, "a positive integer"),
    "circuit_failure_rate": (float, 0.01, 1.0, "a number in (0, 1]"),
    "circuit_min_calls": (int, 1, None, "a positive integer"),
    "circuit_cooldown_seconds": (float, 0.1, None, "a positive number of seconds"),
}


def _limits(body: dict) -> dict:
    """Read the node's own limits; any left out fall back to the global defaults."""
    limits = body.get("limits") or {}
    if not isinstance(limits, dict):
        raise InvalidField("'limits' must be an object", {"field": "limits"})
    unknown = sorted(set(limits) - set(_LIMITS))
    if unknown:
        raise InvalidField(f"unknown limits {unknown}", {"field": "limits",
                                                         "allowed": sorted(_LIMITS)})
    parsed = {}
    for name, (kind, low, high, what) in _LIMITS.items():
        value = limits.get(name)
        if value is None:
            continue
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int:
            number_ok = number_ok and isinstance(value, int)
        if not number_ok or value < low or (high is not None and value > high):
            raise InvalidField(f"'limits.{name}' must be {what}", {"field": f"limits.{name}"})
        parsed[name] = kind(value)
    return parsed


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


def record_heartbeat(node_id: str, body: dict) -> AgentNode:
    """Note a heartbeat; an inactive node comes back after a few in a row."""
    config = get_config()
    node = db.session.get(AgentNode, node_id)
    if node is None:
        raise AgentNotFound(f"node '{node_id}' is not registered", {"node_id": node_id})
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
    node = db.session.get(AgentNode, node_id)
    if node is None:
        raise AgentNotFound(f"node '{node_id}' is not registered", {"node_id": node_id})
    node.lifecycle_status, node.health_status, node.heartbeat_streak = "offline", INACTIVE, 0
    db.session.commit()
    return node


def effective_health(node: AgentNode) -> str:
    """Report inactive as soon as heartbeats are overdue, even before the sweep runs."""
    return _health(node.health_status, node.last_heartbeat)


def _health(status: str, last_heartbeat) -> str:
    overdue = (utcnow() - as_utc(last_heartbeat)).total_seconds() > \
        get_config().node_inactive_after
    return INACTIVE if overdue else status


def node_to_dict(node: AgentNode) -> dict:
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
        "health_status": effective_health(node),
        "lifecycle_status": node.lifecycle_status,
        "last_heartbeat": isoformat(node.last_heartbeat),
        "registered_at": isoformat(node.registered_at),
        "metadata": node.node_metadata,
        "queue": f"agent.{node.id}",
    }


def load_node(node_id: str) -> dict:
    """Return the cached ``{"reasoners": {...}, "skills": {...}}`` view of a node."""
    config = get_config()
    cached = node_cache.get(node_id, config.node_cache_seconds)
    if cached is not None:
        return cached
    return _reload(node_id)


def _reload(node_id: str) -> dict:
    row = db.session.get(AgentNode, node_id, populate_existing=True)
    db.session.rollback()  # end the read transaction; nothing was written
    if row is None:
        raise AgentNotFound(f"agent node '{node_id}' is not registered", {"node_id": node_id})
    view = {
        "id": row.id,
        "reasoners": {item["id"]: item for item in row.reasoners or []},
        "skills": {item["id"]: item for item in row.skills or []},
        "validators": {},
        "limits": (row.node_metadata or {}).get("limits", {}),
        "health_status": row.health_status,
        "last_heartbeat": as_utc(row.last_heartbeat),
    }
    node_cache.put(node_id, view)
    return view


def queue_limit(node_id: str) -> int:
    """The node's queued-depth limit, else the global default (0: none)."""
    return load_node(node_id)["limits"].get("max_queued") or get_config().max_queued


def running_limit(node_id: str) -> int:
    """The node's running-concurrency limit, else the global default (0: none)."""
    return load_node(node_id)["limits"].get("max_running") or get_config().max_running


def is_live(node_id: str) -> bool:
    """Whether a worker of the node heartbeats within its window.

    A cached view that says "dead" is re-read first: a node that has just come back
    must not be refused for the cache's lifetime.
    """
    view = load_node(node_id)
    if _health(view["health_status"], view["last_heartbeat"]) != ACTIVE:
        view = _reload(node_id)
    return _health(view["health_status"], view["last_heartbeat"]) == ACTIVE


def resolve_function(node_id: str, name: str) -> tuple[str, object]:
    """Find a reasoner (first) or skill on a node: return ``(type, input validator)``."""
    view = load_node(node_id)
    for attempt in range(2):
        for kind in ("reasoner", "skill"):
            spec = view[kind + "s"].get(name)
            if spec is not None:
                return kind, _validator(view, name, spec)
        if attempt == 0:
            view = _reload(node_id)  # it may have re-registered since we cached it
    raise FunctionNotFound(
        f"agent '{node_id}' has no reasoner or skill named '{name}'",
        {"node_id": node_id, "function": name,
         "available": sorted([*view["reasoners"], *view["skills"]])},
    )


def _validator(view: dict, name: str, spec: dict):
    validators = view["validators"]
    if name not in validators:
        validators[name] = compile_validator(spec.get("input_schema"))
    return validators[name]
