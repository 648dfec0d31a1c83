"""Memory scopes, their search order, and the validation and layout of keys and scope ids."""

from enum import StrEnum

from memory.errors import InvalidKey, InvalidScope

MAX_KEY_LENGTH = 256
MAX_SCOPE_ID_LENGTH = 256
GLOBAL_SCOPE_ID = "global"
_RESERVED_KEY_CHARACTERS = frozenset(":*?[]")


class Scope(StrEnum):
    """Where a memory value lives: one workflow, session or actor, or everywhere (a str)."""

    WORKFLOW = "workflow"
    SESSION = "session"
    ACTOR = "actor"
    GLOBAL = "global"


SEARCH_ORDER = (Scope.WORKFLOW, Scope.SESSION, Scope.ACTOR, Scope.GLOBAL)


def parse_scope(value: object) -> Scope:
    """Return the Scope named by value (a Scope or its name); raise InvalidScope otherwise."""
    if isinstance(value, Scope):
        return value
    if isinstance(value, str):
        try:
            return Scope(value.strip().lower())
        except ValueError:
            pass
    names = ", ".join(scope.value for scope in Scope)
    raise InvalidScope(f"unknown memory scope {value!r} (expected one of: {names})")


def validate_key(key: object) -> str:
    """Return key if it is a usable memory key; raise InvalidKey saying why it is not."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"memory key must be a non-empty string, not {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"memory key is {len(key)} characters long (at most {MAX_KEY_LENGTH})")
    for char in key:
        if char in _RESERVED_KEY_CHARACTERS:
            raise InvalidKey(f"memory key {key!r} holds the reserved character {char!r}")
        if char.isspace() or not char.isprintable():
            raise InvalidKey(f"memory key {key!r} holds whitespace or a control character")
    return key


def validate_scope_id(scope_id: object) -> str:
    """Return scope_id if it can name a scope instance; raise InvalidScope saying why not."""
    if not isinstance(scope_id, str) or not scope_id:
        raise InvalidScope(f"scope id must be a non-empty string, not {scope_id!r}")
    if len(scope_id) > MAX_SCOPE_ID_LENGTH:
        raise InvalidScope(f"scope id is {len(scope_id)} characters long "
                           f"(at most {MAX_SCOPE_ID_LENGTH})")
    if ":" in scope_id or not scope_id.isprintable():
        raise InvalidScope(f"scope id {scope_id!r} holds ':' or a control character")
    return scope_id


def scope_instance(scope: object, scope_id: object) -> tuple[Scope, str]:
    """Return the validated (scope, scope id) pair; the global scope's id is always "global"."""
    scope = parse_scope(scope)
    if scope is Scope.GLOBAL:
        return scope, GLOBAL_SCOPE_ID
    return scope, validate_scope_id(scope_id)


def scope_prefix(namespace: str, scope: Scope, scope_id: str) -> str:
    """Return the Redis key prefix shared by every value of one scope instance."""
    return f"{namespace}:mem:{scope.value}:{scope_id}:"


def memory_key(namespace: str, scope: Scope | str, scope_id: str | None, key: str) -> str:
    """Return the Redis key of one value: ``<ns>:mem:<scope>:<scope_id>:<key>``."""
    scope, scope_id = scope_instance(scope, scope_id)
    return scope_prefix(namespace, scope, scope_id) + validate_key(key)


def index_keys(namespace: str, scope: Scope, scope_id: str) -> tuple[str, str]:
    """Return the scope instance's index keys: keys by name, and keys by expiry time."""
    suffix = f"{scope.value}:{scope_id}"
    return f"{namespace}:memidx:{suffix}", f"{namespace}:memexp:{suffix}"
