"""memory-agent: reasoners that use ``app.memory``, run by the test stack as a real agent."""

import asyncio
import json
import os

import redis

from agent_sdk import Agent

app = Agent("memory-agent")
memory = app.memory
events = redis.Redis.from_url(os.environ["TEST_COUNTER_REDIS_URL"])


def _placed(stored: dict) -> dict:
    ctx = app.ctx
    return {"scope": stored["scope"], "scope_id": stored["scope_id"], "key": stored["key"],
            "data": stored["data"], "run_id": ctx.run_id, "session_id": ctx.session_id}


@app.reasoner()
async def remember(key: str, value: dict) -> dict:
    """Store value where the context puts it (the run's workflow); say where it landed."""
    return _placed(await memory.set(key, value))


@app.reasoner()
async def share(key: str, value: dict) -> dict:
    """Store value in the caller's session through a session view."""
    return _placed(await memory.session(app.ctx.session_id).set(key, value))


@app.reasoner()
def recall(key: str) -> dict:
    """Read key from a plain def (the blocking form): workflow, session, actor, global."""
    return {"value": memory.get(key), "exists": memory.exists(key), "run_id": app.ctx.run_id}


@app.reasoner()
async def bump(key: str, times: int) -> dict:
    """Increment key ``times`` times concurrently; return every intermediate value."""
    values = await asyncio.gather(*(memory.increment(key) for _ in range(times)))
    return {"values": sorted(values), "final": await memory.get(key)}


@memory.on_change("watch_*")
def record(event: dict) -> None:
    """Record each change of a watch_* key where the tests can see it."""
    events.rpush("memory-events", json.dumps(event))


if __name__ == "__main__":
    app.run()
