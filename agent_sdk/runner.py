"""Run one execution: bind input, call the function through the middleware, build the report."""

import asyncio
import dataclasses
import logging
import threading
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from agent_sdk import protocol
from agent_sdk.context import ExecutionContext, current_context
from agent_sdk.errors import ExecutionRevoked
from agent_sdk.middleware import Invocation, Middleware, default_middleware
from agent_sdk.registry import Registration
from agent_sdk.revoker import Revoker

log = logging.getLogger(__name__)

# One event loop per thread runs the async functions that thread executes: a loop
# belongs to its thread, whichever agent or executor hands it work.
_loops = threading.local()
_DEFAULT = tuple(default_middleware())


class ResultNotSerializable(TypeError):
    """Raised when a function returns something that cannot become JSON."""


def run_blocking(registration: Registration, data: dict, ctx: ExecutionContext,
                 middleware: Sequence[Middleware] = _DEFAULT,
                 revoker: Revoker | None = None) -> dict:
    """Run a function in this thread (async ones on this thread's own loop); return a report.

    ``revoker``, when given, may stop the function once it was cancelled and its grace
    period ran out; the execution then ends ``cancelled``.
    """
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    invocation: Invocation | None = None
    if revoker is not None:
        revoker.watch(ctx.execution_id)
    try:
        invocation = Invocation(registration, ctx, True, registration.bind(data))
        while True:
            _before(middleware, invocation)
            try:
                result = _call_blocking(invocation, revoker)
            except ExecutionRevoked:
                raise
            except Exception as exc:
                _after(middleware, invocation, exc)
                if invocation.ending is not None:
                    return _ended(invocation, started, clock)
                if invocation.retry_in is None:
                    raise
                time.sleep(invocation.retry_in)
                continue
            _after(middleware, invocation, None)
            return _succeeded(result, started, clock, invocation.attempts)
    except (ExecutionRevoked, asyncio.CancelledError):
        return _report(protocol.CANCELLED, started, clock, error_type="ExecutionRevoked",
                       error="cancelled, and revoked after the grace period",
                       attempts=_attempts(invocation))
    except Exception as exc:  # the function's failure is data, not a crash
        return _failed(exc, registration, started, clock, _attempts(invocation))
    finally:
        if revoker is not None:
            revoker.unwatch(ctx.execution_id)
        current_context.reset(token)


async def run_awaitable(registration: Registration, data: dict, ctx: ExecutionContext,
                        middleware: Sequence[Middleware] = _DEFAULT) -> dict:
    """Run a function from inside a running event loop; return a report."""
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    invocation: Invocation | None = None
    try:
        invocation = Invocation(registration, ctx, False, registration.bind(data))
        while True:
            _before(middleware, invocation)
            try:
                result = invocation.invoke()
                if invocation.is_async:
                    result = await result
            except Exception as exc:
                _after(middleware, invocation, exc)
                if invocation.ending is not None:
                    return _ended(invocation, started, clock)
                if invocation.retry_in is None:
                    raise
                await asyncio.sleep(invocation.retry_in)
                continue
            _after(middleware, invocation, None)
            return _succeeded(result, started, clock, invocation.attempts)
    except Exception as exc:
        return _failed(exc, registration, started, clock, _attempts(invocation))
    finally:
        current_context.reset(token)


def _before(middleware: Sequence[Middleware], invocation: Invocation) -> None:
    invocation.reset()
    for step in middleware:
        step.before_execute(invocation)


def _after(middleware: Sequence[Middleware], invocation: Invocation,
           error: Exception | None) -> None:
    for step in middleware:
        step.after_execute(invocation, error)


def _call_blocking(invocation: Invocation, revoker: Revoker | None) -> Any:
    value = invocation.invoke()
    if not invocation.is_async:
        return value
    loop = _thread_loop()
    task = loop.create_task(value)
    if revoker is not None:
        revoker.attach_task(invocation.ctx.execution_id, loop, task)
    return loop.run_until_complete(task)


def _attempts(invocation: Invocation | None) -> list[dict] | None:
    return (invocation.attempts if invocation is not None else None) or None


def to_jsonable(value: Any) -> Any:
    """Convert pydantic models and dataclasses (deeply) into JSON-ready values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    raise ResultNotSerializable(
        f"result of type {type(value).__name__} cannot be sent as JSON")


def _succeeded(result: Any, started: datetime, clock: float, attempts: list[dict]) -> dict:
    try:
        result = to_jsonable(result)
    except ResultNotSerializable as exc:
        return _report(protocol.FAILED, started, clock, error=str(exc),
                       error_type="ResultNotSerializable")
    return _report(protocol.SUCCEEDED, started, clock, result=result,
                   attempts=attempts or None)


def _ended(invocation: Invocation, started: datetime, clock: float) -> dict:
    return _report(started=started, clock=clock, attempts=invocation.attempts or None,
                   **(invocation.ending or {}))


def _failed(exc: Exception, registration: Registration, started: datetime,
            clock: float, attempts: list[dict] | None) -> dict:
    log.warning("%s failed: %s: %s", registration.name, type(exc).__name__, exc)
    detail = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
    return _report(protocol.FAILED, started, clock, error=str(exc) or type(exc).__name__,
                   error_type=type(exc).__name__, traceback=detail,
                   problems=getattr(exc, "problems", None), attempts=attempts)


def _report(status: str, started: datetime, clock: float, **fields: Any) -> dict:
    report = {
        "status": status,
        "started_at": started.isoformat(),
        "completed_at": _now().isoformat(),
        "duration_ms": int((time.perf_counter() - clock) * 1000),
    }
    report.update({k: v for k, v in fields.items() if v is not None})
    return report


def _now() -> datetime:
    return datetime.now(UTC)


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _loops.loop = loop
    return loop
