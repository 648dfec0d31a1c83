"""The api_keys table: create, list and revoke keys; find the caller of a token.

A looked-up key is trusted for ``AGENTFIELD_KEY_CACHE_SECONDS`` (2 s) in each process,
so the request path costs no query; a revocation reaches every process within that
time (at once in the process that revoked it).
"""

import functools
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from app.auth.errors import ApiKeyExpired, ApiKeyNotFound, ApiKeyRevoked, InvalidApiKey
from app.auth.principal import ENV_PRINCIPAL, Principal
from app.auth.scopes import parse_scopes
from app.auth.tokens import (
    ENV_KEY_ID,
    display_prefix,
    key_id_of,
    new_token,
    report_signing_key,
    token_hash,
)
from app.extensions import connection, get_config
from app.keystore import secret_box
from app.models import ApiKey
from app.models.types import as_utc, isoformat, utcnow

log = logging.getLogger("agentfield.audit")

api_keys = ApiKey.__table__
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class KeyRecord:
    """A key as the request path needs it."""

    token_hash: str
    principal: Principal
    report_key: bytes  # unsealed once per cache period, not per report


_cache: dict[str, tuple[float, KeyRecord | None]] = {}


def create_key(name: str, scopes: list[str], *, expires_at: datetime | None = None,
               rate_limit: float | None = None, rate_burst: int | None = None,
               created_by: str | None = None) -> tuple[dict, str]:
    """Store a new key; return its view and the token (which is never shown again).

    Raises:
        InvalidField: an unknown scope or a bad limit.
    """
    parse_scopes(scopes)
    key_id, token = new_token()
    now = utcnow()
    values = {"id": key_id, "name": name, "token_hash": token_hash(token), "scopes": scopes,
              "sealed_report_key": secret_box().seal(report_signing_key(token)),
              "rate_limit": rate_limit, "rate_burst": rate_burst, "created_by": created_by,
              "created_at": now, "expires_at": expires_at, "revoked_at": None}
    with connection() as conn:
        conn.execute(insert(api_keys).values(values))
    log.info("api key %s (%r) created by %s with scopes %s", key_id, name,
             created_by or "the command line", scopes)
    return key_view(values), token


def list_keys() -> list[dict]:
    """Every key, newest first, as shown to admins (never a secret)."""
    with connection() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at.desc()))
        return [key_view(row) for row in rows.mappings()]


def revoke_key(key_id: str, revoked_by: str | None = None) -> dict:
    """Revoke a key now (idempotent); return its view.

    Raises:
        ApiKeyNotFound: no key has that id.
    """
    with connection() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id,
                                            api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise ApiKeyNotFound(f"no API key '{key_id}'", {"key_id": key_id})
    _cache.pop(key_id, None)
    log.info("api key %s revoked by %s", key_id, revoked_by or "the command line")
    return key_view(row)


def revoke_named(name: str, revoked_by: str | None = None) -> list[str]:
    """Revoke every active key of that name; return their ids."""
    with connection() as conn:
        ids = list(conn.execute(update(api_keys).where(
            api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow()).returning(api_keys.c.id)).scalars())
    for key_id in ids:
        _cache.pop(key_id, None)
        log.info("api key %s (%r) revoked by %s", key_id, name,
                 revoked_by or "the command line")
    return ids


def key_view(row) -> dict:
    """A key as admins see it: its prefix, never its secret or hash."""
    return {"id": row["id"], "prefix": display_prefix(row["id"]), "name": row["name"],
            "scopes": row["scopes"], "rate_limit": row["rate_limit"],
            "rate_burst": row["rate_burst"], "created_by": row["created_by"],
            "created_at": isoformat(row["created_at"]),
            "expires_at": isoformat(row["expires_at"]),
            "revoked_at": isoformat(row["revoked_at"]),
            "active": row["revoked_at"] is None and not _expired(row["expires_at"])}


def authenticate(token: str, env_key: str | None) -> Principal:
    """Return the caller a token names (``env_key``: the server's AGENTFIELD_API_KEY).

    Raises:
        InvalidApiKey, ApiKeyRevoked, ApiKeyExpired.
    """
    if env_key and hmac.compare_digest(token.encode(), env_key.encode()):
        return ENV_PRINCIPAL
    key_id = key_id_of(token)
    record = _record(key_id) if key_id != ENV_KEY_ID else None
    if record is None or not hmac.compare_digest(record.token_hash, token_hash(token)):
        raise InvalidApiKey("the API key is not valid")
    return check_usable(record.principal)


def check_usable(principal: Principal) -> Principal:
    """Refuse a revoked or expired key (raises ApiKeyRevoked, ApiKeyExpired)."""
    if principal.revoked:
        raise ApiKeyRevoked(f"API key {display_prefix(principal.key_id or '')} was revoked")
    if _expired(principal.expires_at):
        raise ApiKeyExpired(f"API key {display_prefix(principal.key_id or '')} has expired")
    return principal


def still_usable(principal: Principal) -> bool:
    """Whether a caller's key still works (a long-lived stream asks between reads)."""
    if principal.key_id is None or principal.key_id == ENV_KEY_ID:
        return True
    record = _record(principal.key_id)
    return (record is not None and not record.principal.revoked
            and not _expired(record.principal.expires_at))


def signer_of(key_id: str, env_key: str | None) -> tuple[Principal, bytes] | None:
    """The caller a signed stream report names by key id, and the secret it signs with
    (None: no such key)."""
    if key_id == ENV_KEY_ID:
        return (ENV_PRINCIPAL, _env_report_key(env_key)) if env_key else None
    record = _record(key_id)
    return (record.principal, record.report_key) if record else None


@functools.lru_cache(maxsize=4)
def _env_report_key(env_key: str) -> bytes:
    return report_signing_key(env_key)


def any_key_configured() -> bool:
    """Whether a caller could authenticate at all (the env key, or an active key)."""
    if get_config().api_key:
        return True
    # Expired keys are left out too: a server whose only keys have expired would answer
    # 401 to everyone, which is what refusing to start is for.
    with connection() as conn:
        return conn.execute(select(api_keys.c.id).where(
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > utcnow()))
            .limit(1)).first() is not None


def forget_cached() -> None:
    """Drop this process's cached keys (tests, and after a bulk change)."""
    _cache.clear()


def _record(key_id: str) -> KeyRecord | None:
    now = time.monotonic()
    cached = _cache.get(key_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    if len(key_id) > 32:
        return None
    with connection() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        return None
    record = KeyRecord(row["token_hash"], _principal(row),
                       secret_box().open(row["sealed_report_key"]))
    if len(_cache) >= _MAX_CACHED:
        _cache.clear()
    _cache[key_id] = (now + get_config().key_cache_seconds, record)
    return record


def _principal(row) -> Principal:
    return Principal(key_id=row["id"], name=row["name"], grants=parse_scopes(row["scopes"]),
                     expires_at=row["expires_at"], revoked=row["revoked_at"] is not None,
                     rate_limit=row["rate_limit"], rate_burst=row["rate_burst"])


def _expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and as_utc(expires_at) <= utcnow()
