"""Execution middleware: ordered steps around every try of a function (Dramatiq's shape).

Each middleware declares the decorator options it reads; an option no middleware
declares is refused when the function is decorated. Per try, the runner calls every
``before_execute`` in order, makes the call ``invocation.invoke()``, then every
``after_execute`` in order with the try's exception (None on success). A middleware may
wrap ``invoke`` (TimeLimit), ask for another try (Retries: ``retry_in``) or end the
execution with a status of its choosing (TimeLimit: ``end()``).
"""

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from agent_sdk import protocol
from agent_sdk.context import ExecutionContext
from agent_sdk.registry import Registration, RunPolicy

log = logging.getLogger(__name__)


@dataclass
class Invocation:
    """One execution of a function across its tries, as the middleware sees it."""

    registration: Registration
    ctx: ExecutionContext
    blocking: bool  # run in this thread (a worker), or awaited in a running loop
    kwargs: dict[str, Any]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    # Per try: what to call, and whether it returns an awaitable (reset before each try).
    invoke: Callable[[], Any] = lambda: None
    is_async: bool = False
    retry_in: float | None = None  # set by a middleware: try again after so many seconds
    ending: dict[str, Any] | None = None  # set by a middleware: end with this report

    def reset(self) -> None:
        """Prepare the next try: the plain call, no retry asked, no ending chosen."""
        fn, kwargs = self.registration.fn, self.kwargs
        self.invoke = lambda: fn(**kwargs)
        self.is_async = self.registration.is_async
        self.retry_in = None
        self.ending = None

    def end(self, status: str, error_type: str, error: str) -> None:
        """End the execution now with ``status`` (no further try)."""
        self.ending = {"status": status, "error_type": error_type, "error": error}


class Middleware:
    """A step around every try; ``options`` names the decorator options it reads."""

    options: ClassVar[tuple[str, ...]] = ()

    def before_execute(self, invocation: Invocation) -> None:
        """Run before each try; may wrap ``invocation.invoke``."""

    def after_execute(self, invocation: Invocation, error: Exception | None) -> None:
        """Run after each try with its exception (None when it returned)."""


class FunctionTimedOut(Exception):
    """Raised when a function runs past its registered ``timeout``."""


# Threads running plain functions under a time limit (abandoned ones keep theirs).
_overtime = ThreadPoolExecutor(max_workers=32, thread_name_prefix="timed-call")


class TimeLimit(Middleware):
    """End an execution ``timeout`` when a try runs past ``timeout`` seconds."""

    options = ("timeout",)

    def before_execute(self, invocation: Invocation) -> None:
        limit = invocation.registration.policy.timeout
        name, call = invocation.registration.name, invocation.invoke
        if limit is None:
            return
        if invocation.is_async:
            if invocation.blocking or limit:  # awaited in a loop, a zero limit means none
                invocation.invoke = lambda: _bounded(call(), limit, name)
        elif invocation.blocking:
            invocation.invoke = lambda: _in_overtime_thread(call, limit, name)
        else:
            invocation.invoke = lambda: _bounded(asyncio.to_thread(call), limit, name)
            invocation.is_async = True

    def after_execute(self, invocation: Invocation, error: Exception | None) -> None:
        if isinstance(error, FunctionTimedOut):
            invocation.end(protocol.TIMEOUT, "TimeoutError", str(error))


def _in_overtime_thread(call: Callable[[], Any], limit: float, name: str) -> Any:
    # A thread cannot be stopped: past the limit it is abandoned (and logged).
    future = _overtime.submit(contextvars.copy_context().run, call)
    try:
        return future.result(timeout=limit)
    except FutureTimeout:
        log.warning("%s ran past its %gs timeout; its thread is abandoned", name, limit)
        raise FunctionTimedOut(f"{name} exceeded its timeout of {limit:g}s") from None


async def _bounded(awaitable: Any, limit: float, name: str) -> Any:
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        return task.result()
    task.cancel()
    raise FunctionTimedOut(f"{name} exceeded its timeout of {limit:g}s")


class Retries(Middleware):
    """Retry retryable failures with doubling backoff; list every failed try."""

    options = ("retries", "retry_on", "retry_backoff")

    def after_execute(self, invocation: Invocation, error: Exception | None) -> None:
        if error is None or invocation.ending is not None:
            return
        policy, attempts = invocation.registration.policy, invocation.attempts
        retryable = (isinstance(error, policy.retry_on)
                     or getattr(error, "retryable", False) is True)
        if retryable and len(attempts) < policy.retries:
            attempts.append(_attempt(len(attempts) + 1, error))
            log.info("%s attempt %d failed (%s); retrying", invocation.registration.name,
                     len(attempts), error)
            invocation.retry_in = policy.backoff * 2 ** (len(attempts) - 1)
        elif attempts:  # the last try counts too
            attempts.append(_attempt(len(attempts) + 1, error))


def _attempt(number: int, error: Exception) -> dict[str, Any]:
    return {"attempt": number, "error_type": type(error).__name__, "error": str(error)[:500],
            "at": datetime.now(UTC).isoformat()}


def default_middleware() -> list[Middleware]:
    """Return the middleware every agent runs unless told otherwise."""
    return [TimeLimit(), Retries()]


def parse_options(middleware: Iterable[Middleware], options: Mapping[str, Any]) -> RunPolicy:
    """Check decorator options against what the middleware accept; return the run policy.

    Raises:
        TypeError: an option no middleware accepts.
    """
    policy = RunPolicy(retries=options.get("retries", 0),
                       retry_on=tuple(options.get("retry_on", ())),
                       backoff=options.get("retry_backoff", 1.0),
                       timeout=options.get("timeout", None))
    known = {name for step in middleware for name in step.options}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown options: {sorted(unknown)}")
    return policy
