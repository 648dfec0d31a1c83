"""Canonical JSON for stored values, RFC 3339 timestamps, and Memory objects from Redis replies."""

import math
import re
from datetime import UTC, datetime

import orjson

from memory.errors import InvalidValue, ValueTooLarge

# Longer lifetimes end past what timestamps render (year 9999) or Redis expiries hold;
# 0 means "never expires".
MAX_TTL_SECONDS = 10 * 365 * 86_400
MAX_SAFE_INTEGER = 2**53  # integral floats below this are stored as integers, as JCS does
_INTEGRAL_FLOAT = re.compile(rb"\d\.0(?![0-9])")  # how orjson writes 3.0; may hit strings too


def text(value: bytes | str) -> str:
    """Return a Redis reply item as str, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value


def fields(reply: dict) -> dict[str, bytes | str]:
    """Return a hash or stream entry reply keyed by str field names."""
    return {text(name): value for name, value in reply.items()}


def _integral_floats_to_ints(value):
    if isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_SAFE_INTEGER:
            return int(value)
        return value
    if isinstance(value, dict):
        return {name: _integral_floats_to_ints(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_to_ints(item) for item in value]
    return value


def encode(data: object, max_bytes: int | None = None) -> bytes:
    """Return data's canonical JSON: sorted keys, integral floats as integers, no NaN.

    Raise InvalidValue when data is not JSON-encodable, ValueTooLarge past max_bytes.
    """
    try:
        raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        if _INTEGRAL_FLOAT.search(raw):
            raw = orjson.dumps(_integral_floats_to_ints(orjson.loads(raw)),
                               option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidValue(f"memory data is not JSON-encodable: {exc}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise ValueTooLarge(f"memory value is {len(raw)} bytes as JSON (at most {max_bytes})")
    return raw


def decode(raw: bytes | str) -> object:
    """Return the value of stored JSON text."""
    return orjson.loads(raw)


def timestamp(epoch_ms: int) -> str:
    """Return epoch milliseconds as RFC 3339 UTC with millisecond precision and a "Z"."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def memory_object(scope: str, scope_id: str, key: str, data: object, created_ms: int,
                  updated_ms: int, expires_ms: int | None, pttl_ms: int | None) -> dict:
    """Return a Memory object; pttl_ms is the remaining lifetime (None or negative: no expiry)."""
    if pttl_ms is None or pttl_ms < 0:
        ttl_seconds = expires_at = None
    else:
        ttl_seconds = max(1, math.ceil(pttl_ms / 1000))
        expires_at = timestamp(expires_ms) if expires_ms is not None else None
    return {"scope": scope, "scope_id": scope_id, "key": key, "data": data,
            "created_at": timestamp(created_ms), "updated_at": timestamp(updated_ms),
            "ttl_seconds": ttl_seconds, "expires_at": expires_at}


def memory_from_hash(scope: str, scope_id: str, key: str, stored: dict,
                     pttl_ms: int) -> dict | None:
    """Return the Memory object of a value hash (HGETALL) and its PTTL; None when it is gone."""
    stored = fields(stored)
    if "data" not in stored:
        return None
    expires = stored.get("expires_at")
    return memory_object(scope, scope_id, key, decode(stored["data"]),
                         int(stored["created_at"]), int(stored["updated_at"]),
                         int(expires) if expires is not None else None, pttl_ms)


def check_ttl(ttl: object) -> None:
    """Raise InvalidValue unless ttl is None or whole seconds from 0 to MAX_TTL_SECONDS."""
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)
                            or not 0 <= ttl <= MAX_TTL_SECONDS):
        raise InvalidValue(f"ttl must be a whole number of seconds from 0 to "
                           f"{MAX_TTL_SECONDS}, not {ttl!r}")


def check_amount(amount: object) -> tuple[str, str]:
    """Return an increment amount as (Lua argument, "int" or "float"); raise InvalidValue."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise InvalidValue(f"increment amount must be a number, not {amount!r}")
    if isinstance(amount, float):
        if not math.isfinite(amount):
            raise InvalidValue(f"increment amount must be finite, not {amount!r}")
        if not (amount.is_integer() and abs(amount) < MAX_SAFE_INTEGER):
            return repr(amount), "float"
        amount = int(amount)
    if not -(2**63) <= amount < 2**63:
        raise InvalidValue(f"increment amount {amount} is outside the 64-bit integer range")
    return str(amount), "int"


def check_count(name: str, value: object) -> int:
    """Return value if it is a whole number >= 1; raise InvalidValue naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue(f"{name} must be a whole number >= 1, not {value!r}")
    return value
