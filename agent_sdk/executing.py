"""Running the executions an agent's queue delivers: leases, reports, revocation."""

import logging
import os
import time

import redis

from agent_sdk import revoker as revocation
from agent_sdk.context import ExecutionContext, set_cancel_probe
from agent_sdk.errors import NotRegistered
from agent_sdk.lease import LeaseManager
from agent_sdk.reporting import ReportSink
from agent_sdk.revoker import Revoker
from agent_sdk.runner import StartedReporter, run_blocking

log = logging.getLogger("agent_sdk")


class ExecutionMixin:
    """The half of ``Agent`` that runs one delivered execution at most once.

    Expects ``broker_url``, ``namespace``, ``max_run_seconds``, ``client`` and
    ``registry`` on the agent, and ``_leases``, ``_sink``, ``_started_reporter`` set to
    None by its constructor.
    """

    def _lease_manager(self) -> LeaseManager:
        if self._leases is None:
            client = redis.Redis.from_url(self.broker_url, socket_timeout=10,
                                          socket_connect_timeout=5)
            # A shorter lease finds a dead worker sooner; it is renewed every third of it.
            lease = float(os.environ.get("AGENTFIELD_LEASE_SECONDS", "60"))
            self._leases = LeaseManager(client, self.namespace or "af", lease_seconds=lease,
                                        done_ttl_seconds=4 * self.max_run_seconds + 86400)
            set_cancel_probe(self._leases.is_cancelled)
            grace = float(os.environ.get("AGENTFIELD_CANCEL_GRACE", "30"))
            revocation.install(Revoker(self._leases.cancelled_many, grace))
        return self._leases

    def _report_sink(self) -> ReportSink:
        if self._sink is None:
            # "stream" (default) or "http": how outcomes reach the control plane.
            via = os.environ.get("AGENTFIELD_REPORT_VIA", "stream")
            self._sink = ReportSink(self._lease_manager(), self.client,
                                    self.namespace or "af", via=via)
        return self._sink

    def _reporter(self) -> StartedReporter:
        if self._started_reporter is None:
            self._started_reporter = StartedReporter(self._report_sink().started)
        return self._started_reporter

    def handle_message(self, message: dict) -> None:
        """Run one execution delivered on the queue, at most once at a time."""
        execution_id = message["execution_id"]
        leases = self._lease_manager()
        held_elsewhere = leases.acquire(execution_id)
        if held_elsewhere == "cancelled":
            log.info("skipping %s: cancelled before it started", execution_id)
            return
        if held_elsewhere:
            log.info("dropping redelivered %s: already %s", execution_id, held_elsewhere)
            return
        try:
            report = self._execute(message)
            self.report_outcome(execution_id, report)
        except BaseException:
            leases.release(execution_id)
            raise

    def _execute(self, message: dict) -> dict:
        ctx = ExecutionContext.from_message(message)
        try:
            registration = self.registry.get(message["function"])
        except NotRegistered as exc:
            return {"status": "failed", "error": str(exc), "error_type": "NotRegistered"}
        reporter = self._reporter()
        reporter.schedule(ctx.execution_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            return run_blocking(registration, message.get("input") or {}, ctx)
        finally:
            reporter.cancel(ctx.execution_id)

    def report_outcome(self, execution_id: str, report: dict) -> None:
        """Deliver the terminal report durably, before the message is acked."""
        self._report_sink().finished(execution_id, report)
