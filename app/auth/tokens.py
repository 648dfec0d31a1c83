"""API key strings: their form, their stored hash, and the secret that signs reports.

A scoped key reads ``afk_<key id>_<secret>``: the id finds the row, the secret is
checked against its SHA-256 (a 256-bit random secret needs no slow hash). Any other
string can only be the server's single ``AGENTFIELD_API_KEY`` (AgentField's form),
whose id is ``env``. The agent's side of this contract is ``agent_sdk/protocol.py``;
``tests/unit/test_wire_contract.py`` checks that both agree.
"""

import hashlib
import hmac
import secrets

KEY_PREFIX = "afk_"
ENV_KEY_ID = "env"
_REPORT_KEY_LABEL = b"agentfield/report-signing/v1"
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_token() -> tuple[str, str]:
    """Return a new key's id and its whole token (shown once, never stored)."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(token: str) -> str:
    """Return the id a token names: ``afk_<id>_...`` gives ``<id>``, anything else "env"."""
    if token.startswith(KEY_PREFIX):
        key_id, sep, _secret = token[len(KEY_PREFIX):].partition("_")
        if sep and key_id:
            return key_id
    return ENV_KEY_ID


def display_prefix(key_id: str) -> str:
    """What is shown of a key after its creation: ``afk_<id>``."""
    return f"{KEY_PREFIX}{key_id}"


def token_hash(token: str) -> str:
    """The stored form of a token's secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def report_signing_key(token: str) -> bytes:
    """Derive the secret an agent signs its stream reports with (one-way)."""
    return hmac.new(token.encode(), _REPORT_KEY_LABEL, hashlib.sha256).digest()


def report_signature(signing_key: bytes, execution_id: str, report: bytes) -> str:
    """HMAC-SHA256 over the execution id, a newline and the report's bytes."""
    return hmac.new(signing_key, execution_id.encode() + b"\n" + report,
                    hashlib.sha256).hexdigest()
