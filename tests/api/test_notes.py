"""Notes on executions: written by agents, read back with tag filters."""


def test_notes_are_stored_and_filtered_by_tag(api):
    execution = api.execute("echo-agent.noop", {"value": 1}).json()
    headers = {"X-Execution-ID": execution["execution_id"]}

    api.post("/api/v1/executions/note", json={"message": " first ", "tags": ["Audit"]},
             headers=headers)
    api.post("/api/v1/executions/note", json={"message": "second", "tags": ["debug"]},
             headers=headers)

    every = api.get(f"/api/v1/executions/{execution['execution_id']}/notes").json()
    audit = api.get(f"/api/v1/executions/{execution['execution_id']}/notes",
                    params={"tags": "audit"}).json()
    assert [n["message"] for n in every["notes"]] == ["first", "second"]
    assert every["total"] == 2
    assert [n["message"] for n in audit["notes"]] == ["first"]
    assert audit["notes"][0]["tags"] == ["Audit"] and audit["notes"][0]["timestamp"]


def test_note_errors(api):
    blank = api.post("/api/v1/executions/note", json={"message": "  "},
                     headers={"X-Execution-ID": "exec_x"})
    no_id = api.post("/api/v1/executions/note", json={"message": "hello"})
    unknown = api.post("/api/v1/executions/note", json={"message": "hello"},
                       headers={"X-Execution-ID": "exec_unknown"})
    bad_tags = api.post("/api/v1/executions/note", json={"message": "hi", "tags": "x"},
                        headers={"X-Execution-ID": "exec_x"})

    assert (blank.status_code, blank.json()["details"]) == (400, {"field": "message"})
    assert (no_id.status_code, no_id.json()["details"]) == (400, {"field": "X-Execution-ID"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "execution_not_found")
    assert (bad_tags.status_code, bad_tags.json()["details"]) == (400, {"field": "tags"})
