"""Deliver outcomes to the control plane through a Redis stream (HTTP as the fallback).

One pipeline appends the report to ``<ns>:reports`` and marks the lease done, so a
redelivered message can never run an execution whose outcome is already recorded.
The control plane consumes the stream with a consumer group and applies each report
exactly as ``POST /api/v1/executions/{id}/status`` would. With an API key, each entry
is signed (``protocol.report_signature``): the control plane applies a report only when
it comes from the node that owns the execution, whichever path it takes.
"""

import logging
import threading
import time
from collections.abc import Callable

import orjson
import redis

from agent_sdk import protocol
from agent_sdk.client import ControlPlaneClient
from agent_sdk.lease import DONE, LeaseManager

log = logging.getLogger(__name__)


class ReportSink:
    """Append status reports to the stream; fall back to HTTP when Redis refuses."""

    def __init__(self, leases: LeaseManager, client: ControlPlaneClient, namespace: str,
                 via: str = "stream") -> None:
        self.leases = leases
        self.http = client
        self.stream = protocol.reports_stream(namespace)
        self.via = via
        api_key = client.api_key
        self._key_id = protocol.key_id_of(api_key) if api_key else None
        self._signing_key = protocol.report_signing_key(api_key) if api_key else None

    def entry(self, execution_id: str, report: dict) -> dict:
        """Return the stream entry of a report, signed when the agent holds a key."""
        encoded = orjson.dumps(report)
        fields: dict = {"execution_id": execution_id, "report": encoded}
        if self._signing_key is not None:
            fields[protocol.REPORT_KEY_FIELD] = self._key_id
            fields[protocol.REPORT_SIGNATURE_FIELD] = protocol.report_signature(
                self._signing_key, execution_id, encoded)
        return fields

    def finished(self, execution_id: str, report: dict) -> None:
        """Record a terminal report and mark the lease done, atomically."""
        if self.via == "http":
            self._post(execution_id, report)
            return
        try:
            pipe = self.leases.client.pipeline(transaction=True)
            pipe.xadd(self.stream, self.entry(execution_id, report))
            pipe.set(self.leases.key(execution_id), DONE, ex=self.leases.done_ttl)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("report of %s via Redis failed (%s); using HTTP", execution_id, exc)
            self._post(execution_id, report)
            return
        self.leases.forget(execution_id)

    def _post(self, execution_id: str, report: dict) -> None:
        self.http.post_with_retry(protocol.status_path(execution_id), report,
                                  ok=(409,))
        self.leases.finish(execution_id)

    def started(self, execution_id: str, started_at: str) -> None:
        """Tell the control plane a slow execution is running (best effort)."""
        report = {"status": protocol.RUNNING, "started_at": started_at}
        if self.via == "http":
            self.http.post(protocol.status_path(execution_id), report, ok=(409,))
            return
        self.leases.client.xadd(self.stream, self.entry(execution_id, report))


class StartedReporter:
    """Report ``running`` only for executions still going after a short delay.

    Fast functions finish first and skip the extra request; slow ones show up as
    running within ``delay`` seconds. One thread serves the whole process.
    """

    def __init__(self, send: Callable[[str, str], object], delay: float = 0.25) -> None:
        self._send = send
        self.delay = delay
        self._pending: dict[str, tuple[float, str]] = {}
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="started-reporter",
                                        daemon=True)
        self._thread.start()

    def schedule(self, execution_id: str, started_at: str) -> None:
        with self._wake:
            self._pending[execution_id] = (time.monotonic() + self.delay, started_at)
            if len(self._pending) == 1:  # later entries are never due sooner
                self._wake.notify()

    def cancel(self, execution_id: str) -> None:
        with self._wake:
            self._pending.pop(execution_id, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [(k, v[1]) for k, v in self._pending.items() if v[0] <= now]
                for key, _ in due:
                    del self._pending[key]
                if not due:
                    soonest = min((v[0] for v in self._pending.values()), default=now + 60)
                    self._wake.wait(timeout=max(0.01, soonest - now))
                    continue
            for execution_id, started_at in due:
                try:
                    self._send(execution_id, started_at)
                except Exception as exc:  # best effort: the final report still lands
                    log.debug("running report for %s failed: %s", execution_id, exc)
