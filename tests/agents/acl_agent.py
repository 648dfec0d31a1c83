"""acl-agent: runs under its own broker ACL user (tests/api/test_broker_acl.py)."""

import time

from agent_sdk import Agent

app = Agent("acl-agent")


@app.skill()
def echo(text: str) -> dict:
    return {"text": text}


@app.reasoner()
def slow(seconds: float) -> dict:
    """Outlive the lease a few times (renewals) and be reported running first."""
    time.sleep(seconds)
    return {"slept": seconds, "cancelled": app.ctx.cancelled}


if __name__ == "__main__":
    app.run()
