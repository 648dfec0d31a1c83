"""A node for the fault-injection tests: counts starts and finishes of every run.

The node id comes from FAULT_NODE_ID, so one script serves several nodes, and
FAULT_MAX_QUEUED gives the node a queued-depth limit.
"""

import os
import time

import redis

from agent_sdk import Agent

limits = {"max_queued": int(os.environ["FAULT_MAX_QUEUED"])} \
    if os.environ.get("FAULT_MAX_QUEUED") else None
app = Agent(os.environ.get("FAULT_NODE_ID", "crash-agent"), limits=limits)
counter = redis.Redis.from_url(os.environ["TEST_COUNTER_REDIS_URL"])


@app.reasoner()
def work(key: str, seconds: float = 0.0) -> dict:
    """Record who started the run, sleep, then record that it finished."""
    pipe = counter.pipeline()
    pipe.incr(f"{key}:runs")
    pipe.set(f"{key}:pid", os.getpid())
    pipe.execute()
    time.sleep(seconds)
    counter.incr(f"{key}:done")
    return {"pid": os.getpid()}


if __name__ == "__main__":
    app.run()
