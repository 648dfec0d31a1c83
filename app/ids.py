"""Execution and run identifiers in AgentField's format: ``exec_YYYYMMDD_HHMMSS_xxxxxxxx``."""

import secrets
import string
import time

_ALPHABET = string.ascii_lowercase + string.digits


def new_id(prefix: str) -> str:
    """Return a new id such as ``exec_20261124_132200_k3x9a0qz``."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{prefix}_{stamp}_{suffix}"
