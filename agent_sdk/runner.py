"""Run one execution: bind input, call the function with its context, build the report."""

import asyncio
import dataclasses
import logging
import threading
import time
import traceback
from datetime import UTC, datetime

from pydantic import BaseModel

from agent_sdk.context import ExecutionContext, current_context
from agent_sdk.registry import Registration

log = logging.getLogger(__name__)

_loops = threading.local()


class ResultNotSerializable(TypeError):
    """Raised when a function returns something that cannot become JSON."""


def run_blocking(registration: Registration, data: dict, ctx: ExecutionContext) -> dict:
    """Run a function in this thread (async ones on this thread's own loop); return a report."""
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    try:
        kwargs = registration.bind(data)
        if registration.is_async:
            result = _thread_loop().run_until_complete(registration.fn(**kwargs))
        else:
            result = registration.fn(**kwargs)
        return _succeeded(result, started, clock)
    except Exception as exc:  # the function's failure is data, not a crash
        return _failed(exc, registration, started, clock)
    finally:
        current_context.reset(token)


async def run_awaitable(registration: Registration, data: dict, ctx: ExecutionContext) -> dict:
    """Run a function from inside a running event loop; return a report."""
    started, clock = _now(), time.perf_counter()
    token = current_context.set(ctx)
    try:
        kwargs = registration.bind(data)
        if registration.is_async:
            result = await registration.fn(**kwargs)
        else:
            result = registration.fn(**kwargs)
        return _succeeded(result, started, clock)
    except Exception as exc:
        return _failed(exc, registration, started, clock)
    finally:
        current_context.reset(token)


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


def _succeeded(result, started: datetime, clock: float) -> dict:
    try:
        result = to_jsonable(result)
    except ResultNotSerializable as exc:
        return _report("failed", started, clock, error=str(exc),
                       error_type="ResultNotSerializable")
    return _report("succeeded", started, clock, result=result)


def _failed(exc: Exception, registration: Registration, started: datetime,
            clock: float) -> dict:
    log.warning("%s failed: %s: %s", registration.name, type(exc).__name__, exc)
    detail = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
    return _report("failed", started, clock, error=str(exc) or type(exc).__name__,
                   error_type=type(exc).__name__, traceback=detail,
                   problems=getattr(exc, "problems", None))


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
