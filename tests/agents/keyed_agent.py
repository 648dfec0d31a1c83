"""A node that runs with a key of its own: the authentication tests start one per node.

The node id comes from KEYED_NODE_ID and the key from AGENTFIELD_API_KEY (a
``node:<id>`` key the test created); KEYED_MAX_QUEUED gives the node a limit, so a test
can see that nobody else's registration replaced it.
"""

import asyncio
import os
import time

from agent_sdk import Agent

NODE_ID = os.environ["KEYED_NODE_ID"]
limits = {"max_queued": int(os.environ["KEYED_MAX_QUEUED"])} \
    if os.environ.get("KEYED_MAX_QUEUED") else None
app = Agent(NODE_ID, limits=limits)


@app.reasoner()
def work(text: str, seconds: float = 0.0) -> dict:
    """Sleep, then answer with what only this node's run of it knows."""
    time.sleep(seconds)
    return {"text": text, "node": NODE_ID, "execution_id": app.ctx.execution_id}


@app.reasoner()
async def slow(text: str, seconds: float) -> dict:
    """Run ``work`` as an inline child on this node, then sleep: a run of two steps."""
    child = await app.call(f"{NODE_ID}.work", text=text)
    await asyncio.sleep(seconds)
    return {"text": text, "node": NODE_ID, "execution_id": app.ctx.execution_id,
            "child": child["execution_id"]}


if __name__ == "__main__":
    app.run()
