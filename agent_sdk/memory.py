"""Shared memory for agents: ``app.memory`` reads and writes the control plane's scoped memory.

Scope: without a view, the current execution's workflow (``workflow_id`` or ``run_id``),
session and actor ids travel as headers; a write lands in the most specific scope present
and a read searches workflow, session, actor, then global. Outside any execution it is all
global. A view (``.session(id)``, ``.actor(id)``, ``.workflow(id)``, ``.global_scope``)
names its scope and id, whatever the context is.

Sync or async, by where you call from: when an asyncio event loop is running in the calling
thread (an ``async def`` reasoner), every method returns an awaitable that runs the HTTP
call in a worker thread with a copy of the context, so ``asyncio.gather`` runs several
calls concurrently; otherwise the method makes the call and returns the value::

    value = app.memory.get("k")               # in a plain def
    value = await app.memory.get("k")         # in an async def

    @app.memory.on_change("ticket_*")         # runs in this process on each change
    def on_ticket(event: dict) -> None: ...
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from agent_sdk.client import ControlPlaneClient
from agent_sdk.context import get_context
from agent_sdk.errors import ControlPlaneResponseError
from agent_sdk.memory_events import MemoryEventListener, Subscription

BASE = "/api/v1/memory"
SCOPES = ("workflow", "session", "actor", "global")
SCOPE_HEADERS = {"workflow": "X-Workflow-ID", "session": "X-Session-ID", "actor": "X-Actor-ID"}


def _sync_or_async(call: Callable[[], Any]) -> Any:
    """Return an awaitable of call() when a loop runs in this thread, else call()'s value."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    return asyncio.to_thread(call)  # to_thread runs call in a copy of the current context


def _ttl(ttl: int | None) -> dict:
    return {} if ttl is None else {"ttl": ttl}


def _json(field: str | None = None) -> Callable:
    """Return a function reading a response's JSON body (or one field of it)."""
    return lambda response: response.json() if field is None else response.json()[field]


class _MemoryOperations:
    """The memory methods; subclasses say which scope and headers a request carries.

    Every method returns its value, or an awaitable of it when an event loop runs in the
    calling thread (see the module docstring), and raises ControlPlaneResponseError for an
    error answer (invalid key, value too large...) and ControlPlaneUnavailable when the
    control plane cannot be reached.
    """

    def __init__(self, client: ControlPlaneClient) -> None:
        self._client = client

    def _target(self) -> tuple[dict, dict]:
        """Return the body fields and the headers that place a request in its scope."""
        raise NotImplementedError

    def _send(self, method: str, path: str, body: dict | None, finish: Callable,
              fallback: dict[int | str, Any] | None = None) -> Any:
        """Make one request; ``fallback`` maps an error status or code to the value to return."""
        fields, headers = self._target()  # resolved now, in the caller's context
        client = self._client
        if body is not None:
            body = {**body, **fields}
        elif fields:
            path = f"{path}?{urlencode(fields)}"

        def call() -> Any:
            try:
                response = client.request(method, BASE + path, body, headers=headers)
            except ControlPlaneResponseError as exc:
                for answer in (exc.code, exc.status):
                    if fallback and answer in fallback:
                        return fallback[answer]
                raise
            return finish(response)

        return _sync_or_async(call)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the JSON value stored at key, or default when there is none (404)."""
        return self._send("POST", "/get", {"key": key}, _json("data"), {404: default})

    def set(self, key: str, value: Any, ttl: int | None = None) -> Any:
        """Store value (any JSON value) at key.

        Args:
            key: the memory key (no ``:*?[]``, whitespace or control characters).
            value: the JSON value to store.
            ttl: lifetime in seconds; 0 never expires; None takes the scope's default.
        Returns:
            The Memory object: scope, scope_id, key, data, timestamps, ttl and expiry.
        """
        return self._send("POST", "/set", {"key": key, "data": value, **_ttl(ttl)}, _json())

    def delete(self, key: str) -> Any:
        """Delete the value at key (nothing happens when there is none); return None."""
        return self._send("POST", "/delete", {"key": key}, lambda response: None)

    def exists(self, key: str) -> Any:
        """Return whether a value is stored at key."""
        return self._send("POST", "/exists", {"key": key}, _json("exists"))

    def list_keys(self) -> Any:
        """Return the keys stored in this scope (in context: the most specific one), sorted."""
        return self._send("GET", "/list", None,
                          lambda response: [memory["key"] for memory in response.json()])

    def increment(self, key: str, amount: int | float = 1, ttl: int | None = None) -> Any:
        """Add amount to the number at key atomically (a missing key counts as 0).

        Returns:
            The new number.
        Raises:
            ControlPlaneResponseError: code ``memory_not_a_number`` when the value is not one.
        """
        body = {"key": key, "amount": amount, **_ttl(ttl)}
        return self._send("POST", "/increment", body, _json("data"))

    def compare_and_set(self, key: str, expected: Any, value: Any, ttl: int | None = None) -> Any:
        """Store value only if the current value equals expected (None: only if absent).

        Returns:
            True when stored, False when the current value differed.
        """
        body = {"key": key, "expected": expected, "data": value, **_ttl(ttl)}
        return self._send("POST", "/compare-and-set", body, lambda response: True,
                          {"memory_compare_failed": False})

    def set_vector(self, key: str, embedding: list[float], metadata: dict | None = None) -> Any:
        """Store an embedding and its metadata at key; return the stored object."""
        body = {"key": key, "embedding": list(embedding), "metadata": metadata or {}}
        return self._send("POST", "/vector/set", body, _json())

    def similarity_search(self, query_embedding: list[float], top_k: int = 10,
                          filters: dict | None = None) -> Any:
        """Return up to top_k stored vectors nearest to query_embedding, best first.

        Args:
            query_embedding: the vector to compare with.
            top_k: how many results at most.
            filters: metadata fields the results must hold (equal values).
        Returns:
            A list of ``{"key", "score", "metadata", "scope", "scope_id"}``.
        """
        body = {"query_embedding": list(query_embedding), "top_k": top_k,
                "filters": filters or {}}
        return self._send("POST", "/vector/search", body, _json())

    def delete_vector(self, key: str) -> Any:
        """Delete the vector stored at key; return None."""
        return self._send("POST", "/vector/delete", {"key": key}, lambda response: None)


class ScopedMemory(_MemoryOperations):
    """Memory of one named scope instance, whatever the current execution's context is."""

    def __init__(self, owner: MemoryClient, scope: str, scope_id: str | None = None):
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        if scope != "global" and (not isinstance(scope_id, str) or not scope_id):
            raise ValueError(f"the {scope} scope needs a non-empty id, not {scope_id!r}")
        super().__init__(owner._client)
        self._owner = owner
        self.scope = scope
        self.scope_id = scope_id if scope != "global" else "global"

    def _target(self) -> tuple[dict, dict]:
        header = SCOPE_HEADERS.get(self.scope)
        return {"scope": self.scope}, ({header: self.scope_id} if header else {})

    def on_change(self, patterns: str | list[str] | None = None
                  ) -> Callable[[Callable], Callable]:
        """Register a handler for changes in this scope instance (see MemoryClient.on_change)."""
        return self._owner.on_change(patterns, scope=self.scope, scope_id=self.scope_id)


class MemoryClient(_MemoryOperations):
    """``app.memory``: scoped memory of the current execution, views, and change handlers."""

    def __init__(self, agent):
        super().__init__(agent.client)
        self._agent = agent
        self._listener: MemoryEventListener | None = None
        self._lock = threading.Lock()

    def _target(self) -> tuple[dict, dict]:
        ctx = get_context()
        if ctx is None:
            return {}, {}
        ids = {"X-Workflow-ID": ctx.workflow_id or ctx.run_id, "X-Session-ID": ctx.session_id,
               "X-Actor-ID": ctx.actor_id}
        return {}, {header: value for header, value in ids.items() if value}

    def session(self, session_id: str) -> ScopedMemory:
        """Return the memory of session ``session_id``."""
        return ScopedMemory(self, "session", session_id)

    def actor(self, actor_id: str) -> ScopedMemory:
        """Return the memory of actor ``actor_id``."""
        return ScopedMemory(self, "actor", actor_id)

    def workflow(self, workflow_id: str) -> ScopedMemory:
        """Return the memory of workflow ``workflow_id`` (a run id)."""
        return ScopedMemory(self, "workflow", workflow_id)

    @property
    def global_scope(self) -> ScopedMemory:
        """The memory shared by everything."""
        return ScopedMemory(self, "global")

    def on_change(self, patterns: str | list[str] | None = None, scope: str | None = None,
                  scope_id: str | None = None) -> Callable[[Callable], Callable]:
        """Register ``fn(event)`` (plain or async) for changes of keys matching patterns.

        Handlers run in this process, on one listener thread per agent that follows the
        control plane's event stream and resumes after errors without missing an event.

        Args:
            patterns: one glob or a list of globs (fnmatch, case-sensitive); None: all keys.
            scope: only events of this scope ("workflow", "session", "actor", "global").
            scope_id: only events of this scope id.
        Returns:
            A decorator that registers the function and returns it unchanged.
        """
        if callable(patterns):  # used bare: @app.memory.on_change
            return self.on_change(None, scope, scope_id)(patterns)
        if isinstance(patterns, str):
            patterns = [patterns]
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")

        def decorator(fn: Callable) -> Callable:
            subscription = Subscription(fn, tuple(patterns or ()), scope, scope_id)
            with self._lock:
                if self._listener is None:
                    self._listener = MemoryEventListener(
                        self._client, name=f"memory-events-{self._agent.node_id}")
                listener = self._listener
            listener.add(subscription)
            return fn

        return decorator

    @property
    def listener(self) -> MemoryEventListener | None:
        """The change-event listener, once a handler is registered."""
        return self._listener

    def stop_listening(self, timeout: float = 5.0) -> None:
        """Stop the listener thread and forget every handler (mainly for tests)."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop(timeout)

    def _reconnect_now(self, pause: float = 0.0) -> None:
        """Drop the event stream and reconnect after ``pause`` seconds (for tests)."""
        if self._listener is not None:
            self._listener.reconnect_now(pause)
