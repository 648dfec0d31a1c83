"""The scopes a key may hold, parsed once into ``Grants``.

    admin                                 everything, keys included
    execute | execute:<node>              run any node's functions, or one node's
    executions:read                       read every execution (own ones need no scope)
    executions:read:session:<id>          read the executions of one session
    executions:read:actor:<id>            ... or of one actor
    memory:read | memory:write            memory in every scope (write includes read)
    memory:<read|write>:<scope>[:<id>]    one scope (workflow, session, actor, global),
                                          or one instance of it
    node:<node>                           act as that agent node: register, heartbeat,
                                          shut down, report, note, run inline children
"""

from dataclasses import dataclass

from app.errors import InvalidField

MEMORY_SCOPES = ("workflow", "session", "actor", "global")
MAX_SCOPES = 50
_MAX_PART = 128


@dataclass(frozen=True)
class Grants:
    """What a set of scopes allows, in the form the checks read."""

    admin: bool = False
    execute_all: bool = False
    execute_nodes: frozenset[str] = frozenset()
    read_all: bool = False
    read_sessions: frozenset[str] = frozenset()
    read_actors: frozenset[str] = frozenset()
    # (scope or None for any, scope id or None for any)
    memory_read: frozenset[tuple[str | None, str | None]] = frozenset()
    memory_write: frozenset[tuple[str | None, str | None]] = frozenset()
    node: str | None = None

    @property
    def may_execute(self) -> bool:
        return self.admin or self.execute_all or bool(self.execute_nodes)

    @property
    def may_read_memory(self) -> bool:
        return self.admin or bool(self.memory_read or self.memory_write)

    @property
    def may_write_memory(self) -> bool:
        return self.admin or bool(self.memory_write)

    def executes(self, node_id: str) -> bool:
        return self.admin or self.execute_all or node_id in self.execute_nodes

    def reads_memory(self, scope: str, scope_id: str) -> bool:
        return self.admin or _covers(self.memory_read | self.memory_write, scope, scope_id)

    def writes_memory(self, scope: str, scope_id: str) -> bool:
        return self.admin or _covers(self.memory_write, scope, scope_id)


FULL_ACCESS = Grants(admin=True)


def _covers(grants, scope: str, scope_id: str) -> bool:
    return any((s is None or s == scope) and (i is None or i == scope_id)
               for s, i in grants)


def parse_scopes(scopes: list[str]) -> Grants:
    """Parse a key's scopes.

    Raises:
        InvalidField: a scope that is not in the grammar above, or too many of them.
    """
    if not isinstance(scopes, list) or not scopes or len(scopes) > MAX_SCOPES:
        raise InvalidField(f"'scopes' must be a list of 1 to {MAX_SCOPES} scopes",
                           {"field": "scopes"})
    values: dict = {"execute_nodes": set(), "read_sessions": set(), "read_actors": set(),
                    "memory_read": set(), "memory_write": set()}
    for scope in scopes:
        _apply(scope, values)
    nodes = values.pop("node", set())
    if len(nodes) > 1:
        raise InvalidField("a key acts as one node at most", {"field": "scopes"})
    return Grants(**{k: frozenset(v) if isinstance(v, set) else v
                     for k, v in values.items()}, node=next(iter(nodes), None))


def _apply(scope: object, values: dict) -> None:
    if not isinstance(scope, str) or not scope.isascii() or not scope.isprintable():
        raise _bad(scope)
    parts = scope.split(":")
    if any(not part or len(part) > _MAX_PART for part in parts):
        raise _bad(scope)
    head, rest = parts[0], parts[1:]
    if scope == "admin":
        values["admin"] = True
    elif head == "execute" and len(rest) <= 1:
        if rest:
            values["execute_nodes"].add(rest[0])
        else:
            values["execute_all"] = True
    elif head == "executions" and rest[:1] == ["read"]:
        _read_executions(scope, rest[1:], values)
    elif head == "memory" and rest[:1] in (["read"], ["write"]) and len(rest) <= 3:
        target = rest[1:]
        if target and target[0] not in MEMORY_SCOPES:
            raise _bad(scope)
        values[f"memory_{rest[0]}"].add((target[0] if target else None,
                                         target[1] if len(target) > 1 else None))
    elif head == "node" and len(rest) == 1:
        values.setdefault("node", set()).add(rest[0])
    else:
        raise _bad(scope)


def _read_executions(scope: str, rest: list[str], values: dict) -> None:
    if not rest:
        values["read_all"] = True
    elif len(rest) == 2 and rest[0] in ("session", "actor"):
        values[f"read_{rest[0]}s"].add(rest[1])
    else:
        raise _bad(scope)


def _bad(scope: object) -> InvalidField:
    return InvalidField(f"unknown scope {str(scope)[:200]!r}; see the scopes in the README",
                        {"field": "scopes", "scope": str(scope)[:200]})
