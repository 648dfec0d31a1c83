"""Run one execution: bind input, call the function with its context, build the report."""

import asyncio
import contextvars
import dataclasses
import logging
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from pydantic import BaseModel

from agent_sdk import revoker as revocation
from agent_sdk.context import ExecutionContext, current_context
from agent_sdk.errors import ExecutionRevoked
from agent_sdk.registry import Registration

log = logging.getLogger(__name__)

_loops = threading.local()


class ResultNotSerializable(TypeError):
    """Raised when a function returns something that cannot become JSON."""


class FunctionTimedOut(Exception):
    """Raised when a function runs past its registered ``timeout``."""


_overtime = ThreadPoolExecutor(max_workers=32, thread_name_prefix="timed-call")


def run_blocking(registration: Registration, data: dict, ctx: ExecutionContext) -> dict:
    """Run a function in this thread (async ones on this thread's own loop); return a report.

    Retryable failures are retried per the registration's policy; every failed try is
    listed in the report's ``attempts``.
    """
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    attempts: list[dict] = []
    revoker = revocation.current()
    if revoker is not None:
        revoker.watch(ctx.execution_id)
    try:
        kwargs = registration.bind(data)
        while True:
            try:
                result = _call_blocking(registration, kwargs, ctx.execution_id)
                return _succeeded(result, started, clock, attempts)
            except FunctionTimedOut as exc:
                return _report("timeout", started, clock, error=str(exc),
                               error_type="TimeoutError", attempts=attempts or None)
            except ExecutionRevoked:
                raise
            except Exception as exc:
                if not _retry(registration, exc, attempts):
                    raise
                time.sleep(_delay(registration, attempts))
    except (ExecutionRevoked, asyncio.CancelledError):
        return _report("cancelled", started, clock, error_type="ExecutionRevoked",
                       error="cancelled, and revoked after the grace period",
                       attempts=attempts or None)
    except Exception as exc:  # the function's failure is data, not a crash
        return _failed(exc, registration, started, clock, attempts)
    finally:
        if revoker is not None:
            revoker.unwatch(ctx.execution_id)
        current_context.reset(token)


async def run_awaitable(registration: Registration, data: dict, ctx: ExecutionContext) -> dict:
    """Run a function from inside a running event loop; return a report."""
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    attempts: list[dict] = []
    try:
        kwargs = registration.bind(data)
        while True:
            try:
                result = await _call_awaitable(registration, kwargs)
                return _succeeded(result, started, clock, attempts)
            except FunctionTimedOut as exc:
                return _report("timeout", started, clock, error=str(exc),
                               error_type="TimeoutError", attempts=attempts or None)
            except Exception as exc:
                if not _retry(registration, exc, attempts):
                    raise
                await asyncio.sleep(_delay(registration, attempts))
    except Exception as exc:
        return _failed(exc, registration, started, clock, attempts)
    finally:
        current_context.reset(token)


def _call_blocking(registration: Registration, kwargs: dict, execution_id: str):
    limit = registration.policy.timeout
    if registration.is_async:
        coro = registration.fn(**kwargs)
        if limit is not None:
            coro = _bounded(coro, limit, registration.name)
        loop = _thread_loop()
        task = loop.create_task(coro)
        revoker = revocation.current()
        if revoker is not None:
            revoker.attach_task(execution_id, loop, task)
        return loop.run_until_complete(task)
    if limit is None:
        return registration.fn(**kwargs)
    # A thread cannot be stopped: past the limit it is abandoned (and logged).
    future = _overtime.submit(contextvars.copy_context().run, registration.fn, **kwargs)
    try:
        return future.result(timeout=limit)
    except FutureTimeout:
        log.warning("%s ran past its %gs timeout; its thread is abandoned",
                    registration.name, limit)
        raise FunctionTimedOut(
            f"{registration.name} exceeded its timeout of {limit:g}s") from None


async def _call_awaitable(registration: Registration, kwargs: dict):
    limit = registration.policy.timeout
    if registration.is_async:
        coro = registration.fn(**kwargs)
        return await (_bounded(coro, limit, registration.name) if limit else coro)
    if limit is None:
        return registration.fn(**kwargs)
    return await _bounded(asyncio.to_thread(registration.fn, **kwargs), limit,
                          registration.name)


async def _bounded(awaitable, limit: float, name: str):
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        return task.result()
    task.cancel()
    raise FunctionTimedOut(f"{name} exceeded its timeout of {limit:g}s")


def _retry(registration: Registration, exc: Exception, attempts: list[dict]) -> bool:
    """Record a failed try; tell whether another one is allowed."""
    policy = registration.policy
    retryable = isinstance(exc, policy.retry_on) or getattr(exc, "retryable", False) is True
    if not retryable or len(attempts) >= policy.retries:
        return False
    attempts.append({"attempt": len(attempts) + 1, "error_type": type(exc).__name__,
                     "error": str(exc)[:500], "at": _now().isoformat()})
    log.info("%s attempt %d failed (%s); retrying", registration.name, len(attempts), exc)
    return True


def _delay(registration: Registration, attempts: list[dict]) -> float:
    return registration.policy.backoff * 2 ** (len(attempts) - 1)


def to_jsonable(value):
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


def _succeeded(result, started: datetime, clock: float, attempts: list[dict]) -> dict:
    try:
        result = to_jsonable(result)
    except ResultNotSerializable as exc:
        return _report("failed", started, clock, error=str(exc),
                       error_type="ResultNotSerializable")
    return _report("succeeded", started, clock, result=result, attempts=attempts or None)


def _failed(exc: Exception, registration: Registration, started: datetime,
            clock: float, attempts: list[dict]) -> dict:
    log.warning("%s failed: %s: %s", registration.name, type(exc).__name__, exc)
    detail = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
    if attempts:  # the last try counts too
        attempts = [*attempts, {"attempt": len(attempts) + 1,
                                "error_type": type(exc).__name__, "error": str(exc)[:500],
                                "at": _now().isoformat()}]
    return _report("failed", started, clock, error=str(exc) or type(exc).__name__,
                   error_type=type(exc).__name__, traceback=detail,
                   problems=getattr(exc, "problems", None), attempts=attempts or None)


def _report(status: str, started: datetime, clock: float, **fields) -> dict:
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


class StartedReporter:
    """Report ``running`` only for executions still going after a short delay.

    Fast functions finish first and skip the extra request; slow ones show up as
    running within ``delay`` seconds. One thread serves the whole process.
    """

    def __init__(self, send, delay: float = 0.25):
        self._send = send
        self.delay = delay
        self._pending: dict[str, tuple[float, str]] = {}
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="started-reporter",
                                        daemon=True)
        self._thread.start()

    def schedule(self, execution_id: str, started_at: str) -> None:
        with self._wake:
            self._pending[execution_id] = (time.monotonic() + self.delay, started_at)
            if len(self._pending) == 1:  # later entries are never due sooner
                self._wake.notify()

    def cancel(self, execution_id: str) -> None:
        with self._wake:
            self._pending.pop(execution_id, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [(k, v[1]) for k, v in self._pending.items() if v[0] <= now]
                for key, _ in due:
                    del self._pending[key]
                if not due:
                    soonest = min((v[0] for v in self._pending.values()), default=now + 60)
                    self._wake.wait(timeout=max(0.01, soonest - now))
                    continue
            for execution_id, started_at in due:
                try:
                    self._send(execution_id, started_at)
                except Exception as exc:  # best effort: the final report still lands
                    log.debug("running report for %s failed: %s", execution_id, exc)
