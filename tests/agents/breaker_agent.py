"""breaker-agent: a node with a tight circuit breaker, started and stopped by its tests."""

import time

from agent_sdk import Agent

app = Agent("breaker-agent", limits={"circuit_failure_rate": 0.5, "circuit_min_calls": 4,
                                     "circuit_cooldown_seconds": 1.5})


@app.reasoner()
def work(fail: bool = False, seconds: float = 0.0) -> dict:
    time.sleep(seconds)
    if fail:
        raise RuntimeError("asked to fail")
    return {"ok": True}


if __name__ == "__main__":
    app.run()
