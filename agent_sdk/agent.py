"""Agent: register reasoners and skills, serve them from a Celery queue, call other agents."""

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar, overload

from celery import Celery

from agent_sdk.ai import AIClient
from agent_sdk.calls import Caller
from agent_sdk.client import ControlPlaneClient
from agent_sdk.context import ExecutionContext, get_context
from agent_sdk.errors import RegistrationClosed
from agent_sdk.executor import Executor
from agent_sdk.memory import MemoryClient
from agent_sdk.middleware import Middleware, default_middleware, parse_options
from agent_sdk.presence import Presence
from agent_sdk.protocol import DEFAULT_NAMESPACE
from agent_sdk.registry import Registry, build_registration
from agent_sdk.settings import DEFAULT_BROKER, AgentSettings
from agent_sdk.worker import build_celery, celery_settings, on_worker_signals, worker_argv

log = logging.getLogger("agent_sdk")

F = TypeVar("F", bound=Callable[..., Any])


class Agent:
    """An agent node: its functions, its queue ``agent.<node_id>`` and its worker.

    Keyword arguments override the environment (see ``AgentSettings``); ``middleware``
    replaces the steps around every try (default: ``TimeLimit``, ``Retries``).

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
                 limits: dict | None = None, settings: AgentSettings | None = None,
                 middleware: Sequence[Middleware] | None = None) -> None:
        env = settings or AgentSettings.from_env()
        self.settings = replace(
            env, server=(agentfield_server or env.server).rstrip("/"),
            api_key=api_key or env.api_key, broker_url=broker_url or env.broker_url,
            namespace=namespace or env.namespace, concurrency=concurrency or env.concurrency,
            heartbeat_interval=heartbeat_interval or env.heartbeat_interval,
            call_timeout=call_timeout or env.call_timeout,
            max_run_seconds=max_run_seconds or env.max_run_seconds)
        self.node_id = node_id
        self.version = version
        self.instance_id = uuid.uuid4().hex
        # Per-node limits the control plane enforces (max_queued, max_running,
        # circuit_failure_rate, circuit_min_calls, circuit_cooldown_seconds).
        self.limits = dict(limits or {})
        # What registration may still fill in: the control plane advertises its own.
        self.namespace = self.settings.namespace
        self._broker_url = self.settings.broker_url
        self._heartbeat_interval = self.settings.heartbeat_interval
        self.client = ControlPlaneClient(self.server, self.settings.api_key)
        self.registry = Registry()
        self.memory = MemoryClient(self)
        self._executor = Executor(
            self.registry, self.client, self.settings,
            default_middleware() if middleware is None else middleware,
            broker_url=lambda: self.broker_url,
            namespace=lambda: self.namespace or DEFAULT_NAMESPACE)
        self._caller = Caller(node_id, self.client, self._executor, self.settings.call_timeout)
        self._presence = Presence(self.client, node_id, version, self.instance_id)
        self._ai: AIClient | None = None
        self._celery = build_celery(node_id, self._executor.handle, lambda: celery_settings(
            self.node_id, self.broker_url, self.settings))
        self._registered = threading.Event()
        self._serving = False
        self._signal_handlers = on_worker_signals(self._celery, self._on_worker_ready,
                                                  self._presence.stop)

    @property
    def server(self) -> str:
        """The control plane's base URL."""
        return self.settings.server

    # -- registration -------------------------------------------------------------

    @overload
    def reasoner(self, fn: F, *, name: str | None = None, tags: list[str] | None = None,
                 description: str | None = None, **options: Any) -> F: ...
    @overload
    def reasoner(self, fn: None = None, *, name: str | None = None,
                 tags: list[str] | None = None, description: str | None = None,
                 **options: Any) -> Callable[[F], F]: ...

    def reasoner(self, fn: Callable[..., Any] | None = None, *, name: str | None = None,
                 tags: list[str] | None = None, description: str | None = None,
                 **options: Any) -> Any:
        """Register a reasoner; the function is returned unchanged (and keeps its type).

        Options (one per middleware that reads it): ``retries`` (0), ``retry_on``
        (exception types), ``retry_backoff`` (1.0 s, doubling), ``timeout`` (seconds; the
        execution then ends ``timeout``).

        Example::

            @app.reasoner(retries=2, retry_on=(ConnectionError,), timeout=60)
            async def triage_ticket(ticket: dict) -> dict: ...
        """
        return self._decorate("reasoner", fn, name, tags, description, options)

    @overload
    def skill(self, fn: F, *, name: str | None = None, tags: list[str] | None = None,
              description: str | None = None, **options: Any) -> F: ...
    @overload
    def skill(self, fn: None = None, *, name: str | None = None,
              tags: list[str] | None = None, description: str | None = None,
              **options: Any) -> Callable[[F], F]: ...

    def skill(self, fn: Callable[..., Any] | None = None, *, name: str | None = None,
              tags: list[str] | None = None, description: str | None = None,
              **options: Any) -> Any:
        """Register a skill (a deterministic function); the function is returned unchanged.

        Takes the same options as ``reasoner()``.

        Example::

            @app.skill(tags=["nlp"])
            def analyze(text: str) -> dict: ...
        """
        return self._decorate("skill", fn, name, tags, description, options)

    def _decorate(self, kind: str, fn: Callable[..., Any] | None, name: str | None,
                  tags: list[str] | None, description: str | None,
                  options: dict[str, Any]) -> Any:
        policy = parse_options(self._executor.middleware, options)

        def decorator(function: F) -> F:
            if self._serving:
                raise RegistrationClosed(
                    f"cannot register {function.__name__}() after the agent started serving")
            self.registry.add(build_registration(function, kind, name, tags, description,
                                                 policy, options))
            return function

        return decorator(fn) if callable(fn) else decorator

    def registration_body(self) -> dict:
        """The body of ``POST /api/v1/nodes/register`` (AgentField's shape)."""
        return self._presence.body(self.registry, self.limits, self._heartbeat_interval)

    def register(self, wait: float = 60.0) -> dict:
        """Register with the control plane, retrying while it is unreachable.

        Raises:
            ControlPlaneUnavailable: still unreachable after ``wait`` seconds.
            ControlPlaneResponseError: the control plane refused the registration.
        """
        answer = self._presence.register(self.registration_body(), wait)
        self._broker_url = self._broker_url or answer.get("broker_url")
        self.namespace = self.namespace or answer.get("namespace")
        self._heartbeat_interval = self._heartbeat_interval or answer.get("heartbeat_interval")
        self._registered.set()
        log.info("registered %s with %s", self.node_id, self.server)
        return answer

    # -- serving ------------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        """The broker: the argument, AGENTFIELD_BROKER_URL, REDIS_URL, or the control plane's."""
        if not self._broker_url and not self._registered.is_set():
            self._broker_url = self.settings.redis_url
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
        log.setLevel(self.settings.log_level)
        self.register()
        self.celery.worker_main(worker_argv(self.node_id, self.settings))

    def _on_worker_ready(self) -> None:
        self._serving = True
        if not self._registered.is_set():
            self.register()
        self._presence.start_heartbeats(float(self._heartbeat_interval or 5),
                                        lambda: self.register(wait=5))

    # -- inside a function ----------------------------------------------------------

    async def call(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``node.function`` with keyword input and return its result.

        Args:
            target: ``"node_id.function_name"``.
            *args: positional input, only for functions of this same node.
            **kwargs: the input, one key per parameter of the called function.
        Returns:
            The called function's result.
        Raises:
            ExecutionFailedError: the callee failed, timed out or was cancelled.
            ExecutionCancelledError: this execution was cancelled.
            ControlPlaneResponseError: the control plane refused the call (bad input...).
        """
        return await self._caller.call(target, *args, **kwargs)

    def call_sync(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Blocking form of ``call()`` for plain ``def`` functions."""
        return self._caller.call_sync(target, *args, **kwargs)

    def _call_input(self, target: str, args: tuple,
                    kwargs: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        return self._caller.parse_input(target, args, kwargs)

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
        """The agent's LLM client, configured from its settings on first use."""
        if self._ai is None:
            self._ai = AIClient(settings=self.settings)
        return self._ai

    async def ai(self, prompt: str | None = None, **kwargs: Any) -> Any:
        """Ask an OpenAI-compatible chat model; ``schema=`` returns a validated model.

        See agent_sdk.ai.AIClient.complete for the arguments.
        """
        return await self.ai_client.acomplete(prompt, **kwargs)

    def ai_sync(self, prompt: str | None = None, **kwargs: Any) -> Any:
        """Blocking form of ``ai()`` for plain ``def`` functions."""
        return self.ai_client.complete(prompt, **kwargs)
