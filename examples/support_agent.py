"""support-agent: triages tickets, asking sentiment-agent through the control plane."""

import os

from agent_sdk import Agent

app = Agent("support-agent", agentfield_server=os.getenv("AGENTFIELD_SERVER", "http://localhost:8080"))


@app.reasoner()
async def triage_ticket(ticket: dict) -> dict:
    sentiment = await app.call("sentiment-agent.analyze", text=ticket["message"])
    app.note(f"Triaged with sentiment {sentiment['label']}")
    return {"priority": "high" if sentiment["label"] == "negative" else "normal"}


if __name__ == "__main__":
    app.run()
