"""``app.call``: every call goes through the control plane, which records the DAG edge.

A call to another node uses the sync execute endpoint. A call to a function of the
same node is recorded by the control plane but run right here in the caller's thread
("inline"): a worker whose threads all wait on children queued behind them would
otherwise deadlock.
"""

import asyncio
import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from agent_sdk import protocol
from agent_sdk.client import ControlPlaneClient
from agent_sdk.context import ExecutionContext, get_context
from agent_sdk.errors import (
    ExecutionCancelledError,
    ExecutionFailedError,
    ExecutionTimeoutError,
)
from agent_sdk.executor import Executor

T = TypeVar("T")

class Caller:
    """``app.call``: run ``node.function`` through the control plane and return its result."""

    def __init__(self, node_id: str, client: ControlPlaneClient, executor: Executor,
                 timeout: float) -> None:
        self.node_id = node_id
        self.timeout = timeout
        self._client = client
        self._executor = executor

    async def call(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``node.function`` with keyword input and return its result (see Agent.call)."""
        node_id, function, data = self.parse_input(target, args, kwargs)
        _raise_if_cancelled()
        if self._is_local(node_id, function):
            execution_id, ctx = self._open_inline(target, data)
            registration = self._executor.registry.get(function)
            report = await self._executor.run_async(registration, data, ctx)
            return self._close_inline(target, execution_id, report)
        return await asyncio.to_thread(self._call_remote, target, data, get_context())

    def call_sync(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Blocking form of ``call()`` for plain ``def`` functions."""
        node_id, function, data = self.parse_input(target, args, kwargs)
        _raise_if_cancelled()
        if self._is_local(node_id, function):
            execution_id, ctx = self._open_inline(target, data)
            registration = self._executor.registry.get(function)
            if registration.is_async and _loop_running():
                report = _in_thread(self._executor.run, registration, data, ctx)
            else:
                report = self._executor.run(registration, data, ctx)
            return self._close_inline(target, execution_id, report)
        return self._call_remote(target, data, get_context())

    def parse_input(self, target: str, args: tuple,
                    kwargs: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """Split ``target`` and merge positional input (same-node calls only) into kwargs.

        Raises:
            ValueError: the target is not ``node_id.function``.
            TypeError: positional input for a function of another node.
        """
        node_id, dot, function = target.partition(".")
        if not dot or not node_id or not function:
            raise ValueError(f"target must look like 'node_id.function', got {target!r}")
        data = dict(kwargs)
        if args:
            if not self._is_local(node_id, function):
                raise TypeError(f"pass the input of {target} as keyword arguments")
            names = list(self._executor.registry.get(function).input_model.model_fields)
            data.update(zip(names, args, strict=False))
        return node_id, function, data

    def _is_local(self, node_id: str, function: str) -> bool:
        return node_id == self.node_id and function in self._executor.registry

    def _open_inline(self, target: str, data: dict) -> tuple[str, ExecutionContext]:
        parent = get_context()
        accepted = self._client.post(f"/api/v1/execute/async/{target}",
                                     {"input": data, "dispatch": "inline"},
                                     headers=_headers(parent)).json()
        node_id, _, function = target.partition(".")
        ctx = ExecutionContext(
            execution_id=accepted["execution_id"], run_id=accepted["run_id"],
            node_id=node_id, function=function, workflow_id=accepted["run_id"],
            parent_execution_id=parent.execution_id if parent else None,
            session_id=parent.session_id if parent else None,
            actor_id=parent.actor_id if parent else None,
            cancel_probe=self._executor.is_cancelled,
        )
        return accepted["execution_id"], ctx

    def _close_inline(self, target: str, execution_id: str, report: dict) -> Any:
        self._executor.finish(execution_id, report)
        if report["status"] != protocol.SUCCEEDED:
            raise ExecutionFailedError(target, execution_id, report["status"],
                                       report.get("error"), report.get("error_type"))
        return report.get("result")

    def _call_remote(self, target: str, data: dict, ctx: ExecutionContext | None) -> Any:
        response = self._client.post(f"/api/v1/execute/{target}", {"input": data},
                                     headers=_headers(ctx), timeout=self.timeout + 30)
        body = response.json()
        if response.status_code == 202:  # the sync wait ran out; the execution goes on
            body = self._poll(target, body["execution_id"])
        return _result_or_raise(target, body)

    def _poll(self, target: str, execution_id: str) -> dict:
        deadline = time.monotonic() + self.timeout
        delay = 0.1
        while time.monotonic() < deadline:
            body: dict[str, Any] = self._client.get(
                f"/api/v1/executions/{execution_id}").json()
            if body["status"] in protocol.TERMINAL_STATUSES:
                body.setdefault("error_message", body.get("error"))
                return body
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise ExecutionTimeoutError(target, execution_id, protocol.TIMEOUT,
                                    f"no result within {self.timeout:g} s")


def _headers(ctx: ExecutionContext | None) -> dict[str, str]:
    return ctx.child_headers() if ctx else {}


def _raise_if_cancelled() -> None:
    ctx = get_context()
    if ctx is not None and ctx.cancelled:
        raise ExecutionCancelledError(ctx.execution_id)


def _result_or_raise(target: str, body: dict) -> Any:
    if body["status"] == protocol.SUCCEEDED:
        return body.get("result")
    cls = ExecutionTimeoutError if body["status"] == protocol.TIMEOUT else ExecutionFailedError
    raise cls(target, body["execution_id"], body["status"],
              body.get("error_message") or body.get("error"), body.get("error_type"))


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    # A blocking call from inside a running loop: run it on a thread of its own.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, fn, *args).result()
