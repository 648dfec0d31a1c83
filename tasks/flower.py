"""Start Flower for the control plane's Celery app, refusing to run without basic auth.

Usage: ``python -m tasks.flower`` (reads FLOWER_BASIC_AUTH="user:password", PORT).
"""

import os
import sys


def flower_argv(environ=os.environ) -> list[str]:
    """Build the ``celery flower`` command line, or exit when auth is not configured."""
    auth = environ.get("FLOWER_BASIC_AUTH", "")
    if ":" not in auth:
        sys.exit("FLOWER_BASIC_AUTH must be set to user:password (Flower shows task data)")
    port = environ.get("FLOWER_PORT") or environ.get("PORT") or "5555"
    return [
        sys.executable, "-m", "celery", "-A", "tasks.worker:celery", "flower",
        f"--port={port}", "--address=" + environ.get("FLOWER_ADDRESS", "0.0.0.0"),
        f"--basic-auth={auth}", "--max_tasks=10000", "--purge_offline_workers=300",
    ]


if __name__ == "__main__":
    argv = flower_argv()
    os.execv(argv[0], argv)
