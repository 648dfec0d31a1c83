"""Execution lookup, listing, batch status and status reports."""

import pytest


@pytest.fixture
def run(api):
    """Three executions in one run, created in order."""
    first = api.execute("echo-agent.noop", {"value": 1}).json()
    headers = {"X-Run-ID": first["run_id"]}
    second = api.execute("echo-agent.noop", {"value": 2}, headers=headers).json()
    third = api.execute("echo-agent.explode", {"message": "no"}, headers=headers).json()
    return first["run_id"], [first, second, third]


def test_list_filters_by_run_newest_first(api, run):
    run_id, created = run

    body = api.get("/api/v1/executions", params={"run_id": run_id}).json()

    assert [e["execution_id"] for e in body["executions"]] == [
        e["execution_id"] for e in reversed(created)]
    assert body["total"] == 3 and body["has_more"] is False


def test_list_paginates_and_filters_by_status_and_node(api, run):
    run_id, created = run

    page = api.get("/api/v1/executions", params={"run_id": run_id, "limit": 2}).json()
    rest = api.get("/api/v1/executions",
                   params={"run_id": run_id, "limit": 2, "offset": 2}).json()
    failed = api.get("/api/v1/executions",
                     params={"run_id": run_id, "status": "error", "node": "echo-agent"}).json()

    assert len(page["executions"]) == 2 and page["has_more"] is True
    assert [e["execution_id"] for e in rest["executions"]] == [created[0]["execution_id"]]
    assert [e["execution_id"] for e in failed["executions"]] == [created[2]["execution_id"]]


def test_list_rejects_an_unknown_status(api):
    response = api.get("/api/v1/executions", params={"status": "sleeping"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_field"


def test_batch_status_maps_ids_and_marks_unknown_ones(api, run):
    _, created = run
    ids = [created[0]["execution_id"], created[2]["execution_id"], "exec_nope"]

    body = api.post("/api/v1/executions/batch-status", json={"execution_ids": ids}).json()

    assert set(body) == set(ids)
    assert body[ids[0]]["status"] == "succeeded"
    assert body[ids[1]]["status"] == "failed"
    assert body["exec_nope"] == {"execution_id": "exec_nope", "status": "not_found"}


def test_batch_status_needs_a_list_of_ids(api):
    response = api.post("/api/v1/executions/batch-status", json={"execution_ids": "x"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_field"


def test_unknown_execution_is_404(api):
    response = api.get("/api/v1/executions/exec_missing")

    assert response.status_code == 404
    assert response.json() == {"error": "execution_not_found",
                               "message": "execution 'exec_missing' not found",
                               "details": {"execution_id": "exec_missing"}}


def test_status_report_accepts_aliases_and_wakes_nothing_twice(api):
    accepted = api.post("/api/v1/execute/async/echo-agent.sleepy",
                        json={"input": {"seconds": 0.01}}).json()
    execution_id = accepted["execution_id"]
    api.wait_for_status(execution_id)

    again = api.post(f"/api/v1/executions/{execution_id}/status",
                     json={"status": "completed", "result": {"late": True}})

    assert again.status_code == 409
    assert again.json()["error"] == "execution_already_finished"
    assert api.get(f"/api/v1/executions/{execution_id}").json()["result"] == {"slept": 0.01}


def test_status_report_rejects_unknown_status_and_unknown_execution(api):
    bad_status = api.post("/api/v1/executions/exec_missing/status", json={"status": "zzz"})
    missing = api.post("/api/v1/executions/exec_missing/status", json={"status": "success"})

    assert bad_status.status_code == 400 and bad_status.json()["error"] == "invalid_status"
    assert missing.status_code == 404 and missing.json()["error"] == "execution_not_found"
