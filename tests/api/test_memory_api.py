"""Shared memory over REST: scope resolution, isolation, TTL, errors, change events."""

import itertools
import json
import threading
import time
import uuid

import pytest
import requests

from tests.conftest import AUTH


def _ids():
    tag = uuid.uuid4().hex[:8]
    return {"X-Workflow-ID": f"wf-{tag}", "X-Session-ID": f"sess-{tag}",
            "X-Actor-ID": f"team-{tag}"}


def _set(api, key, data, headers=None, **body):
    return api.post("/api/v1/memory/set", json={"key": key, "data": data, **body},
                    headers=headers or {})


def _get(api, key, headers=None, **body):
    return api.post("/api/v1/memory/get", json={"key": key, **body}, headers=headers or {})


@pytest.mark.parametrize("present", [
    combo for n in range(4)
    for combo in itertools.combinations(["X-Workflow-ID", "X-Session-ID", "X-Actor-ID"], n)
])
def test_writes_go_to_the_most_specific_scope_and_reads_search_in_order(api, present):
    ids = _ids()
    headers = {name: ids[name] for name in present}
    key = f"k-{uuid.uuid4().hex[:6]}"
    expected_scope = next((s for s, h in [("workflow", "X-Workflow-ID"),
                                          ("session", "X-Session-ID"),
                                          ("actor", "X-Actor-ID")] if h in headers), "global")

    written = _set(api, key, {"v": 1}, headers).json()
    read = _get(api, key, headers).json()

    assert written["scope"] == expected_scope == read["scope"]
    assert written["scope_id"] == (headers.get({"workflow": "X-Workflow-ID",
                                                "session": "X-Session-ID",
                                                "actor": "X-Actor-ID"}.get(expected_scope))
                                   or "global")
    assert read["data"] == {"v": 1}
    _set(api, key, None, headers, scope=expected_scope, ttl=1)  # keep global tidy


def test_a_read_falls_back_from_workflow_to_session_to_actor_to_global(api):
    ids = _ids()
    key = f"fallback-{uuid.uuid4().hex[:6]}"
    _set(api, key, "actor value", {"X-Actor-ID": ids["X-Actor-ID"]})
    _set(api, key, "session value", {"X-Session-ID": ids["X-Session-ID"]})

    found = _get(api, key, ids).json()
    actor_only = _get(api, key, {"X-Actor-ID": ids["X-Actor-ID"]}).json()

    assert (found["scope"], found["data"]) == ("session", "session value")
    assert (actor_only["scope"], actor_only["data"]) == ("actor", "actor value")


def test_a_session_cannot_see_another_sessions_data(api):
    key = f"secret-{uuid.uuid4().hex[:6]}"
    _set(api, key, "mine", {"X-Session-ID": "alice"}, scope="session")

    other = _get(api, key, {"X-Session-ID": "bob"}, scope="session")
    listed = api.get("/api/v1/memory/list", params={"scope": "session"},
                     headers={"X-Session-ID": "bob"}).json()

    assert other.status_code == 404 and other.json()["error"] == "memory_not_found"
    assert key not in [m["key"] for m in listed]


def test_ttl_expires_values_and_they_leave_the_list(api):
    headers = {"X-Session-ID": f"ttl-{uuid.uuid4().hex[:6]}"}
    stored = _set(api, "short", 1, headers, ttl=1).json()
    _set(api, "long", 2, headers)

    time.sleep(1.3)

    assert stored["ttl_seconds"] == 1 and stored["expires_at"]
    assert _get(api, "short", headers).status_code == 404
    assert [m["key"] for m in api.get("/api/v1/memory/list", headers=headers).json()] == ["long"]


def test_exists_delete_increment_and_compare_and_set(api):
    headers = {"X-Actor-ID": f"ops-{uuid.uuid4().hex[:6]}"}
    api.post("/api/v1/memory/increment", json={"key": "n", "amount": 2}, headers=headers)
    counted = api.post("/api/v1/memory/increment", json={"key": "n"}, headers=headers).json()
    swapped = api.post("/api/v1/memory/compare-and-set",
                       json={"key": "n", "expected": 3, "data": 10}, headers=headers)
    refused = api.post("/api/v1/memory/compare-and-set",
                       json={"key": "n", "expected": 3, "data": 11}, headers=headers)
    deleted = api.post("/api/v1/memory/delete", json={"key": "n"}, headers=headers)
    exists = api.post("/api/v1/memory/exists", json={"key": "n"}, headers=headers).json()

    assert counted["data"] == 3
    assert swapped.json()["data"] == 10
    assert refused.status_code == 409 and refused.json()["error"] == "memory_compare_failed"
    assert refused.json()["details"]["current"]["data"] == 10
    assert deleted.status_code == 204 and exists == {"exists": False}


@pytest.mark.parametrize("body, status, code", [
    ({"key": "", "data": 1}, 400, "invalid_memory_key"),
    ({"key": "a:b", "data": 1}, 400, "invalid_memory_key"),
    ({"key": "x" * 300, "data": 1}, 400, "invalid_memory_key"),
    ({"key": "k"}, 400, "invalid_field"),
    ({"key": "k", "data": 1, "scope": "galaxy"}, 400, "invalid_memory_scope"),
    ({"key": "k", "data": 1, "scope": "session"}, 400, "missing_scope_id"),
    ({"key": "k", "data": 1, "ttl": -1}, 400, "invalid_field"),
    ({"key": "big", "data": "x" * 1_100_000}, 413, "memory_value_too_large"),
])
def test_bad_memory_writes_get_clear_errors_and_write_nothing(api, body, status, code):
    response = api.post("/api/v1/memory/set", json=body)

    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]
    if body.get("key") == "big":
        assert _get(api, "big").status_code == 404


def _sse(api, params, headers, into: list, stop: threading.Event):
    with requests.get(api.base_url + "/api/v1/memory/events/sse", params=params,
                      headers={**AUTH, **headers}, stream=True, timeout=30) as response:
        event = {}
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line.startswith("id: "):
                event["id"] = line[4:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and event:
                into.append((time.perf_counter(), event))
                event = {}


def test_sse_streams_matching_changes_and_resumes_after_the_last_event_id(api, stack):
    session = f"sse-{uuid.uuid4().hex[:6]}"
    headers = {"X-Session-ID": session}
    params = {"scope": "session", "scope_id": session, "patterns": "ticket_*"}
    seen, stop = [], threading.Event()
    reader = threading.Thread(target=_sse, args=(api, params, {}, seen, stop), daemon=True)
    reader.start()
    time.sleep(0.5)

    _set(api, "ticket_1", {"state": "open"}, headers)
    _set(api, "note_1", "ignored", headers)
    _set(api, "ticket_1", {"state": "closed"}, headers)
    stack.wait_until(lambda: len(seen) >= 2, what="two ticket events", timeout=10)
    first = seen[0][1]
    # A client that reconnects after the first event gets the second again (not the note).
    replay, stop2 = [], threading.Event()
    threading.Thread(target=_sse, args=(api, params, {"Last-Event-ID": first["id"]}, replay,
                                        stop2), daemon=True).start()
    stack.wait_until(lambda: replay, what="the replayed event", timeout=10)
    stop.set()
    stop2.set()

    assert [e["data"]["key"] for _, e in seen] == ["ticket_1", "ticket_1"]
    assert seen[1][1]["data"]["previous_data"] == {"state": "open"}
    assert seen[1][1]["data"]["action"] == "set"
    assert replay[0][1]["id"] == seen[1][1]["id"]


def test_history_returns_retained_events_filtered(api):
    actor = f"hist-{uuid.uuid4().hex[:6]}"
    headers = {"X-Actor-ID": actor}
    _set(api, "plan_a", 1, headers)
    api.post("/api/v1/memory/delete", json={"key": "plan_a"}, headers=headers)

    body = api.get("/api/v1/memory/events/history",
                   params={"scope": "actor", "scope_id": actor, "patterns": "plan_*"}).json()

    assert [(e["key"], e["action"]) for e in body["events"]] == [
        ("plan_a", "set"), ("plan_a", "delete")]
    assert body["events"][1]["previous_data"] == 1
