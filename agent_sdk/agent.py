"""Agent: register reasoners and skills, serve them from a Celery queue, call other agents."""

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable

from celery import Celery
from celery import signals as celery_signals

from agent_sdk.ai import AIClient
from agent_sdk.calls import CallMixin
from agent_sdk.client import ControlPlaneClient
from agent_sdk.context import ExecutionContext, get_context
from agent_sdk.errors import (
    ControlPlaneResponseError,
    ControlPlaneUnavailable,
    RegistrationClosed,
)
from agent_sdk.executing import ExecutionMixin
from agent_sdk.lease import LeaseManager
from agent_sdk.memory import MemoryClient
from agent_sdk.registry import Registry, RunPolicy, build_registration
from agent_sdk.reporting import ReportSink
from agent_sdk.runner import StartedReporter
from agent_sdk.worker import build_celery, worker_argv

log = logging.getLogger("agent_sdk")

DEFAULT_SERVER = "http://localhost:8080"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


class Agent(CallMixin, ExecutionMixin):
    """An agent node: its functions, its queue ``agent.<node_id>`` and its worker.

    Example::

        app = Agent("sentiment-agent")

        @app.skill()
        def analyze(text: str) -> dict:
            return {"label": "negative" if "angry" in text else "positive"}

        if __name__ == "__main__":
            app.run()
    """

    def __init__(self, node_id: str, agentfield_server: str | None = None,
                 version: str = "1.0.0", broker_url: str | None = None, *,
                 concurrency: int | None = None, api_key: str | None = None,
                 namespace: str | None = None, heartbeat_interval: float | None = None,
                 call_timeout: float | None = None, max_run_seconds: int | None = None,
                 limits: dict | None = None):
        env = os.environ
        self.node_id = node_id
        self.version = version
        self.server = (agentfield_server or env.get("AGENTFIELD_SERVER")
                       or env.get("AGENTFIELD_SERVER_URL") or DEFAULT_SERVER).rstrip("/")
        self._broker_url = broker_url or env.get("AGENTFIELD_BROKER_URL")
        self.concurrency = concurrency or int(env.get("AGENTFIELD_CONCURRENCY", "8"))
        self.namespace = namespace or env.get("AGENTFIELD_NAMESPACE")
        self.heartbeat_interval = heartbeat_interval or float(
            env.get("AGENTFIELD_HEARTBEAT_INTERVAL", "0") or 0) or None
        self.call_timeout = call_timeout or float(env.get("AGENTFIELD_CALL_TIMEOUT", "3600"))
        self.max_run_seconds = max_run_seconds or int(
            env.get("AGENTFIELD_MAX_RUN_SECONDS", "3600"))
        self.instance_id = uuid.uuid4().hex
        # Per-node limits the control plane enforces (max_queued, max_running,
        # circuit_failure_rate, circuit_min_calls, circuit_cooldown_seconds).
        self.limits = dict(limits or {})
        self.client = ControlPlaneClient(self.server, api_key or env.get("AGENTFIELD_API_KEY"))
        self.registry = Registry()
        self.memory = MemoryClient(self)
        self._ai: AIClient | None = None
        self._celery: Celery = build_celery(self)
        self._leases: LeaseManager | None = None
        self._sink: ReportSink | None = None
        self._started_reporter: StartedReporter | None = None
        self._registered = threading.Event()
        self._serving = False
        self._stop = threading.Event()
        self._connect_worker_signals()

    # -- registration -------------------------------------------------------------

    def reasoner(self, fn: Callable | None = None, *, name: str | None = None,
                 tags: list[str] | None = None, description: str | None = None,
                 **policy):
        """Register a reasoner; the function is returned unchanged.

        Policy keywords: ``retries`` (0), ``retry_on`` (exception types), ``retry_backoff``
        (1.0 s, doubling), ``timeout`` (seconds; the execution then ends ``timeout``).

        Example::

            @app.reasoner(retries=2, retry_on=(ConnectionError,), timeout=60)
            async def triage_ticket(ticket: dict) -> dict: ...
        """
        return self._decorate("reasoner", fn, name, tags, description, policy)

    def skill(self, fn: Callable | None = None, *, name: str | None = None,
              tags: list[str] | None = None, description: str | None = None, **policy):
        """Register a skill (a deterministic function); the function is returned unchanged.

        Takes the same policy keywords as ``reasoner()``.

        Example::

            @app.skill(tags=["nlp"])
            def analyze(text: str) -> dict: ...
        """
        return self._decorate("skill", fn, name, tags, description, policy)

    def _decorate(self, kind, fn, name, tags, description, policy):
        run_policy = RunPolicy(retries=policy.pop("retries", 0),
                               retry_on=tuple(policy.pop("retry_on", ())),
                               backoff=policy.pop("retry_backoff", 1.0),
                               timeout=policy.pop("timeout", None))
        if policy:
            raise TypeError(f"unknown options: {sorted(policy)}")

        def decorator(function: Callable) -> Callable:
            if self._serving:
                raise RegistrationClosed(
                    f"cannot register {function.__name__}() after the agent started serving")
            self.registry.add(build_registration(function, kind, name, tags, description,
                                                 run_policy))
            return function

        return decorator(fn) if callable(fn) else decorator

    def registration_body(self) -> dict:
        """The body of ``POST /api/v1/nodes/register`` (AgentField's shape)."""
        return {
            "id": self.node_id,
            "team_id": "default",
            "version": self.version,
            "instance_id": self.instance_id,
            "deployment_type": "celery",
            "lifecycle_status": "starting",
            "reasoners": [r.to_wire() for r in self.registry.of_kind("reasoner")],
            "skills": [r.to_wire() for r in self.registry.of_kind("skill")],
            "communication_config": {"protocols": ["celery"],
                                     "heartbeat_interval": f"{self.heartbeat_interval or 5}s"},
            "metadata": {"deployment": {"platform": "python", "queue": f"agent.{self.node_id}"}},
            **({"limits": self.limits} if self.limits else {}),
        }

    def register(self, wait: float = 60.0) -> dict:
        """Register with the control plane, retrying while it is unreachable.

        Raises:
            ControlPlaneUnavailable: still unreachable after ``wait`` seconds.
            ControlPlaneResponseError: the control plane refused the registration.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = self.client.post("/api/v1/nodes/register",
                                          self.registration_body()).json()
                break
            except (ControlPlaneUnavailable, ControlPlaneResponseError) as exc:
                transient = not isinstance(exc, ControlPlaneResponseError) or exc.status >= 500
                if not transient or time.monotonic() > deadline:
                    raise
                log.warning("registration with %s failed (%s); retrying", self.server, exc)
                time.sleep(1.0)
        self._broker_url = self._broker_url or answer.get("broker_url")
        self.namespace = self.namespace or answer.get("namespace")
        self.heartbeat_interval = self.heartbeat_interval or answer.get("heartbeat_interval")
        self._registered.set()
        log.info("registered %s with %s", self.node_id, self.server)
        return answer

    # -- serving ------------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        if not self._broker_url and not self._registered.is_set():
            self._broker_url = os.environ.get("REDIS_URL")
            if not self._broker_url:
                self.register()  # the control plane may advertise its broker
        return self._broker_url or DEFAULT_BROKER

    @property
    def celery(self) -> Celery:
        """The node's Celery app; with ``celery = app.celery`` in your module,
        ``celery -A my_agent:celery worker`` runs the node like ``app.run()`` does."""
        return self._celery

    def run(self) -> None:
        """Register, heartbeat, and consume ``agent.<node_id>`` until SIGTERM or Ctrl-C."""
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        log.setLevel(os.getenv("AGENTFIELD_LOG_LEVEL", "INFO"))
        self.register()
        self.celery.worker_main(worker_argv(self))

    def _connect_worker_signals(self) -> None:
        def on_ready(sender=None, **_):
            if getattr(sender, "app", None) is not self._celery:
                return
            self._serving = True
            if not self._registered.is_set():
                self.register()
            threading.Thread(target=self._heartbeat_forever, name="heartbeat",
                             daemon=True).start()

        def on_shutdown(sender=None, **_):
            self._stop.set()
            try:
                self.client.post(f"/api/v1/nodes/{self.node_id}/shutdown",
                                 {"reason": "signal", "instance_id": self.instance_id},
                                 timeout=3)
            except Exception as exc:  # shutting down anyway
                log.info("shutdown notice not delivered: %s", exc)

        celery_signals.worker_ready.connect(on_ready, weak=False)
        celery_signals.worker_shutdown.connect(on_shutdown, weak=False)
        self._signal_handlers = (on_ready, on_shutdown)

    def _heartbeat_forever(self) -> None:
        interval = float(self.heartbeat_interval or 5)
        body = {"status": "ready", "version": self.version, "instance_id": self.instance_id}
        while not self._stop.wait(interval):
            try:
                self.client.post(f"/api/v1/nodes/{self.node_id}/heartbeat", body, timeout=5)
            except ControlPlaneResponseError as exc:
                if exc.status == 404:  # the control plane forgot us: register again
                    self._try(self.register, wait=5)
            except ControlPlaneUnavailable as exc:
                log.warning("heartbeat failed: %s", exc)

    def _try(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except Exception as exc:
            log.warning("%s failed: %s", getattr(fn, "__name__", fn), exc)

    # -- inside a function ----------------------------------------------------------

    @property
    def ctx(self) -> ExecutionContext | None:
        """The current execution's context (ids, session, actor), or None outside one."""
        return get_context()

    def note(self, message: str, tags: list[str] | None = None) -> None:
        """Attach a note to the current execution; a failure is logged, never raised."""
        ctx = get_context()
        if ctx is None:
            log.warning("app.note() outside an execution: %s", message)
            return
        try:
            self.client.post("/api/v1/executions/note",
                             {"message": message, "tags": list(tags or []),
                              "agent_node_id": self.node_id},
                             headers={"X-Execution-ID": ctx.execution_id}, timeout=5)
        except Exception as exc:
            log.warning("note not stored: %s", exc)

    @property
    def ai_client(self) -> AIClient:
        if self._ai is None:
            self._ai = AIClient()
        return self._ai

    async def ai(self, prompt: str | None = None, **kwargs):
        """Ask an OpenAI-compatible chat model; ``schema=`` returns a validated model.

        See agent_sdk.ai.AIClient.complete for the arguments.
        """
        return await self.ai_client.acomplete(prompt, **kwargs)

    def ai_sync(self, prompt: str | None = None, **kwargs):
        """Blocking form of ``ai()`` for plain ``def`` functions."""
        return self.ai_client.complete(prompt, **kwargs)

