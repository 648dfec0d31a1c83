"""Nobody forges an outcome, a run or a node on the live stack: agents run with keys of
their own, and an attacker holding a client key and another node's key fails at every
step (HTTP, the report stream, run placement, node takeover), with nothing changed.

The victim node is a real agent (tests/agents/keyed_agent.py) holding a ``node:<id>`` key;
its credentials, exported and checked offline, name only that key as the reporter.
"""

import base64
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from random import getrandbits

import orjson
import pytest
import redis
import requests

from tests.conftest import (
    API_KEY,
    NAMESPACE,
    REDIS_URL,
    ROOT,
    count_executions,
    signed,
)

STREAM, DEAD = f"{NAMESPACE}:reports", f"{NAMESPACE}:reports:dead"
TERMINAL = ("succeeded", "failed", "cancelled", "timeout")
# The victim's slow call: long enough for every forgery to be tried while it runs.
SLOW_SECONDS = 8


@dataclass(frozen=True)
class Key:
    """An API key the test created: its token and its id."""

    token: str
    id: str

    @property
    def reporter(self) -> str:
        return f"key:{self.id}"


@dataclass(frozen=True)
class Cast:
    """Who is who: the victim node and its client, the attacker's two keys."""

    victim: str  # node id
    victim_key: Key  # the key the victim agent runs with
    client: Key  # the victim's client: execute only
    attacker: str  # node id
    attacker_node_key: Key  # another node's key
    attacker_client: Key  # execute only


def _new_key(api, *scopes: str) -> Key:
    created = api.post("/api/v1/admin/keys", json={
        "name": f"forging-{uuid.uuid4().hex[:6]}", "scopes": list(scopes)})
    assert created.status_code == 201, created.text
    body = created.json()
    return Key(body["token"], body["id"])


def _node_key(api, node_id: str) -> Key:
    return _new_key(api, f"node:{node_id}", "execute", "memory:read", "memory:write")


def _call(stack, key: Key | str, method: str, path: str, **kwargs) -> requests.Response:
    token = key.token if isinstance(key, Key) else key
    headers = {"X-API-Key": token, **kwargs.pop("headers", {})}
    return requests.request(method, stack.url + path, headers=headers, timeout=60, **kwargs)


def _error(response: requests.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error")


def _subject(vc_jwt: str) -> dict:
    payload = vc_jwt.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
        "vc"]["credentialSubject"]


def _credential(stack, key: Key, execution_id: str) -> dict:
    return stack.wait_until(
        lambda: (r := _call(stack, key, "GET",
                            f"/api/v1/executions/{execution_id}/credential")).ok and r.json(),
        what=f"the credential of {execution_id}", timeout=15)


def _reports(api) -> dict:
    return api.get("/api/v1/health").json()["reports"]


@pytest.fixture(scope="module")
def cast(api, stack) -> Iterator[Cast]:
    """Start the victim agent with its own node key; register the attacker's node."""
    suffix = uuid.uuid4().hex[:6]
    victim, attacker = f"victim-{suffix}", f"attacker-{suffix}"
    cast = Cast(victim, _node_key(api, victim), _new_key(api, "execute"),
                attacker, _node_key(api, attacker), _new_key(api, "execute"))
    name = f"keyed-{victim}"
    stack.start_agent(name, "tests/agents/keyed_agent.py", KEYED_NODE_ID=victim,
                      KEYED_MAX_QUEUED="50", AGENTFIELD_API_KEY=cast.victim_key.token)
    # The attacker's key is a real node key: it registers its own node.
    own = _call(stack, cast.attacker_node_key, "POST", "/api/v1/nodes/register",
                json={"id": attacker, "reasoners": [{"id": "work"}]})
    assert own.status_code == 201, own.text
    try:
        stack.wait_until(lambda: api.get(f"/api/v1/nodes/{victim}").json().get(
            "health_status") == "active", what=f"{victim} to register", timeout=30)
        yield cast
    finally:
        stack.stop(name)


@contextmanager
def stream_appends():
    """Record every XADD to the report stream while open, as Redis saw it (MONITOR).

    Yields a list of (execution_id, report bytes, key id, signature), filled as entries
    arrive.
    """
    seen: list[tuple[str, bytes, str, str]] = []
    pattern = re.compile(rf"XADD {re.escape(STREAM)} \* execution_id (\S+) report (.*) "
                         r"key (\S+) sig ([0-9a-f]{64})", re.IGNORECASE)
    client = redis.Redis.from_url(REDIS_URL)
    ready, stop = threading.Event(), threading.Event()

    def watch():
        with client.monitor() as monitor:
            ready.set()
            while not stop.is_set():
                found = pattern.fullmatch(monitor.next_command()["command"])
                if found:
                    execution_id, report, key_id, sig = found.groups()
                    seen.append((execution_id, report.encode(), key_id, sig))

    thread = threading.Thread(target=watch, name="stream-monitor", daemon=True)
    thread.start()
    assert ready.wait(10), "MONITOR did not start"
    try:
        yield seen
    finally:
        stop.set()
        client.ping()  # any command wakes the watcher, which then sees stop
        thread.join(10)
        client.close()


# -- 1. an agent with a key of its own ---------------------------------------------------

def test_a_node_with_its_own_key_runs_and_signs_what_it_reports(cast, stack):
    from app.auth.tokens import report_signature, report_signing_key

    # Given the victim agent registered with its node key (the fixture), when its
    # client, whose key may only execute, calls it synchronously
    with stream_appends() as appended:
        answer = _call(stack, cast.client, "POST", f"/api/v1/execute/{cast.victim}.work",
                       json={"input": {"text": "hello"}})
        assert answer.status_code == 200, answer.text
        execution_id = answer.json()["execution_id"]
        stack.wait_until(lambda: any(e[0] == execution_id for e in appended),
                         what="the agent's stream entry", timeout=10)

    # Then the agent's own run answered
    body = answer.json()
    assert (body["status"], body["result"]) == (
        "succeeded", {"text": "hello", "node": cast.victim, "execution_id": execution_id})
    # and its outcome came over the report stream, signed with the node's key
    entries = [e for e in appended if e[0] == execution_id]
    assert len(entries) == 1, entries
    _, report, key_id, sig = entries[0]
    assert key_id == cast.victim_key.id
    assert sig == report_signature(report_signing_key(cast.victim_key.token), execution_id,
                                   report)
    assert orjson.loads(report)["result"] == body["result"]
    # and its credential names the node's key as reporter and the client's as asker
    credential = _credential(stack, cast.client, execution_id)
    subject = _subject(credential["vc_jwt"])
    assert (subject["execution_id"], subject["status"]) == (execution_id, "succeeded")
    assert subject["reported_by"] == cast.victim_key.reporter
    assert subject["requested_by"] == cast.client.reporter


# -- 2. the forging scenario ---------------------------------------------------------------

def _wait_status(stack, key: Key, execution_id: str, wanted, timeout: float = 30) -> dict:
    return stack.wait_until(
        lambda: (row := _call(stack, key, "GET", f"/api/v1/executions/{execution_id}")
                 .json())["status"] in wanted and row,
        what=f"{execution_id} to be {wanted}", timeout=timeout)


def _dead_entries(redis_client, execution_id: str) -> list[dict]:
    return [{k.decode(): v.decode(errors="replace") for k, v in fields.items()}
            for _id, fields in redis_client.xrange(DEAD)
            if fields.get(b"execution_id") == execution_id.encode()]


def test_an_attacker_forges_nothing_at_any_step(cast, api, stack, redis_client, tmp_path):
    # Given an old key of the victim node, revoked (never used, so cached nowhere)
    revoked = _new_key(api, f"node:{cast.victim}")
    assert api.delete(f"/api/v1/admin/keys/{revoked.id}").json()["active"] is False
    # and the victim running a slow execution for its client
    # (its first step, an inline child on its own node, done; then it sleeps)
    accepted = _call(stack, cast.client, "POST", f"/api/v1/execute/async/{cast.victim}.slow",
                     json={"input": {"text": "real", "seconds": SLOW_SECONDS}})
    assert accepted.status_code == 202, accepted.text
    execution_id, run_id = accepted.json()["execution_id"], accepted.json()["run_id"]
    _wait_status(stack, cast.client, execution_id, ("running",), timeout=15)
    child = stack.wait_until(lambda: [e for e in api.get(
        "/api/v1/executions", params={"run_id": run_id}).json()["executions"]
        if e["execution_id"] != execution_id and e["status"] == "succeeded"],
        what="the inline child", timeout=15)[0]
    assert (child["parent_execution_id"], child["result"]["text"]) == (execution_id, "real")
    started = time.monotonic()
    reports_before, executions_before = _reports(api), count_executions()
    forged = {"status": "succeeded", "result": {"text": "forged", "node": cast.victim,
                                                "execution_id": execution_id}}
    attacker_keys = (cast.attacker_client, cast.attacker_node_key)

    # When the attacker records a running execution of its own making (inline)
    inline = {"input": {"text": "inline"}, "dispatch": "inline"}
    for key, target, headers, refusal in [
        (cast.attacker_client, cast.victim, {}, (400, "invalid_header")),
        (cast.attacker_node_key, cast.attacker, {}, (400, "invalid_header")),
        (cast.attacker_client, cast.victim, {"X-Parent-Execution-ID": execution_id},
         (403, "insufficient_scope")),
        (cast.attacker_node_key, cast.victim, {"X-Parent-Execution-ID": execution_id},
         (403, "insufficient_scope")),
        (cast.attacker_node_key, cast.attacker, {"X-Parent-Execution-ID": execution_id},
         (403, "insufficient_scope")),
    ]:
        response = _call(stack, key, "POST", f"/api/v1/execute/async/{target}.work",
                         json=inline, headers=headers)
        # Then it is refused
        assert _error(response) == refusal, (key.id, target, headers)

    # When it finishes the victim's running execution over HTTP with a forged result
    status_path = f"/api/v1/executions/{execution_id}/status"
    for key, refusal in [(cast.attacker_node_key, (403, "insufficient_scope")),
                         (cast.attacker_client, (403, "insufficient_scope")),
                         (revoked, (401, "api_key_revoked"))]:
        # Then it is refused
        assert _error(_call(stack, key, "POST", status_path, json=forged)) == refusal, key.id
    # nor may it end the execution or its run by cancelling them
    for key in attacker_keys:
        for path in (f"/api/v1/executions/{execution_id}/cancel",
                     f"/api/v1/runs/{run_id}/cancel"):
            assert _error(_call(stack, key, "POST", path)) == (
                403, "insufficient_scope"), (key.id, path)

    # When it places executions in the victim's run, as a root or as a child
    for key in attacker_keys:
        for headers in ({"X-Run-ID": run_id}, {"X-Parent-Execution-ID": execution_id}):
            for mode in ("async/", ""):
                response = _call(stack, key, "POST",
                                 f"/api/v1/execute/{mode}{cast.victim}.work",
                                 json={"input": {"text": "intruder"}}, headers=headers)
                # Then it is refused
                assert _error(response) == (403, "insufficient_scope"), (key.id, headers)
    assert count_executions() == executions_before
    in_run = api.get("/api/v1/executions", params={"run_id": run_id}).json()["executions"]
    assert {e["execution_id"] for e in in_run} == {execution_id, child["execution_id"]}

    # When it appends forged outcomes to the report stream
    report = orjson.dumps(forged)
    entry = {"execution_id": execution_id, "report": report}
    # (a real signature of the victim's key, over another report: what anyone who
    # reads the stream sees, copied onto the forged one)
    seen = signed({**entry, "report": orjson.dumps({"status": "running"})},
                  api_key=cast.victim_key.token)
    attempts = {
        "unsigned": entry,
        "signed by another node's key": signed(entry, api_key=cast.attacker_node_key.token),
        "signed by a client key": signed(entry, api_key=cast.attacker_client.token),
        "signed by the victim's revoked key": signed(entry, api_key=revoked.token),
        "signed by a key never issued": signed(entry, api_key="afk_nosuchkey000_secret"),
        "signed wrongly": {**seen, "report": report},
    }
    for fields in attempts.values():
        redis_client.xadd(STREAM, fields)

    # Then each is set aside as forged, and counted
    dead = stack.wait_until(
        lambda: len(d := _dead_entries(redis_client, execution_id)) >= len(attempts) and d,
        what="the forged entries to be set aside", timeout=15)
    assert len(dead) == len(attempts)
    assert all(d["reason"].startswith("forged_report") for d in dead), dead
    assert all(orjson.loads(d["report"]) == forged for d in dead)
    reasons = " | ".join(d["reason"] for d in dead)
    for why in ("is not signed", "belongs to another node", "only an agent node's key",
                "was revoked", "names no key we know", "signature does not match"):
        assert why in reasons, (why, reasons)
    reports = _reports(api)
    # every stream entry, and the HTTP report by another node's key
    assert reports["refused"] == reports_before["refused"] + len(attempts) + 1
    assert reports["dead_letters"] == reports_before["dead_letters"] + len(attempts)
    # and none of it touched the execution, which the victim is still running
    assert time.monotonic() - started < SLOW_SECONDS - 1, "too slow to prove anything"
    row = _call(stack, cast.client, "GET", f"/api/v1/executions/{execution_id}").json()
    assert (row["status"], row["result"]) == ("running", None)

    # And the execution ends with the victim's real result
    done = _wait_status(stack, cast.client, execution_id, TERMINAL)
    assert (done["status"], done["result"]) == (
        "succeeded", {"text": "real", "node": cast.victim, "execution_id": execution_id,
                      "child": child["execution_id"]})

    # And the run's audit file verifies offline, naming only the victim's key as reporter
    _credential(stack, cast.client, execution_id)
    export = _call(stack, cast.client, "GET", f"/api/v1/did/export/{run_id}")
    assert export.status_code == 200, export.text
    for key in attacker_keys:  # which the attacker may not even read
        assert _error(_call(stack, key, "GET", f"/api/v1/did/export/{run_id}")) == (
            403, "insufficient_scope"), key.id
    bundle_file = tmp_path / "audit.json"
    bundle_file.write_bytes(export.content)
    root_did = api.get("/api/v1/did/root").json()["did"]
    verified = subprocess.run(
        [sys.executable, "-m", "identity", "verify", str(bundle_file), "--root-did",
         root_did], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "RESULT: VERIFIED" in verified.stdout
    assert "PASS  chain links" in verified.stdout
    subjects = {s["execution_id"]: s for s in map(_subject, export.json()["credentials"])}
    assert subjects.keys() == {execution_id, child["execution_id"]}
    assert {s["reported_by"] for s in subjects.values()} == {cast.victim_key.reporter}
    assert {s["status"] for s in subjects.values()} == {"succeeded"}
    # (the client asked for the root; the victim node, running it, for its child)
    assert subjects[execution_id]["requested_by"] == cast.client.reporter
    assert subjects[child["execution_id"]]["requested_by"] == cast.victim_key.reporter


# -- 3. node takeover ------------------------------------------------------------------------

def test_another_nodes_key_cannot_take_the_victim_node_over(cast, api, stack):
    before = api.get(f"/api/v1/nodes/{cast.victim}").json()
    assert before["limits"] == {"max_queued": 50}

    # When another node's key re-registers, heartbeats and shuts down the victim node
    takeover = _call(stack, cast.attacker_node_key, "POST", "/api/v1/nodes/register", json={
        "id": cast.victim, "reasoners": [{"id": "steal"}], "limits": {"max_queued": 1}})
    heartbeat = _call(stack, cast.attacker_node_key, "POST",
                      f"/api/v1/nodes/{cast.victim}/heartbeat",
                      json={"status": "active"})
    shutdown = _call(stack, cast.attacker_node_key, "POST",
                     f"/api/v1/nodes/{cast.victim}/shutdown")
    # Then a victim call right after still answers
    call = _call(stack, cast.client, "POST", f"/api/v1/execute/{cast.victim}.work",
                 json={"input": {"text": "still mine"}})

    # and each attempt was refused
    for response in (takeover, heartbeat, shutdown):
        assert _error(response) == (403, "insufficient_scope"), response.request.url
    assert call.status_code == 200, call.text
    assert call.json()["result"]["node"] == cast.victim
    # and a client key, with no node scope at all, is refused as well
    for action in ("heartbeat", "shutdown"):
        response = _call(stack, cast.attacker_client, "POST",
                         f"/api/v1/nodes/{cast.victim}/{action}")
        assert _error(response) == (403, "insufficient_scope"), action
    # and the node is as its own agent registered it
    after = api.get(f"/api/v1/nodes/{cast.victim}").json()
    assert [r["id"] for r in after["reasoners"]] == [r["id"] for r in before["reasoners"]]
    assert {r["id"] for r in after["reasoners"]} == {"work", "slow"}
    assert after["limits"] == {"max_queued": 50}
    assert (after["health_status"], after["lifecycle_status"]) == (
        before["health_status"], before["lifecycle_status"])
    assert after["health_status"] == "active"


# -- 4. memory events filtered by scope ------------------------------------------------------

def _sse_events(url: str, into: list, connected: threading.Event, stop: threading.Event):
    with requests.get(url, stream=True, timeout=30) as response:
        into.append(("status", response.status_code))
        event: dict = {}
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line == ": connected":
                connected.set()
            elif line.startswith("data: "):
                event = json.loads(line[6:])
            elif line == "" and event:
                into.append(("event", event))
                event = {}


def test_memory_events_reach_only_keys_that_may_read_them(api, stack):
    reader = _new_key(api, "memory:read:session:s1")
    received: list = []
    connected, stop = threading.Event(), threading.Event()
    url = f"{stack.url}/api/v1/memory/events/sse?api_key={reader.token}"
    threading.Thread(target=_sse_events, args=(url, received, connected, stop),
                     daemon=True).start()
    assert connected.wait(10), received
    tag = uuid.uuid4().hex[:6]

    # When an admin writes to session s1, session s2 and global, then s1 again
    for key, headers, scope in [(f"first-{tag}", {"X-Session-ID": "s1"}, "session"),
                                (f"other-{tag}", {"X-Session-ID": "s2"}, "session"),
                                (f"shared-{tag}", {}, "global"),
                                (f"last-{tag}", {"X-Session-ID": "s1"}, "session")]:
        written = api.post("/api/v1/memory/set", headers=headers,
                           json={"key": key, "data": 1, "scope": scope})
        assert written.status_code == 200, written.text

    # Then the s1 reader sees s1's changes, in order, and nothing else
    try:
        stack.wait_until(lambda: any(kind == "event" and e["key"] == f"last-{tag}"
                                     for kind, e in received), what="the last s1 event",
                         timeout=15)
    finally:
        stop.set()
    events = [e for kind, e in received if kind == "event"]
    assert received[0] == ("status", 200)
    assert [e["key"] for e in events if e["key"].endswith(tag)] == [f"first-{tag}",
                                                                    f"last-{tag}"]
    assert {(e["scope"], e["scope_id"]) for e in events} == {("session", "s1")}
    # and a key without a memory scope may not open the stream at all
    no_memory = _new_key(api, "execute")
    refused = requests.get(f"{stack.url}/api/v1/memory/events/sse",
                           params={"api_key": no_memory.token}, timeout=10)
    assert _error(refused) == (403, "insufficient_scope")


def test_a_stream_ends_when_its_key_is_revoked(api, stack):
    reader = _new_key(api, "memory:read")
    received: list = []
    connected, stop = threading.Event(), threading.Event()
    url = f"{stack.url}/api/v1/memory/events/sse?api_key={reader.token}"
    listener = threading.Thread(target=_sse_events, args=(url, received, connected, stop),
                                daemon=True)
    listener.start()
    assert connected.wait(10), received

    revoked_at = time.monotonic()
    assert api.delete(f"/api/v1/admin/keys/{reader.id}").json()["active"] is False

    # Then the server closes the stream within one read (5 s) and the key cache (2 s)
    listener.join(timeout=15)
    assert not listener.is_alive(), "the stream outlived its key"
    assert time.monotonic() - revoked_at < 10
    stop.set()


# -- 5. a client as AgentField's SDK writes it ----------------------------------------------

def _agentfield_run_id() -> str:
    """A run id as AgentField's client makes one (``run_<UTC time>_<8 hex>``)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    return f"run_{stamp}_{getrandbits(32):08x}"


def _agentfield_execute(base_url: str, api_key: str, target: str, data: dict) -> dict:
    """Submit and poll exactly as AgentField's ``execute_sync`` does (plain requests)."""
    headers = {"Content-Type": "application/json", "X-API-Key": api_key,
               "X-Run-ID": _agentfield_run_id()}
    submitted = requests.post(f"{base_url}/api/v1/execute/async/{target}",
                              json={"input": data}, headers=headers, timeout=30)
    submitted.raise_for_status()
    execution_id = submitted.json()["execution_id"]
    assert submitted.json()["run_id"] == headers["X-Run-ID"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        polled = requests.get(f"{base_url}/api/v1/executions/{execution_id}",
                              headers=headers, timeout=30)
        polled.raise_for_status()
        if polled.json()["status"] in TERMINAL:
            return {**polled.json(), "sent_run_id": headers["X-Run-ID"]}
        time.sleep(0.25)
    raise AssertionError(f"{execution_id} did not finish")


@pytest.mark.parametrize("which", ["AGENTFIELD_API_KEY", "scoped execute key"])
def test_an_agentfield_client_runs_with_either_kind_of_key(api, stack, which):
    key = API_KEY if which == "AGENTFIELD_API_KEY" else _new_key(api, "execute").token

    done = _agentfield_execute(stack.url, key, "echo-agent.echo", {"text": "from af"})

    assert done["status"] == "succeeded", done
    assert done["run_id"] == done["sent_run_id"] == done["result"]["run_id"]
    assert done["result"]["text"] == "from af"


def test_an_agentfield_client_with_a_wrong_key_gets_401(stack):
    with pytest.raises(requests.HTTPError) as refused:
        _agentfield_execute(stack.url, "not-the-key", "echo-agent.echo", {"text": "x"})

    assert _error(refused.value.response) == (401, "invalid_api_key")
