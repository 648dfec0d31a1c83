"""shutdown-agent: a slow reasoner to prove SIGTERM finishes work in hand."""

import time

from agent_sdk import Agent

app = Agent("shutdown-agent")
# Also runnable as a plain Celery worker: celery -A <module>:celery worker
celery = app.celery


@app.reasoner()
def slow(seconds: float) -> dict:
    time.sleep(seconds)
    return {"finished": True}


if __name__ == "__main__":
    app.run()
