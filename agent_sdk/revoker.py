"""Revoke executions that keep running after they were cancelled and a grace period ran out.

Cancellation is cooperative first (``app.ctx.cancelled``, ``ExecutionCancelledError`` at
the next ``app.call``). A function that ignores it is stopped after
``AGENTFIELD_CANCEL_GRACE`` seconds (default 30): an async function's task is cancelled,
a blocking function gets ExecutionRevoked raised in its thread. Celery's own
``revoke(terminate=True)`` needs the prefork pool; agents run the threads pool.
"""

import ctypes
import logging
import threading
import time
from asyncio import AbstractEventLoop, Task
from collections.abc import Callable
from typing import Any

from agent_sdk.errors import ExecutionRevoked

log = logging.getLogger(__name__)


class Revoker:
    """Watch running executions; stop the cancelled ones that outlive the grace period."""

    def __init__(self, cancelled_many: Callable[[list[str]], list[bool]], grace_seconds: float,
                 interval: float = 1.0) -> None:
        self._cancelled_many = cancelled_many  # list of ids -> list of bools, one round trip
        self.grace = grace_seconds
        self.interval = interval
        self._running: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, execution_id: str) -> None:
        """Note that this thread now runs the execution."""
        with self._lock:
            self._running[execution_id] = {"thread": threading.get_ident(), "task": None,
                                           "loop": None, "cancelled_at": None}
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="revoker",
                                                daemon=True)
                self._thread.start()

    def attach_task(self, execution_id: str, loop: AbstractEventLoop,
                    task: "Task[Any]") -> None:
        """The execution is an asyncio task on ``loop``: revoke it by cancelling the task."""
        with self._lock:
            entry = self._running.get(execution_id)
            if entry is not None:
                entry.update(task=task, loop=loop)

    def unwatch(self, execution_id: str) -> None:
        with self._lock:
            if self._running.pop(execution_id, None) is None:
                # Revoked as it ended: drop an exception not yet raised in this thread.
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(threading.get_ident()), None)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self._check()
            except Exception as exc:  # a broker hiccup: try again next round
                log.warning("revoker could not check cancellations: %s", exc)

    def _check(self) -> None:
        with self._lock:
            ids = list(self._running)
        if not ids:
            return
        flags = self._cancelled_many(ids)
        now = time.monotonic()
        with self._lock:
            for execution_id, cancelled in zip(ids, flags, strict=True):
                entry = self._running.get(execution_id)
                if entry is None or not cancelled:
                    continue
                if entry["cancelled_at"] is None:
                    entry["cancelled_at"] = now
                elif now - entry["cancelled_at"] >= self.grace:
                    self._running.pop(execution_id)
                    _stop(execution_id, entry, self.grace)


def _stop(execution_id: str, entry: dict[str, Any], grace: float) -> None:
    log.warning("revoking %s: cancelled and still running after %gs", execution_id, grace)
    task, loop = entry["task"], entry["loop"]
    if task is not None:
        loop.call_soon_threadsafe(task.cancel)
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(entry["thread"]),
                                               ctypes.py_object(ExecutionRevoked))
