"""Webhook signatures: AgentField's body HMAC, and one over a timestamp for replay safety.

``X-AgentField-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` is what AgentField
sends. It can be replayed forever, so we also send ``X-AgentField-Timestamp`` (Unix
seconds) and ``X-AgentField-Signature-V2: sha256=<hex HMAC-SHA256(secret,
"<timestamp>.<body>")>``; a receiver that checks the second one and rejects old
timestamps is safe against replays.
"""

import hashlib
import hmac

SIGNATURE = "X-AgentField-Signature"
SIGNATURE_V2 = "X-AgentField-Signature-V2"
TIMESTAMP = "X-AgentField-Timestamp"


def body_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def timestamped_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str | None, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the timestamp header, plus both signatures when there is a secret."""
    headers = {TIMESTAMP: str(timestamp)}
    if secret:
        headers[SIGNATURE] = body_signature(secret, body)
        headers[SIGNATURE_V2] = timestamped_signature(secret, timestamp, body)
    return headers
