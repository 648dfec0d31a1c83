"""Wait for an execution's end: the sync endpoint's side of the completion signal."""

import time

import orjson

from app.executions import store
from app.executions.views import sync_view
from app.extensions import get_blocking_redis, get_config, get_keys
from app.status import TERMINAL


def wait_for_completion(execution_id: str, timeout: float) -> dict | None:
    """Block until the execution ends; return its sync view, or None when time runs out.

    Waits on the Redis completion list (pushed by the lifecycle's waiter hook) in
    slices and re-reads the row after each empty slice, so a lost signal costs at most
    one slice.
    """
    config = get_config()
    blocking = get_blocking_redis()
    key = get_keys().done(execution_id)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        item = blocking.blpop([key], timeout=max(0.01, min(remaining, config.sync_wait_slice)))
        if item is not None:
            return orjson.loads(item[1])
        row = store.fetch_execution(execution_id)
        if row["status"] in TERMINAL:
            return sync_view(row)
    return None


def poll_until_finished(execution_id: str, timeout: float) -> dict | None:
    """Wait for an execution another request started (its signal is not ours to take)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        row = store.fetch_execution(execution_id)
        if row["status"] in TERMINAL:
            return sync_view(row)
        if time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
