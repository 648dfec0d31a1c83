"""Shared memory fabric: agents share JSON state in Redis, scoped and observed as events.

Redis layout, for namespace ``<ns>`` and scope instance ``<scope>:<scope_id>`` (the global
scope's id is always "global"):

- ``<ns>:mem:<scope>:<scope_id>:<key>``: hash of one value: ``data`` (canonical JSON),
  ``created_at``, ``updated_at`` and, when it expires, ``expires_at`` (epoch ms); the key
  carries the same expiry (PEXPIREAT).
- ``<ns>:memidx:<scope>:<scope_id>``: sorted set of the instance's keys, all scored 0, so
  they list in name order (ZRANGEBYLEX).
- ``<ns>:memexp:<scope>:<scope_id>``: sorted set of the same keys scored by expiry (epoch ms,
  "inf" when none); listing drops expired members. Both indexes expire with their last member.
- ``<ns>:memevents``: stream of change events, one entry per write, with fields scope,
  scope_id, key, action ("set" or "delete"), data and previous_data (JSON) and ts (epoch ms);
  trimmed to about event_max_len entries and event_max_age_seconds.

May import: the standard library, redis, orjson and config.
"""

from memory.errors import (
    CompareFailed,
    ContentionTooHigh,
    InvalidKey,
    InvalidScope,
    InvalidValue,
    MemoryNotFound,
    MemoryStoreError,
    NotANumber,
    ValueTooLarge,
)
from memory.events import event_from_entry, matches
from memory.scopes import SEARCH_ORDER, Scope, memory_key, parse_scope, validate_key
from memory.store import MemoryStore

__all__ = [
    "SEARCH_ORDER", "CompareFailed", "ContentionTooHigh", "InvalidKey", "InvalidScope",
    "InvalidValue", "MemoryNotFound", "MemoryStore", "MemoryStoreError", "NotANumber", "Scope",
    "ValueTooLarge", "event_from_entry", "matches", "memory_key", "parse_scope", "validate_key",
]
