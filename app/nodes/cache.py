"""A short-lived per-process view of each node: its functions, validators and limits."""

import threading
import time

from app.errors import AgentNotFound, FunctionNotFound
from app.extensions import db, get_config
from app.models import AgentNode
from app.models.types import as_utc
from app.schemas import compile_validator


class NodeCache:
    """Cache node views per process for a few seconds; a miss always reads the database."""

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


def load_node(node_id: str) -> dict:
    """Return the cached ``{"reasoners": {...}, "skills": {...}}`` view of a node."""
    cached = node_cache.get(node_id, get_config().node_cache_seconds)
    if cached is not None:
        return cached
    return reload_node(node_id)


def reload_node(node_id: str) -> dict:
    """Read the node's row again and cache the fresh view."""
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
        # How its executions reach it (app/executions/dispatchers.py): every node
        # consumes a Celery queue today; HTTP agents will name their own strategy.
        "dispatcher": "celery_queue",
        "health_status": row.health_status,
        "last_heartbeat": as_utc(row.last_heartbeat),
    }
    node_cache.put(node_id, view)
    return view


def resolve_function(node_id: str, name: str) -> tuple[str, object]:
    """Find a reasoner (first) or skill on a node: return ``(type, input validator)``."""
    view = load_node(node_id)
    for attempt in range(2):
        for kind in ("reasoner", "skill"):
            spec = view[kind + "s"].get(name)
            if spec is not None:
                return kind, _validator(view, name, spec)
        if attempt == 0:
            view = reload_node(node_id)  # it may have re-registered since we cached it
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
