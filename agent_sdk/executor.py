"""Take each execution the queue delivers to its end, at most once: lease, run, report.

The executor owns what one agent process shares between its worker threads: the Redis
leases, the report sink, the revoker and the started-reporter. They are built on the
first execution, once the broker is known (the control plane may advertise it at
registration).
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence

import redis

from agent_sdk import protocol
from agent_sdk.client import ControlPlaneClient
from agent_sdk.context import ExecutionContext
from agent_sdk.errors import NotRegistered
from agent_sdk.lease import LeaseManager
from agent_sdk.middleware import Middleware
from agent_sdk.registry import Registration, Registry
from agent_sdk.reporting import ReportSink, StartedReporter
from agent_sdk.revoker import Revoker
from agent_sdk.runner import run_awaitable, run_blocking
from agent_sdk.settings import AgentSettings

log = logging.getLogger("agent_sdk")


class Executor:
    """Run delivered executions of one agent's functions and report their outcomes."""

    def __init__(self, registry: Registry, client: ControlPlaneClient,
                 settings: AgentSettings, middleware: Sequence[Middleware], *,
                 broker_url: Callable[[], str], namespace: Callable[[], str]) -> None:
        self.registry = registry
        self.middleware = tuple(middleware)
        self._client = client
        self._settings = settings
        self._broker_url = broker_url
        self._namespace = namespace
        self._lock = threading.Lock()
        self._leases: LeaseManager | None = None
        self._revoker: Revoker | None = None
        # Set once, under the lock; read without it on every execution afterwards.
        self._parts: tuple[LeaseManager, ReportSink, StartedReporter] | None = None

    def handle(self, message: dict) -> None:
        """Run one execution delivered on the queue, unless it runs or ran elsewhere."""
        execution_id = message["execution_id"]
        leases, sink, started = self._connect()
        held_elsewhere = leases.acquire(execution_id)
        if held_elsewhere == protocol.CANCELLED:
            log.info("skipping %s: cancelled before it started", execution_id)
            return
        if held_elsewhere:
            log.info("dropping redelivered %s: already %s", execution_id, held_elsewhere)
            return
        try:
            sink.finished(execution_id, self._execute(message, started))
        except BaseException:
            leases.release(execution_id)
            raise

    def _execute(self, message: dict, started: StartedReporter) -> dict:
        ctx = ExecutionContext.from_message(message, cancel_probe=self.is_cancelled)
        try:
            registration = self.registry.get(message["function"])
        except NotRegistered as exc:
            return {"status": protocol.FAILED, "error": str(exc),
                    "error_type": "NotRegistered"}
        started.schedule(ctx.execution_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            return self.run(registration, message.get("input") or {}, ctx)
        finally:
            started.cancel(ctx.execution_id)

    def run(self, registration: Registration, data: dict, ctx: ExecutionContext) -> dict:
        """Run a function in this thread (revocable once connected); return its report."""
        return run_blocking(registration, data, ctx, self.middleware, self._revoker)

    async def run_async(self, registration: Registration, data: dict,
                        ctx: ExecutionContext) -> dict:
        """Run a function from inside a running event loop; return its report."""
        return await run_awaitable(registration, data, ctx, self.middleware)

    def finish(self, execution_id: str, report: dict) -> None:
        """Deliver the terminal report durably, before the message is acked."""
        self._connect()[1].finished(execution_id, report)

    def is_cancelled(self, execution_id: str) -> bool:
        """Tell whether the control plane cancelled the execution (False until connected)."""
        leases = self._leases
        return leases is not None and leases.is_cancelled(execution_id)

    def _connect(self) -> tuple[LeaseManager, ReportSink, StartedReporter]:
        parts = self._parts
        if parts is not None:  # the common case: no lock taken per execution
            return parts
        with self._lock:
            if self._parts is None:
                leases = self._lease_manager()
                self._revoker = Revoker(leases.cancelled_many, self._settings.cancel_grace)
                sink = ReportSink(leases, self._client, self._namespace(),
                                  via=self._settings.report_via)
                self._leases = leases
                self._parts = (leases, sink, StartedReporter(sink.started))
            return self._parts

    def _lease_manager(self) -> LeaseManager:
        client = redis.Redis.from_url(self._broker_url(), socket_timeout=10,
                                      socket_connect_timeout=5)
        # A shorter lease finds a dead worker sooner; it is renewed every third of it.
        done_ttl = 4 * self._settings.max_run_seconds + 86400
        return LeaseManager(client, self._namespace(), lease_seconds=self._settings.lease_seconds,
                            done_ttl_seconds=done_ttl)
