"""relay-agent: the top of a three-level, cross-node call chain."""

from agent_sdk import Agent

app = Agent("relay-agent")


@app.reasoner()
async def start(text: str) -> dict:
    below = await app.call("echo-agent.middle", text=text)
    return {"me": app.ctx.execution_id, "below": below}


if __name__ == "__main__":
    app.run()
