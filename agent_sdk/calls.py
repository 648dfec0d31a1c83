"""``app.call``: every call goes through the control plane, which records the DAG edge.

A call to another node uses the sync execute endpoint. A call to a function of the
same node is recorded by the control plane but run right here in the caller's thread
("inline"): a worker whose threads all wait on children queued behind them would
otherwise deadlock.
"""

import asyncio
import time

from agent_sdk.context import ExecutionContext, get_context
from agent_sdk.errors import (
    ExecutionCancelledError,
    ExecutionFailedError,
    ExecutionTimeoutError,
)
from agent_sdk.runner import run_awaitable, run_blocking

_TERMINAL = {"succeeded", "failed", "cancelled", "timeout"}


class CallMixin:
    """The calling half of Agent (needs ``client``, ``registry``, ``node_id``)."""

    async def call(self, target: str, *args, **kwargs):
        """Call ``node.function`` with keyword input and return its result.

        Args:
            target: ``"node_id.function_name"``.
            *args: positional input, only for functions of this same node.
            **kwargs: the input, one key per parameter of the called function.
        Returns:
            The called function's result.
        Raises:
            ExecutionFailedError: the callee failed, timed out or was cancelled.
            ControlPlaneResponseError: the control plane refused the call (bad input...).
        """
        node_id, function, data = self._call_input(target, args, kwargs)
        _raise_if_cancelled()
        if node_id == self.node_id and function in self.registry:
            execution_id, ctx = self._open_inline(target, data)
            registration = self.registry.get(function)
            report = await run_awaitable(registration, data, ctx)
            return self._close_inline(target, execution_id, report)
        return await asyncio.to_thread(self._call_remote, target, data, get_context())

    def call_sync(self, target: str, *args, **kwargs):
        """Blocking form of ``call()`` for plain ``def`` functions."""
        node_id, function, data = self._call_input(target, args, kwargs)
        _raise_if_cancelled()
        if node_id == self.node_id and function in self.registry:
            execution_id, ctx = self._open_inline(target, data)
            registration = self.registry.get(function)
            if registration.is_async and _loop_running():
                report = _in_thread(run_blocking, registration, data, ctx)
            else:
                report = run_blocking(registration, data, ctx)
            return self._close_inline(target, execution_id, report)
        return self._call_remote(target, data, get_context())

    def _call_input(self, target: str, args: tuple, kwargs: dict):
        node_id, dot, function = target.partition(".")
        if not dot or not node_id or not function:
            raise ValueError(f"target must look like 'node_id.function', got {target!r}")
        data = dict(kwargs)
        if args:
            if node_id != self.node_id or function not in self.registry:
                raise TypeError(f"pass the input of {target} as keyword arguments")
            names = list(self.registry.get(function).input_model.model_fields)
            data.update(zip(names, args, strict=False))
        return node_id, function, data

    def _headers(self, ctx: ExecutionContext | None) -> dict:
        return ctx.child_headers() if ctx else {}

    def _open_inline(self, target: str, data: dict) -> tuple[str, ExecutionContext]:
        parent = get_context()
        accepted = self.client.post(f"/api/v1/execute/async/{target}",
                                    {"input": data, "dispatch": "inline"},
                                    headers=self._headers(parent)).json()
        node_id, _, function = target.partition(".")
        ctx = ExecutionContext(
            execution_id=accepted["execution_id"], run_id=accepted["run_id"],
            node_id=node_id, function=function, workflow_id=accepted["run_id"],
            parent_execution_id=parent.execution_id if parent else None,
            session_id=parent.session_id if parent else None,
            actor_id=parent.actor_id if parent else None,
        )
        return accepted["execution_id"], ctx

    def _close_inline(self, target: str, execution_id: str, report: dict):
        self.report_outcome(execution_id, report)
        if report["status"] != "succeeded":
            raise ExecutionFailedError(target, execution_id, report["status"],
                                       report.get("error"), report.get("error_type"))
        return report.get("result")

    def _call_remote(self, target: str, data: dict, ctx: ExecutionContext | None):
        response = self.client.post(f"/api/v1/execute/{target}", {"input": data},
                                    headers=self._headers(ctx), timeout=self.call_timeout + 30)
        body = response.json()
        if response.status_code == 202:  # the sync wait ran out; the execution goes on
            body = self._poll(target, body["execution_id"])
        return _result_or_raise(target, body)

    def _poll(self, target: str, execution_id: str) -> dict:
        deadline = time.monotonic() + self.call_timeout
        delay = 0.1
        while time.monotonic() < deadline:
            body = self.client.get(f"/api/v1/executions/{execution_id}").json()
            if body["status"] in _TERMINAL:
                body.setdefault("error_message", body.get("error"))
                return body
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise ExecutionTimeoutError(target, execution_id, "timeout",
                                    f"no result within {self.call_timeout:g} s")


def _raise_if_cancelled() -> None:
    ctx = get_context()
    if ctx is not None and ctx.cancelled:
        raise ExecutionCancelledError(ctx.execution_id)


def _result_or_raise(target: str, body: dict):
    if body["status"] == "succeeded":
        return body.get("result")
    cls = ExecutionTimeoutError if body["status"] == "timeout" else ExecutionFailedError
    raise cls(target, body["execution_id"], body["status"],
              body.get("error_message") or body.get("error"), body.get("error_type"))


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_thread(fn, *args):
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, fn, *args).result()
