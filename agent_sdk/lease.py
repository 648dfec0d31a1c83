"""Execution leases in Redis: exactly one worker runs an execution at a time.

A redelivered message (visibility timeout, a worker lost mid-task) finds the lease
held (running elsewhere) or marked done (finished) and is dropped. A lease whose
holder died expires, so the redelivered message then runs it again.
"""

import logging
import threading
import time
import uuid

import redis

from agent_sdk import protocol

log = logging.getLogger(__name__)

DONE = protocol.LEASE_DONE
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class LeaseManager:
    """Acquire, renew and finish execution leases for one worker process."""

    def __init__(self, client: redis.Redis, namespace: str, lease_seconds: float = 60.0,
                 done_ttl_seconds: int = 86400 * 2):
        self.client = client
        self.namespace = namespace
        self.lease_ms = int(lease_seconds * 1000)
        self.done_ttl = done_ttl_seconds
        self.token = uuid.uuid4().hex
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._renew = client.register_script(_RENEW)
        self._renewer: threading.Thread | None = None

    def key(self, execution_id: str) -> str:
        return protocol.lease_key(self.namespace, execution_id)

    def cancel_key(self, execution_id: str) -> str:
        return protocol.cancel_key(self.namespace, execution_id)

    def is_cancelled(self, execution_id: str) -> bool:
        """Tell whether the control plane cancelled the execution."""
        return bool(self.client.exists(self.cancel_key(execution_id)))

    def cancelled_many(self, execution_ids: list[str]) -> list[bool]:
        """Which of the executions the control plane cancelled (one round trip)."""
        pipe = self.client.pipeline(transaction=False)
        for execution_id in execution_ids:
            pipe.exists(self.cancel_key(execution_id))
        return [bool(flag) for flag in pipe.execute()]

    def acquire(self, execution_id: str) -> str | None:
        """Take the lease; None on success, else why not ("running", "done", "cancelled")."""
        key = self.key(execution_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(key, self.token, nx=True, px=self.lease_ms)
        pipe.exists(self.cancel_key(execution_id))  # same round trip
        taken, cancelled = pipe.execute()
        if taken and cancelled:
            self.client.set(key, DONE, ex=self.done_ttl)  # a queued execution never starts
            return protocol.CANCELLED
        if taken:
            with self._lock:
                self._held.add(execution_id)
            self._ensure_renewer()
            return None
        holder = self.client.get(key)
        if holder is None:  # expired between SET and GET: try once more
            return self.acquire(execution_id)
        return "done" if holder == DONE else protocol.RUNNING

    def finish(self, execution_id: str) -> None:
        """Mark the execution done, so any redelivery of its message is dropped."""
        self.client.set(self.key(execution_id), DONE, ex=self.done_ttl)
        with self._lock:
            self._held.discard(execution_id)

    def forget(self, execution_id: str) -> None:
        """Stop renewing a lease that was marked done elsewhere (in a pipeline)."""
        with self._lock:
            self._held.discard(execution_id)

    def release(self, execution_id: str) -> None:
        """Give the lease up without finishing (the message will be redelivered)."""
        with self._lock:
            self._held.discard(execution_id)
        self.client.delete(self.key(execution_id))

    def _ensure_renewer(self) -> None:
        if self._renewer is None or not self._renewer.is_alive():
            self._renewer = threading.Thread(target=self._renew_forever,
                                             name="lease-renewer", daemon=True)
            self._renewer.start()

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease_ms / 3000)
            with self._lock:
                held = list(self._held)
            for execution_id in held:
                try:
                    self._renew(keys=[self.key(execution_id)], args=[self.token, self.lease_ms])
                except redis.RedisError as exc:
                    log.warning("could not renew lease of %s: %s", execution_id, exc)
