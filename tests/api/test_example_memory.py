"""The support triage example uses shared memory as the mission's documents show."""

import uuid


def test_triage_reads_customer_history_and_records_ticket_status(api):
    session = {"X-Session-ID": f"customer-{uuid.uuid4().hex[:6]}"}
    api.post("/api/v1/memory/set", headers=session,
             json={"key": "customer_history", "data": ["late order", "broken item"]})

    body = api.execute("support-agent.triage_ticket",
                       {"ticket": {"message": "thanks, it works great"}}, headers=session).json()

    assert body["status"] == "succeeded" and body["result"] == {"priority": "high"}
    status = api.post("/api/v1/memory/get", json={"key": "ticket_status", "scope": "workflow"},
                      headers={"X-Workflow-ID": body["run_id"]}).json()
    assert (status["data"], status["scope_id"]) == ("triaged", body["run_id"])


def test_a_customer_without_history_and_a_happy_message_stays_normal(api):
    body = api.execute("support-agent.triage_ticket",
                       {"ticket": {"message": "thanks, it works great"}},
                       headers={"X-Session-ID": f"new-{uuid.uuid4().hex[:6]}"}).json()

    assert body["result"] == {"priority": "normal"}
