"""Deliver outcomes to the control plane through a Redis stream (HTTP as the fallback).

One pipeline appends the report to ``<ns>:reports`` and marks the lease done, so a
redelivered message can never run an execution whose outcome is already recorded.
The control plane consumes the stream with a consumer group and applies each report
exactly as ``POST /api/v1/executions/{id}/status`` would.
"""

import logging

import orjson
import redis

from agent_sdk.lease import DONE, LeaseManager

log = logging.getLogger(__name__)


def reports_stream(namespace: str) -> str:
    return f"{namespace}:reports"


class ReportSink:
    """Append status reports to the stream; fall back to HTTP when Redis refuses."""

    def __init__(self, leases: LeaseManager, client, namespace: str, via: str = "stream"):
        self.leases = leases
        self.http = client
        self.stream = reports_stream(namespace)
        self.via = via

    def finished(self, execution_id: str, report: dict) -> None:
        """Record a terminal report and mark the lease done, atomically."""
        if self.via == "http":
            self._post(execution_id, report)
            return
        fields = {"execution_id": execution_id, "report": orjson.dumps(report)}
        try:
            pipe = self.leases.client.pipeline(transaction=True)
            pipe.xadd(self.stream, fields)
            pipe.set(self.leases.key(execution_id), DONE, ex=self.leases.done_ttl)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("report of %s via Redis failed (%s); using HTTP", execution_id, exc)
            self._post(execution_id, report)
            return
        self.leases.forget(execution_id)

    def _post(self, execution_id: str, report: dict) -> None:
        self.http.post_with_retry(f"/api/v1/executions/{execution_id}/status", report,
                                  ok=(409,))
        self.leases.finish(execution_id)

    def started(self, execution_id: str, started_at: str) -> None:
        """Tell the control plane a slow execution is running (best effort)."""
        report = {"status": "running", "started_at": started_at}
        if self.via == "http":
            self.http.post(f"/api/v1/executions/{execution_id}/status", report, ok=(409,))
            return
        self.leases.client.xadd(self.stream, {"execution_id": execution_id,
                                              "report": orjson.dumps(report)})
