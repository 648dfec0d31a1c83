"""Which scope a memory request means: from its body and the context headers.

Scope ids come from ``X-Workflow-ID``, ``X-Session-ID`` and ``X-Actor-ID`` (global needs
none); a body may name ``scope`` and, as our extension, ``scope_id``. Without a scope a
write goes to the most specific scope present and a read searches workflow → session →
actor → global.
"""

from app.auth.errors import InsufficientScope
from app.errors import InvalidField
from memory import SEARCH_ORDER, Scope, parse_scope
from memory.errors import InvalidScope

_HEADERS = {Scope.WORKFLOW: "X-Workflow-ID", Scope.SESSION: "X-Session-ID",
            Scope.ACTOR: "X-Actor-ID"}


class MissingScopeId(InvalidScope):
    """Raised when a scope is named but no id for it was sent."""

    code = "missing_scope_id"


def scope_ids(headers) -> dict[Scope, str | None]:
    """Map every scope to the id the request carries for it (global: "global")."""
    ids = {scope: headers.get(header) or None for scope, header in _HEADERS.items()}
    ids[Scope.GLOBAL] = "global"
    return ids


def explicit_scope(body: dict, headers) -> tuple[Scope, str] | None:
    """Return the scope and id the request names, or None when it names none."""
    raw = body.get("scope")
    if raw in (None, ""):
        return None
    scope = parse_scope(raw)
    scope_id = body.get("scope_id") or scope_ids(headers)[scope]
    if not scope_id:
        raise MissingScopeId(
            f"scope '{scope}' needs an id: send the {_HEADERS[scope]} header or 'scope_id'")
    return scope, str(scope_id)


def write_target(body: dict, headers) -> tuple[Scope, str]:
    """Where a write goes: the named scope, else the most specific one present."""
    named = explicit_scope(body, headers)
    if named:
        return named
    ids = scope_ids(headers)
    scope = next(s for s in SEARCH_ORDER if ids[s])
    return scope, ids[scope]


def readable_scope_ids(headers, grants) -> dict[Scope, str | None]:
    """The scope ids of the request that ``grants`` may read; the others are dropped.

    Raises:
        InsufficientScope: none of them (global included) may be read.
    """
    ids = {scope: scope_id if scope_id and grants.reads_memory(scope.value, scope_id)
           else None for scope, scope_id in scope_ids(headers).items()}
    if not any(ids.values()):
        raise InsufficientScope("this key may read none of the memory scopes this request "
                                "names", {"required": "memory:read"})
    return ids


def check_readable(grants, scope: Scope, scope_id: str) -> None:
    """Refuse a read of a scope instance the key may not read (InsufficientScope)."""
    if not grants.reads_memory(scope.value, scope_id):
        raise InsufficientScope(f"this key may not read {scope.value} memory "
                                f"'{scope_id}'", {"required": f"memory:read:{scope.value}"})


def check_writable(grants, scope: Scope, scope_id: str) -> None:
    """Refuse a write to a scope instance the key may not write (InsufficientScope)."""
    if not grants.writes_memory(scope.value, scope_id):
        raise InsufficientScope(f"this key may not write {scope.value} memory "
                                f"'{scope_id}'", {"required": f"memory:write:{scope.value}"})


def body_key(body: dict) -> str:
    """Return the request's ``key`` (validated further by the store)."""
    key = body.get("key")
    if not isinstance(key, str):
        raise InvalidField("'key' is required and must be a string", {"field": "key"})
    return key


def body_data(body: dict):
    """Return the request's ``data``, which may be any JSON value but must be present."""
    if "data" not in body:
        raise InvalidField("'data' is required (any JSON value)", {"field": "data"})
    return body["data"]
