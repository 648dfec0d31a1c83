"""The memory store: scoped JSON values in Redis, atomic updates, and a change event per write."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

import redis

from memory import scripts
from memory.codec import (
    check_amount,
    check_count,
    check_ttl,
    decode,
    encode,
    memory_object,
    text,
)
from memory.errors import CompareFailed, ContentionTooHigh, InvalidValue, NotANumber
from memory.events import EventLog, matches
from memory.scopes import (
    SEARCH_ORDER,
    Scope,
    index_keys,
    parse_scope,
    scope_instance,
    scope_prefix,
    validate_key,
)

DAY = 86_400
DEFAULT_TTLS = {Scope.WORKFLOW: 7 * DAY, Scope.SESSION: 30 * DAY, Scope.ACTOR: None,
                Scope.GLOBAL: None}


class _Target(NamedTuple):
    scope: Scope
    scope_id: str
    key: str
    keys: list[str]  # value hash, index by name, index by expiry, event stream


def _optional_ms(value: bytes | str | int) -> int | None:
    number = int(value)
    return number if number >= 0 else None


class MemoryStore:
    """Scoped JSON memory of one namespace; see the package docstring for the Redis layout.

    Every write takes ttl in seconds (None: the scope's default, 0: never expires) and
    restarts the value's lifetime; every write appends one change event atomically.
    """

    matches = staticmethod(matches)

    def __init__(self, client: redis.Redis, namespace: str = "af", *,
                 default_ttls: dict[Scope, int | None] | None = None,
                 max_value_bytes: int = 1_048_576, event_max_len: int = 10_000,
                 event_max_age_seconds: int = 86_400):
        if not isinstance(namespace, str) or not namespace or not namespace.isprintable():
            raise ValueError(f"namespace must be a non-empty printable string: {namespace!r}")
        ttls = dict(DEFAULT_TTLS)
        for scope, seconds in (default_ttls or {}).items():
            check_ttl(seconds)
            ttls[parse_scope(scope)] = seconds
        self.default_ttls = ttls
        self.namespace = namespace
        self.max_value_bytes = check_count("max_value_bytes", max_value_bytes)
        self.event_max_len = check_count("event_max_len", event_max_len)
        check_ttl(event_max_age_seconds)
        self.event_max_age_seconds = event_max_age_seconds  # 0: trim by length only
        self.events = EventLog(client, f"{namespace}:memevents")
        self._client = client
        self._get = client.register_script(scripts.GET)
        self._set = client.register_script(scripts.SET)
        self._delete = client.register_script(scripts.DELETE)
        self._compare_and_set = client.register_script(scripts.COMPARE_AND_SET)
        self._increment = client.register_script(scripts.INCREMENT)
        self._list = client.register_script(scripts.LIST)

    # -- reads ---------------------------------------------------------------------------

    def get(self, scope: Scope | str, scope_id: str | None, key: str) -> dict | None:
        """Return the Memory object at key in the scope instance, or None."""
        target = self._target(scope, scope_id, key)
        return self._first([target])

    def exists(self, scope: Scope | str, scope_id: str | None, key: str) -> bool:
        """Return whether a value is stored at key in the scope instance."""
        target = self._target(scope, scope_id, key)
        return self._client.exists(target.keys[0]) == 1

    def resolve(self, scope_ids: dict[Scope, str | None], key: str, *,
                search_global: bool = True) -> dict | None:
        """Return the first value at key searching workflow, session, actor, then global.

        Only scopes given a (non-empty) id are searched, and global unless told not to.
        """
        given = {parse_scope(scope): scope_id for scope, scope_id in scope_ids.items()}
        targets = [self._target(scope, given.get(scope), key) for scope in SEARCH_ORDER
                   if (scope is Scope.GLOBAL and search_global)
                   or (scope is not Scope.GLOBAL and given.get(scope))]
        return self._first(targets)

    def list(self, scope: Scope | str, scope_id: str | None, *, prefix: str | None = None,
             limit: int = 1000) -> list[dict]:
        """Return the scope instance's live values (keys starting with prefix), sorted by key."""
        scope, scope_id = scope_instance(scope, scope_id)
        return [memory_object(scope.value, scope_id, text(row[0]), decode(row[1]), int(row[2]),
                              int(row[3]), _optional_ms(row[4]), int(row[5]))
                for row in self._range(scope, scope_id, prefix, limit, "values")]

    def list_keys(self, scope: Scope | str, scope_id: str | None, *,
                  prefix: str | None = None, limit: int = 1000) -> list[str]:
        """Return the scope instance's live keys (starting with prefix), sorted."""
        scope, scope_id = scope_instance(scope, scope_id)
        return [text(name) for name in self._range(scope, scope_id, prefix, limit, "keys")]

    # -- writes --------------------------------------------------------------------------

    def set(self, scope: Scope | str, scope_id: str | None, key: str, data: object,
            ttl: int | None = None) -> dict:
        """Store data at key; ttl in seconds (None: the scope's default, 0: never expires)."""
        target = self._target(scope, scope_id, key)
        raw = encode(data, self.max_value_bytes)
        ttl_ms = self._ttl_ms(target.scope, ttl)
        row = self._set(keys=target.keys, args=[*self._args(target, ttl_ms), raw])
        return self._written(target, decode(raw), row, ttl_ms)

    def delete(self, scope: Scope | str, scope_id: str | None, key: str) -> bool:
        """Delete the value at key; return whether there was one."""
        target = self._target(scope, scope_id, key)
        return self._delete(keys=target.keys, args=self._args(target, 0)) == 1

    def increment(self, scope: Scope | str, scope_id: str | None, key: str,
                  amount: int | float = 1, ttl: int | None = None) -> dict:
        """Add amount to the number at key atomically (a missing key counts as 0)."""
        target = self._target(scope, scope_id, key)
        amount_arg, kind = check_amount(amount)
        ttl_ms = self._ttl_ms(target.scope, ttl)
        try:
            row = self._increment(keys=target.keys,
                                  args=[*self._args(target, ttl_ms), amount_arg, kind])
        except redis.ResponseError as exc:
            message = str(exc)
            if message.startswith("NOTANUMBER "):
                raise NotANumber(f"cannot increment {target.key!r}: "
                                 f"{message.removeprefix('NOTANUMBER ')}") from None
            raise
        return self._written(target, decode(row[4]), row, ttl_ms)

    def compare_and_set(self, scope: Scope | str, scope_id: str | None, key: str,
                        expected: object, data: object, ttl: int | None = None) -> dict:
        """Store data only if the value equals expected (None: only if there is no value).

        Raise CompareFailed, carrying the current Memory object (or None), otherwise.
        """
        target = self._target(scope, scope_id, key)
        raw = encode(data, self.max_value_bytes)
        ttl_ms = self._ttl_ms(target.scope, ttl)
        condition = ["absent", ""] if expected is None else ["equal", encode(expected)]
        row = self._compare_and_set(keys=target.keys,
                                    args=[*self._args(target, ttl_ms), *condition, raw])
        if int(row[0]) == 0:
            current = self._memory(target, row[1:]) if len(row) > 1 else None
            state = "is absent" if current is None else "holds another value"
            raise CompareFailed(f"memory {target.key!r} {state}", current)
        return self._written(target, decode(raw), row, ttl_ms)

    def update(self, scope: Scope | str, scope_id: str | None, key: str,
               fn: Callable[[object], object], ttl: int | None = None,
               max_attempts: int = 50) -> dict:
        """Store fn(current data, or None when absent) in an optimistic transaction.

        fn may run several times (once per attempt); ContentionTooHigh after max_attempts.
        """
        target = self._target(scope, scope_id, key)
        ttl_ms = self._ttl_ms(target.scope, ttl)
        check_count("max_attempts", max_attempts)
        with self._client.pipeline(transaction=True) as pipe:
            for attempt in range(max_attempts):
                try:
                    pipe.watch(target.keys[0])
                    current = pipe.hget(target.keys[0], "data")
                    raw = encode(fn(None if current is None else decode(current)),
                                 self.max_value_bytes)
                    pipe.multi()
                    self._set(keys=target.keys, args=[*self._args(target, ttl_ms), raw],
                              client=pipe)
                    (row,) = pipe.execute()
                except redis.WatchError:
                    time.sleep(random.uniform(0, min(0.05, 0.0005 * 2 ** attempt)))
                    continue
                return self._written(target, decode(raw), row, ttl_ms)
        raise ContentionTooHigh(f"memory {target.key!r} changed under update() "
                                f"{max_attempts} times in a row")

    # -- events --------------------------------------------------------------------------

    def latest_event_id(self) -> str:
        """Return the newest event's id ("0-0" when none), to start read_events without a gap."""
        return self.events.latest_id()

    def events_after(self, last_id: str | None, *, count: int = 100) -> list[dict]:
        """Return up to count events strictly after last_id, oldest first (None: from the start)."""
        return self.events.after(last_id, count=count)

    def read_events(self, last_id: str, block_ms: int, count: int = 100) -> list[dict]:
        """Return events after last_id ("$": only new ones), blocking up to block_ms for one."""
        return self.events.read(last_id, block_ms, count)

    def history(self, *, scope: Scope | str | None = None, scope_id: str | None = None,
                patterns: Iterable[str] | None = None, limit: int = 100,
                since_id: str | None = None) -> list[dict]:
        """Return the latest limit retained events matching the filters, newest last."""
        return self.events.history(scope=scope, scope_id=scope_id, patterns=patterns,
                                   limit=limit, since_id=since_id)

    # -- helpers -------------------------------------------------------------------------

    def _target(self, scope: Scope | str, scope_id: str | None, key: str) -> _Target:
        scope, scope_id = scope_instance(scope, scope_id)
        prefix = scope_prefix(self.namespace, scope, scope_id)
        by_name, by_expiry = index_keys(self.namespace, scope, scope_id)
        return _Target(scope, scope_id, key, [prefix + validate_key(key), by_name, by_expiry,
                                              self.events.stream_key])

    def _ttl_ms(self, scope: Scope, ttl: int | None) -> int:
        check_ttl(ttl)
        seconds = self.default_ttls[scope] if ttl is None else ttl
        return (seconds or 0) * 1000

    def _args(self, target: _Target, ttl_ms: int) -> list:
        return [target.scope.value, target.scope_id, target.key, ttl_ms, self.event_max_len,
                self.event_max_age_seconds * 1000]

    def _memory(self, target: _Target, row: list) -> dict:
        """Return the Memory object of a script's value row (data, times, expiry, pttl)."""
        return memory_object(target.scope.value, target.scope_id, target.key, decode(row[0]),
                             int(row[1]), int(row[2]), _optional_ms(row[3]), int(row[4]))

    def _written(self, target: _Target, data: object, row: list, ttl_ms: int) -> dict:
        return memory_object(target.scope.value, target.scope_id, target.key, data,
                             int(row[1]), int(row[2]), _optional_ms(row[3]),
                             ttl_ms if ttl_ms else None)

    def _first(self, targets: list[_Target]) -> dict | None:
        row = self._get(keys=[target.keys[0] for target in targets])
        position = int(row[0])
        return self._memory(targets[position - 1], row[1:]) if position else None

    def _range(self, scope: Scope, scope_id: str, prefix: str | None, limit: int,
               mode: str) -> list:
        check_count("limit", limit)
        if prefix is None or prefix == "":
            low, high = "-", "+"
        elif isinstance(prefix, str):
            low, high = b"[" + prefix.encode(), b"(" + prefix.encode() + b"\xff"
        else:
            raise InvalidValue(f"prefix must be a string, not {prefix!r}")
        return self._list(keys=list(index_keys(self.namespace, scope, scope_id)),
                          args=[low, high, limit, mode,
                                scope_prefix(self.namespace, scope, scope_id)])
