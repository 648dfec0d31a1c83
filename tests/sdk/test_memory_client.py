"""app.memory against the real stack: scopes from context, views, atomics, async, events."""

import asyncio
import inspect
import json
import queue
import socket
import sys
import time
import uuid

import pytest
import requests

from agent_sdk import Agent, ControlPlaneResponseError, ExecutionContext
from agent_sdk.context import current_context
from agent_sdk.memory import MemoryClient
from tests.conftest import API_KEY, AUTH


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def memory_agent(stack, api):
    """memory-agent is running, registered and has served one execution."""
    started = "memory-agent" not in stack.processes  # conftest's AGENTS may start it
    if started:
        stack.start_agent("memory-agent", "tests/agents/memory_agent.py")
    stack.wait_until(lambda: requests.get(f"{stack.url}/api/v1/nodes/memory-agent",
                                                   headers=AUTH).ok,
                     what="memory-agent to register")
    response = api.execute("memory-agent.recall", {"key": "warm"})
    assert response.status_code == 200, (response.text, stack.log_dir)
    yield
    if started:
        stack.stop("memory-agent")


@pytest.fixture
def make_memory(stack):
    """Build MemoryClients of an in-test agent (outside any execution); stop their listeners."""
    made = []

    def make() -> MemoryClient:
        memory = Agent("sdk-test", agentfield_server=stack.url, api_key=API_KEY).memory
        made.append(memory)
        return memory

    yield make
    for memory in made:
        memory.stop_listening()


@pytest.fixture
def sdk(make_memory) -> MemoryClient:
    return make_memory()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stream_order(event_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in event_id.split("-"))


def run(api, function: str, data: dict, **headers) -> dict:
    response = api.execute(f"memory-agent.{function}", data, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "succeeded", body
    return body


def in_context(**ids) -> ExecutionContext:
    return ExecutionContext(execution_id="exec_test", run_id=ids.pop("run_id", "run_test"),
                            node_id="sdk-test", function="f", **ids)


def test_a_reasoners_write_lands_in_the_workflow_of_its_run(api, memory_agent):
    key = fresh("note")
    body = run(api, "remember", {"key": key, "value": {"n": 1}}, **{"X-Session-ID": "s-wf"})

    placed = body["result"]
    assert (placed["scope"], placed["scope_id"], placed["data"]) == (
        "workflow", body["run_id"], {"n": 1})
    same_run = run(api, "recall", {"key": key}, **{"X-Run-ID": body["run_id"]})
    assert same_run["result"]["value"] == {"n": 1}
    other_run = run(api, "recall", {"key": key}, **{"X-Session-ID": "s-wf"})
    assert other_run["run_id"] != body["run_id"]
    assert other_run["result"] == {"value": None, "exists": False, "run_id": other_run["run_id"]}


def test_a_session_view_write_is_seen_from_another_run_of_that_session(api, memory_agent):
    key, session = fresh("pref"), fresh("sess")
    body = run(api, "share", {"key": key, "value": {"theme": "dark"}},
               **{"X-Session-ID": session})

    assert (body["result"]["scope"], body["result"]["scope_id"]) == ("session", session)
    seen = run(api, "recall", {"key": key}, **{"X-Session-ID": session})["result"]
    assert (seen["value"], seen["exists"]) == ({"theme": "dark"}, True)
    elsewhere = run(api, "recall", {"key": key}, **{"X-Session-ID": fresh("sess")})["result"]
    assert (elsewhere["value"], elsewhere["exists"]) == (None, False)


def test_views_use_the_id_they_were_given(sdk):
    key = fresh("pref")
    s1, s2 = sdk.session(fresh("s1")), sdk.session(fresh("s2"))

    stored = s1.set(key, {"theme": "dark"})

    assert (stored["scope"], stored["scope_id"], stored["key"]) == ("session", s1.scope_id, key)
    assert s1.get(key) == {"theme": "dark"}
    assert s2.get(key) is None and s2.get(key, default="none") == "none"
    assert sdk.get(key) is None  # outside any execution: the global scope only
    assert sdk.global_scope.set(key, 7)["scope_id"] == "global"
    assert sdk.get(key) == 7 and s1.get(key) == {"theme": "dark"}
    token = current_context.set(in_context(session_id=s2.scope_id))
    try:  # a view ignores the current context
        assert s1.get(key) == {"theme": "dark"}
    finally:
        current_context.reset(token)
    actor = sdk.actor(fresh("team"))
    assert actor.set(key, "a")["scope"] == "actor" and actor.get(key) == "a"
    workflow = sdk.workflow(fresh("run"))
    assert workflow.set(key, "w")["scope"] == "workflow" and workflow.get(key) == "w"
    with pytest.raises(ValueError):
        sdk.session("")


def test_the_execution_context_decides_the_scope_ids(sdk):
    key, session, workflow = fresh("ctx"), fresh("sess"), fresh("run")
    sdk.session(session).set(key, "from-session")
    token = current_context.set(in_context(run_id=workflow, session_id=session,
                                           actor_id=fresh("actor")))
    try:
        assert sdk.get(key) == "from-session"  # workflow is empty, session answers
        stored = sdk.set(key, "from-workflow")
        assert (stored["scope"], stored["scope_id"]) == ("workflow", workflow)
        assert sdk.get(key) == "from-workflow"
        assert sdk.list_keys() == [key]
    finally:
        current_context.reset(token)
    assert sdk.session(session).get(key) == "from-session"


def test_exists_delete_and_list_keys(sdk):
    view = sdk.session(fresh("sess"))
    view.set("b", 2)
    view.set("a", 1)

    assert view.exists("a") and not view.exists("zz")
    assert view.list_keys() == ["a", "b"]
    assert view.delete("a") is None
    view.delete("a")  # deleting nothing is fine
    assert not view.exists("a") and view.get("a") is None
    assert view.list_keys() == ["b"]


def test_ttl_is_sent(sdk):
    view = sdk.session(fresh("sess"))

    assert view.set("short", 1, ttl=60)["ttl_seconds"] == 60
    assert view.set("forever", 1, ttl=0)["expires_at"] is None


def test_increment_is_atomic_and_returns_the_new_number(sdk, api, memory_agent):
    view = sdk.session(fresh("sess"))

    assert [view.increment("n"), view.increment("n", 4), view.increment("n", 0.5)] == [1, 5, 5.5]
    view.set("text", "abc")
    with pytest.raises(ControlPlaneResponseError) as caught:
        view.increment("text")
    assert (caught.value.status, caught.value.code) == (409, "memory_not_a_number")
    bumped = run(api, "bump", {"key": fresh("hits"), "times": 10})["result"]
    assert bumped == {"values": list(range(1, 11)), "final": 10}


def test_compare_and_set(sdk):
    view = sdk.session(fresh("sess"))

    assert view.compare_and_set("v", None, 1) is True  # None: only when absent
    assert view.compare_and_set("v", None, 2) is False
    assert view.compare_and_set("v", 1, {"x": 2}) is True
    assert view.compare_and_set("v", 1, 3) is False
    assert view.get("v") == {"x": 2}


def test_other_errors_raise(sdk):
    with pytest.raises(ControlPlaneResponseError) as caught:
        sdk.global_scope.get("bad:key")
    assert (caught.value.status, caught.value.code) == (400, "invalid_memory_key")


def test_inside_a_running_loop_every_method_returns_an_awaitable(sdk):
    view, workflow = sdk.session(fresh("sess")), fresh("run")

    async def main():
        pending = view.set("a", 1)
        assert inspect.isawaitable(pending)
        await pending
        await asyncio.gather(view.set("b", 2), view.increment("n"), view.increment("n"))
        token = current_context.set(in_context(run_id=workflow))
        try:  # the context travels into the worker thread
            placed = await sdk.set("mine", True)
        finally:
            current_context.reset(token)
        got = await asyncio.gather(view.get("a"), view.get("b"), view.get("n"),
                                   view.get("zz", default="d"), view.exists("a"),
                                   view.list_keys())
        return placed, [*got, await view.compare_and_set("a", 1, 10)]

    placed, got = asyncio.run(main())

    assert (placed["scope"], placed["scope_id"]) == ("workflow", workflow)
    assert got == [1, 2, 2, "d", True, ["a", "b", "n"], True]
    assert view.get("a") == 10  # and outside the loop the blocking form is back


def test_on_change_runs_in_the_agent_process(api, memory_agent, redis_client):
    def events() -> list[dict]:
        return [json.loads(raw) for raw in redis_client.lrange("memory-events", 0, -1)]

    # The agent's listener connects in the background: wait until it sees a probe.
    deadline = time.monotonic() + 30
    while not any(e["key"] == "watch_probe" for e in events()):
        assert time.monotonic() < deadline, "memory-agent's on_change never fired"
        api.post("/api/v1/memory/set", json={"key": "watch_probe", "data": 0})
        time.sleep(0.5)
    redis_client.delete("memory-events")

    api.post("/api/v1/memory/set", json={"key": "watch_1", "data": {"v": 1}})
    api.post("/api/v1/memory/set", json={"key": "other_1", "data": {"v": 1}})
    api.post("/api/v1/memory/delete", json={"key": "watch_1"})

    deadline = time.monotonic() + 15
    while len([e for e in events() if e["key"] != "watch_probe"]) < 2:
        assert time.monotonic() < deadline, events()
        time.sleep(0.05)
    first, second = [e for e in events() if e["key"] != "watch_probe"]
    assert (first["key"], first["action"], first["data"], first["scope"]) == (
        "watch_1", "set", {"v": 1}, "global")
    assert (second["key"], second["action"], second["previous_data"]) == (
        "watch_1", "delete", {"v": 1})
    assert stream_order(first["id"]) < stream_order(second["id"])


def _wait_until_listening(api, got: queue.Queue, probe: str, body: dict | None = None,
                          headers: dict | None = None) -> None:
    """Write probe until a handler sees it: the stream is then surely subscribed."""
    deadline = time.monotonic() + 20
    while True:
        api.post("/api/v1/memory/set", json={"key": probe, "data": 0, **(body or {})},
                 headers=headers)
        try:
            while got.get(timeout=0.5)["key"] != probe:
                pass
            return
        except queue.Empty:
            assert time.monotonic() < deadline, "the listener never delivered"


def _drain(got: queue.Queue, count: int, skip: str, timeout: float = 15) -> list[dict]:
    found, deadline = [], time.monotonic() + timeout
    while len(found) < count:
        event = got.get(timeout=max(0.01, deadline - time.monotonic()))
        if event["key"] != skip:
            found.append(event)
    return found


def test_the_listener_resumes_after_a_reconnect_without_missing_events(api, make_memory):
    memory, got, prefix = make_memory(), queue.Queue(), fresh("rc")

    @memory.on_change(prefix + "*")
    def handler(event: dict) -> None:
        got.put(event)

    assert handler.__name__ == "handler"  # returned unchanged
    _wait_until_listening(api, got, prefix + "probe")
    listener = memory.listener
    assert listener.connections == 1

    memory._reconnect_now(pause=2.0)
    deadline = time.monotonic() + 5
    while listener.connected.is_set():
        assert time.monotonic() < deadline, "the stream was not dropped"
        time.sleep(0.01)
    for n in (1, 2):  # written while nobody listens
        api.post("/api/v1/memory/set", json={"key": f"{prefix}{n}", "data": n})
    assert listener.connected.wait(10)
    api.post("/api/v1/memory/set", json={"key": f"{prefix}3", "data": 3})

    events = _drain(got, 3, skip=prefix + "probe")
    assert [(e["key"], e["data"]) for e in events] == [(f"{prefix}{n}", n) for n in (1, 2, 3)]
    assert listener.connections == 2
    assert listener.last_event_id == events[-1]["id"]


def test_handlers_filter_fail_alone_and_may_be_async(api, make_memory):
    memory, got, session = make_memory(), queue.Queue(), fresh("sess")
    view = memory.session(session)

    @view.on_change("k*")
    def broken(event: dict) -> None:
        raise RuntimeError("handler bug")

    @view.on_change(["k*", "probe"])
    async def collect(event: dict) -> None:
        await asyncio.sleep(0)
        got.put(event)

    scoped = {"scope": "session"}
    headers = {"X-Session-ID": session}
    _wait_until_listening(api, got, "probe", scoped, headers)

    api.post("/api/v1/memory/set", json={"key": "k1", "data": 1})  # global: filtered out
    api.post("/api/v1/memory/set", json={"key": "k1", "data": 2, **scoped}, headers=headers)
    api.post("/api/v1/memory/set", json={"key": "x1", "data": 3, **scoped}, headers=headers)
    api.post("/api/v1/memory/set", json={"key": "k2", "data": 4, **scoped}, headers=headers)
    events = _drain(got, 2, skip="probe")
    assert [(e["key"], e["data"], e["scope_id"]) for e in events] == [
        ("k1", 2, session), ("k2", 4, session)]

    # A handler for other keys widens the server's filter; nothing is lost meanwhile.
    @memory.on_change("late_*")
    def late(event: dict) -> None:
        got.put(event)

    api.post("/api/v1/memory/set", json={"key": "late_1", "data": 5})
    assert _drain(got, 1, skip="probe")[0]["key"] == "late_1"
    memory.stop_listening()
    assert memory.listener is None


def test_vectors_rank_by_similarity(sdk):
    view = sdk.session(fresh("sess"))
    view.set_vector("near", [1.0, 0.0, 0.0], {"kind": "doc"})
    view.set_vector("mid", [0.8, 0.6, 0.0], {"kind": "doc"})
    view.set_vector("far", [0.0, 0.0, 1.0], {"kind": "note"})

    hits = view.similarity_search([1.0, 0.1, 0.0], top_k=3)

    assert [hit["key"] for hit in hits] == ["near", "mid", "far"]
    assert hits[0]["score"] > hits[1]["score"] > hits[2]["score"]
    assert hits[0]["metadata"] == {"kind": "doc"}
    assert (hits[0]["scope"], hits[0]["scope_id"]) == ("session", view.scope_id)
    assert [h["key"] for h in view.similarity_search([1.0, 0.1, 0.0], top_k=2)] == [
        "near", "mid"]
    assert [h["key"] for h in view.similarity_search([0.0, 1.0, 0.0],
                                                     filters={"kind": "doc"})] == ["mid", "near"]
    assert view.delete_vector("near") is None
    assert [h["key"] for h in view.similarity_search([1.0, 0.1, 0.0])] == ["mid", "far"]
    assert sdk.session(fresh("sess")).similarity_search([1.0, 0.0, 0.0]) == []


def test_the_listener_survives_a_control_plane_restart(stack, api):
    """A second control plane (same Redis) goes away and comes back: nothing is missed."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:application"]
    url = f"http://127.0.0.1:{port}"

    def start() -> None:
        stack.start("web-restart", argv, PORT=str(port), WEB_CONCURRENCY="1")
        stack.wait_until(lambda: requests.get(url + "/api/v1/health", timeout=2).ok,
                         what="the second control plane")

    start()
    memory = Agent("sdk-restart", agentfield_server=url, api_key=API_KEY).memory
    got, prefix = queue.Queue(), fresh("rs")
    try:
        memory.on_change(prefix + "*")(got.put)
        _wait_until_listening(api, got, prefix + "probe")
        stack.stop("web-restart")
        for n in (1, 2):  # through the first control plane, while the second is down
            api.post("/api/v1/memory/set", json={"key": f"{prefix}{n}", "data": n})
        start()
        api.post("/api/v1/memory/set", json={"key": f"{prefix}3", "data": 3})

        events = _drain(got, 3, skip=prefix + "probe", timeout=30)
        assert [e["key"] for e in events] == [f"{prefix}{n}" for n in (1, 2, 3)]
        assert memory.listener.connections == 2
    finally:
        memory.stop_listening()
        if "web-restart" in stack.processes:
            stack.stop("web-restart")
