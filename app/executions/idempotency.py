"""Idempotency-Key on the execute endpoints, kept in PostgreSQL with the execution itself.

The same key with the same request returns the original execution (no new record, no
second run); the same key with a different request is 409. The key lives on the row
under a unique constraint, so two racing requests cannot both win, and it stops
counting after ``AGENTFIELD_IDEMPOTENCY_TTL`` (24 h): the next use releases it.
"""

import hashlib
from datetime import timedelta

import orjson

from app.errors import InvalidField
from app.executions import store
from app.extensions import get_config
from app.models.types import utcnow
from config.errors import ControlPlaneError

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ControlPlaneError):
    """Raised when an Idempotency-Key comes back with a different request."""

    code = "idempotency_key_reused"
    status = 409


def read_key(headers) -> str | None:
    """Return the request's Idempotency-Key, or None; InvalidField when unusable."""
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidField(f"'Idempotency-Key' must be 1 to {MAX_KEY_LENGTH} characters",
                           {"field": "Idempotency-Key"})
    return key


def fingerprint(target: str, body: dict) -> str:
    """Hash what makes two requests the same: the target and the whole body."""
    canonical = orjson.dumps({"target": target, "body": body}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def insert_or_replay(row: dict) -> dict | None:
    """Insert the keyed row; return None if it is new, else the original execution.

    Raises:
        IdempotencyKeyReused: the key belongs to a different request.
    """
    cutoff = utcnow() - timedelta(seconds=get_config().idempotency_ttl)
    inserted, original = store.insert_keyed(row, released_before=cutoff)
    if inserted:
        return None
    if original is None:  # released between our two statements: try once more
        return insert_or_replay(row)
    if (original["request_fingerprint"] != row["request_fingerprint"]
            or original.get("key_id") != row.get("key_id")):  # another key's: not shown
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request",
            {"execution_id": original["execution_id"]})
    return original
