"""bench-agent: one no-op reasoner, served by the agent SDK's Celery worker.

Started by execute_bench.py with PYTHONPATH=<repo root>; AGENTFIELD_SERVER, REDIS_URL and
AGENTFIELD_CONCURRENCY come from its environment.
"""

from agent_sdk import Agent

app = Agent("bench-agent")


@app.reasoner()
def noop(value: int = 0) -> dict:
    return {"value": value}


if __name__ == "__main__":
    app.run()
