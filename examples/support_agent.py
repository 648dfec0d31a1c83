"""support-agent: triages tickets, asking sentiment-agent through the control plane.

Shared memory: it reads the customer's history (send X-Session-ID to scope it to a
customer) and records the ticket's status in the run's workflow scope.
"""

import os

from agent_sdk import Agent

app = Agent("support-agent", agentfield_server=os.getenv("AGENTFIELD_SERVER", "http://localhost:8080"))


@app.reasoner()
async def triage_ticket(ticket: dict) -> dict:
    history = await app.memory.get("customer_history", default=[])
    sentiment = await app.call("sentiment-agent.analyze", text=ticket["message"])
    app.note(f"Triaged with sentiment {sentiment['label']}")
    # A customer who already complained twice goes to the front of the line.
    escalated = sentiment["label"] == "negative" or len(history) >= 2
    await app.memory.set("ticket_status", "triaged")
    return {"priority": "high" if escalated else "normal"}


if __name__ == "__main__":
    app.run()
