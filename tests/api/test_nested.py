"""Nested calls go through the control plane and build the execution DAG."""

from tests.conftest import count_executions


def _run(api, run_id):
    return api.get("/api/v1/executions", params={"run_id": run_id}).json()["executions"]


def test_three_levels_across_nodes_link_each_child_to_its_parent(api):
    response = api.execute("relay-agent.start", {"text": "this is terrible"})

    body = response.json()
    assert body["status"] == "succeeded", body
    top = body["result"]
    middle = top["below"]
    assert middle["sentiment"] == {"label": "negative", "score": -1}
    rows = {row["target"]: row for row in _run(api, body["run_id"])}
    assert set(rows) == {"relay-agent.start", "echo-agent.middle", "sentiment-agent.analyze"}
    assert rows["relay-agent.start"]["parent_execution_id"] is None
    assert rows["echo-agent.middle"]["parent_execution_id"] == body["execution_id"]
    assert rows["echo-agent.middle"]["execution_id"] == middle["me"]
    assert (rows["sentiment-agent.analyze"]["parent_execution_id"]
            == rows["echo-agent.middle"]["execution_id"])
    assert all(row["status"] == "succeeded" for row in rows.values())


def test_same_node_nesting_three_deep_does_not_deadlock(api):
    # echo-agent runs as two workers of one thread each: queued children would wait
    # forever behind their parents; same-node calls run inline instead.
    response = api.execute("echo-agent.depth", {"n": 3}, timeout=20)

    body = response.json()
    assert response.status_code == 200 and body["status"] == "succeeded", body
    ids = body["result"]["ids"]
    assert len(ids) == 3 and ids[0] == body["execution_id"]
    rows = {row["execution_id"]: row for row in _run(api, body["run_id"])}
    assert set(rows) == set(ids)
    assert rows[ids[1]]["parent_execution_id"] == ids[0]
    assert rows[ids[2]]["parent_execution_id"] == ids[1]
    notes = api.get(f"/api/v1/executions/{ids[2]}/notes").json()
    assert [n["message"] for n in notes["notes"]] == ["depth 1"]


def test_a_failing_callee_raises_in_the_caller_with_the_remote_error(api):
    body = api.execute("echo-agent.call_broken", {"message": "bad thing"}).json()

    assert body["status"] == "succeeded"
    assert body["result"] == {"caught": "ExecutionFailedError", "status": "failed",
                              "error_message": "bad thing", "error_type": "ValueError"}
    rows = _run(api, body["run_id"])
    child = next(r for r in rows if r["target"] == "echo-agent.explode")
    assert child["status"] == "failed" and child["parent_execution_id"] == body["execution_id"]


def test_mission_example_triages_through_sentiment_agent(api):
    before = count_executions()
    body = api.execute("support-agent.triage_ticket",
                       {"ticket": {"message": "my order is late and I am angry"}}).json()

    assert body["status"] == "succeeded"
    assert body["result"] == {"priority": "high"}
    assert count_executions() == before + 2
    notes = api.get(f"/api/v1/executions/{body['execution_id']}/notes").json()
    assert notes["notes"][0]["message"] == "Triaged with sentiment negative"
