"""echo-agent: the functions the test suite runs through real Celery workers."""

import asyncio
import os
import time
from typing import Any

import redis
from pydantic import BaseModel

from agent_sdk import Agent

app = Agent("echo-agent")
counter = redis.Redis.from_url(os.environ["TEST_COUNTER_REDIS_URL"])


class Order(BaseModel):
    sku: str
    quantity: int


@app.skill()
def echo(text: str) -> dict:
    """Return the text and the execution context it ran in."""
    ctx = app.ctx
    return {"text": text, "execution_id": ctx.execution_id, "run_id": ctx.run_id,
            "parent_execution_id": ctx.parent_execution_id,
            "session_id": ctx.session_id, "actor_id": ctx.actor_id}


@app.reasoner()
async def noop(value: int = 0) -> dict:
    return {"value": value}


@app.reasoner()
def same(value: Any = None) -> Any:
    """Return the input value unchanged: any JSON value must come back as the result."""
    return value


@app.reasoner()
def total(order: Order) -> dict:
    """Typed input: a pydantic model parameter."""
    return {"sku": order.sku, "total": order.quantity * 3}


@app.reasoner()
def explode(message: str) -> dict:
    raise ValueError(message)


@app.reasoner()
async def sleepy(seconds: float, key: str = "") -> dict:
    await asyncio.sleep(seconds)
    if key:
        counter.incr(key)
    return {"slept": seconds}


@app.reasoner()
def count(key: str, seconds: float = 0.0) -> dict:
    """Count runs under ``key``: the redelivery tests assert it ran once."""
    runs = counter.incr(key)
    time.sleep(seconds)
    return {"runs": runs}


@app.reasoner()
async def depth(n: int) -> dict:
    """Call itself n-1 more times: same-node nesting must not deadlock."""
    app.note(f"depth {n}", tags=["depth"])
    if n <= 1:
        return {"ids": [app.ctx.execution_id]}
    below = await app.call("echo-agent.depth", n=n - 1)
    return {"ids": [app.ctx.execution_id, *below["ids"]]}


@app.reasoner()
async def middle(text: str) -> dict:
    """Second level of a cross-node chain: relay-agent -> echo-agent -> sentiment-agent."""
    sentiment = await app.call("sentiment-agent.analyze", text=text)
    return {"me": app.ctx.execution_id, "sentiment": sentiment}


@app.reasoner()
async def call_broken(message: str) -> dict:
    try:
        await app.call("echo-agent.explode", message=message)
    except Exception as exc:
        return {"caught": type(exc).__name__, "status": exc.status,
                "error_message": exc.error_message, "error_type": exc.error_type}
    return {"caught": None}


@app.reasoner()
async def cancellable(key: str) -> dict:
    """Wait up to 10 s for a cancellation, then show how it surfaces."""
    for _ in range(200):
        if app.ctx.cancelled:
            try:
                await app.call("sentiment-agent.analyze", text="after cancel")
            except Exception as exc:
                counter.set(key, type(exc).__name__)
            return {"noticed": True}
        await asyncio.sleep(0.05)
    return {"noticed": False}


@app.reasoner(retries=3, retry_on=(ConnectionError,), retry_backoff=0.05)
def flaky(key: str, fail_times: int) -> dict:
    """Fail with a retryable error the first ``fail_times`` tries."""
    tries = counter.incr(key)
    if tries <= fail_times:
        raise ConnectionError(f"try {tries} failed")
    return {"tries": tries}


@app.reasoner(retries=3, retry_on=(ConnectionError,), retry_backoff=0.05)
def picky(key: str) -> dict:
    """Fail with an error that is not retryable."""
    counter.incr(key)
    raise ValueError("not worth retrying")


@app.reasoner(timeout=0.3)
def overrun(seconds: float) -> dict:
    time.sleep(seconds)
    return {"slept": seconds}


@app.reasoner(timeout=0.3)
async def overrun_async(seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}



@app.reasoner()
def stubborn(key: str, seconds: float) -> dict:
    """Ignore cancellation; record how the run ended (revoked or finished)."""
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
    except BaseException as exc:
        counter.set(f"{key}:stopped", type(exc).__name__)
        raise
    counter.set(f"{key}:stopped", "finished")
    return {"finished": True}


@app.reasoner()
async def stubborn_async(key: str, seconds: float) -> dict:
    """The async form: revoking cancels its task."""
    try:
        await asyncio.sleep(seconds)
    except BaseException as exc:
        counter.set(f"{key}:stopped", type(exc).__name__)
        raise
    counter.set(f"{key}:stopped", "finished")
    return {"finished": True}


if __name__ == "__main__":
    app.run()
