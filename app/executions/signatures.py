"""Who wrote a report-stream entry: its signature, checked against the key it names.

Agents sign each entry with a secret derived from their API key (``app/auth/tokens.py``,
``agent_sdk/protocol.py``); the control plane keeps that secret sealed with the key's
row. An entry that is unsigned, signed wrongly, or signed by a revoked, expired or
non-node key is refused: set aside in the dead-letter stream and counted, and it never
changes an execution.
"""

import hmac
import logging

import redis

from app.auth.errors import AuthenticationError, InsufficientScope
from app.auth.keys import check_usable, signer_of
from app.auth.tokens import report_signature
from app.executions.lifecycle import Reporter, reporter_for
from app.extensions import get_config, get_keys, get_redis

log = logging.getLogger(__name__)
_MAX_KEY_ID = 32


class ForgedReport(Exception):
    """Raised for a stream entry whose author cannot be established."""


def reporter_of_entry(fields: dict, execution_id: str) -> Reporter:
    """Return who reported the entry (raises ForgedReport)."""
    config = get_config()
    if config.auth_disabled:
        return Reporter(None)
    key_id, signature = fields.get(b"key"), fields.get(b"sig")
    if not key_id or not signature:
        raise ForgedReport("the entry is not signed (the agent has no API key?)")
    if len(key_id) > _MAX_KEY_ID:
        raise ForgedReport("the entry names no key we know")
    key_id = key_id.decode(errors="replace")
    signer = signer_of(key_id, config.api_key)
    if signer is None:
        raise ForgedReport(f"the entry names no key we know ({key_id!r})")
    principal, secret = signer
    expected = report_signature(secret, execution_id, fields.get(b"report") or b"")
    if not hmac.compare_digest(expected.encode(), signature):
        raise ForgedReport(f"the signature does not match key {key_id!r}")
    try:
        return reporter_for(check_usable(principal))
    except (AuthenticationError, InsufficientScope) as exc:
        raise ForgedReport(f"key {key_id!r} may not report: {exc}") from None


def count_refused_report() -> None:
    """Count a refused report (``GET /api/v1/health`` shows the total)."""
    try:
        get_redis().incr(get_keys().refused_reports)
    except redis.RedisError as exc:
        log.warning("refused report not counted: %s", exc)
