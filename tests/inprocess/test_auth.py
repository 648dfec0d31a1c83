"""Authentication and scopes, in process against real PostgreSQL and Redis: who may run,
read, report, note, register and use memory, and what a refused request leaves behind."""

import base64
import io
import logging
import uuid
from datetime import timedelta

import orjson
import pytest

from app.auth.keys import forget_cached
from app.executions import store
from app.executions.lifecycle import Reporter
from tests.conftest import API_KEY, count_executions


@pytest.fixture
def new_key(client):
    """Create a key through the admin endpoint; return its token."""

    def make(*scopes: str, **options) -> str:
        response = client.post("/api/v1/admin/keys", json={
            "name": f"test-{uuid.uuid4().hex[:6]}", "scopes": list(scopes), **options})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    return make


def _as(token: str) -> dict:
    return {"X-API-Key": token}


def _execute(client, token, target, headers=None, **body):
    return client.post(f"/api/v1/execute/async/{target}",
                       json={"input": {"n": 1}, **body},
                       headers={**_as(token), **(headers or {})})


def _error(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["error"]


# -- who is calling ---------------------------------------------------------------------

def test_no_key_is_401_and_health_stays_open(anonymous_client):
    assert _error(anonymous_client.get("/api/v1/nodes")) == (401, "authentication_required")
    assert anonymous_client.get("/api/v1/health").status_code == 200
    assert anonymous_client.get("/openapi.json").status_code == 200


def test_the_key_travels_as_agentfield_clients_send_it(anonymous_client):
    assert anonymous_client.get("/api/v1/nodes", headers={"X-API-Key": API_KEY}).status_code == 200
    assert anonymous_client.get("/api/v1/nodes",
                                headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
    assert anonymous_client.get(f"/api/v1/nodes?api_key={API_KEY}").status_code == 200
    # A query-string key only on GET (streams): a POST must send it as a header.
    assert _error(anonymous_client.post(f"/api/v1/executions/batch-status?api_key={API_KEY}",
                                        json={"execution_ids": ["x"]})) == (
        401, "authentication_required")


@pytest.mark.parametrize("token", ["wrong", "afk_nosuchkey00_secret", API_KEY + "x",
                                   "afk_" + "a" * 40 + "_x", "k" * 600, "caf\u00e9"])
def test_a_key_we_did_not_issue_is_401(anonymous_client, token):
    response = anonymous_client.get("/api/v1/nodes", headers={"X-API-Key": token})
    assert _error(response) == (401, "invalid_api_key")


def test_a_scoped_key_whose_secret_is_wrong_is_401(anonymous_client, new_key):
    token = new_key("execute")
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert anonymous_client.get("/api/v1/nodes", headers=_as(token)).status_code == 200
    assert _error(anonymous_client.get("/api/v1/nodes", headers=_as(forged))) == (
        401, "invalid_api_key")


def test_a_revoked_key_stops_working_at_once(client, anonymous_client, new_key):
    token = new_key("execute")
    key_id = token.split("_")[1]
    assert anonymous_client.get("/api/v1/nodes", headers=_as(token)).status_code == 200

    revoked = client.delete(f"/api/v1/admin/keys/{key_id}")

    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert _error(anonymous_client.get("/api/v1/nodes", headers=_as(token))) == (
        401, "api_key_revoked")


def test_an_expired_key_is_401(ctx, anonymous_client):
    from app.auth.keys import create_key
    from app.models.types import utcnow

    _, token = create_key("short-lived", ["execute"],
                          expires_at=utcnow() - timedelta(seconds=1))
    assert _error(anonymous_client.get("/api/v1/nodes", headers=_as(token))) == (
        401, "api_key_expired")


# -- keys ---------------------------------------------------------------------------------

def test_a_key_is_shown_once_and_stored_only_as_a_hash(client, ctx):
    created = client.post("/api/v1/admin/keys", json={
        "name": "ci", "scopes": ["execute:echo-agent", "memory:read:session:s1"],
        "expires_in_seconds": 3600, "rate_limit": 5})
    body = created.get_json()
    listed = client.get("/api/v1/admin/keys").get_json()["keys"]

    assert created.status_code == 201 and body["token"].startswith(body["prefix"] + "_")
    shown = next(key for key in listed if key["id"] == body["id"])
    assert "token" not in shown and body["token"] not in orjson.dumps(listed).decode()
    assert shown == {k: v for k, v in body.items() if k != "token"}
    assert (shown["active"], shown["rate_limit"], shown["created_by"]) == (True, 5, "key:env")
    with ctx.extensions["autocommit_engine"].connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_keys WHERE id = %s",
                                      (body["id"],)).scalar_one()
    assert body["token"] not in stored and len(stored) == 64


@pytest.mark.parametrize("scopes", [[], ["root"], ["execute:a:b"], ["memory:read:planet"],
                                    ["node:a", "node:b"], ["executions:read:team:x"],
                                    "admin", [5], ["memory::x"]])
def test_an_unknown_scope_is_refused(client, scopes):
    response = client.post("/api/v1/admin/keys", json={"name": "x", "scopes": scopes})
    assert (_error(response), response.get_json()["details"]["field"]) == (
        (400, "invalid_field"), "scopes")


def test_only_admin_keys_manage_keys_and_admin_actions_are_logged(client, new_key,
                                                                  monkeypatch):
    token = new_key("execute", "executions:read", "memory:write", "node:x")
    assert _error(client.get("/api/v1/admin/keys", headers=_as(token))) == (
        403, "insufficient_scope")
    # Read the audit logger directly: a Celery worker started by an earlier test may
    # have reconfigured the root logger that caplog listens on.
    logger, written = logging.getLogger("agentfield.audit"), io.StringIO()
    handler = logging.StreamHandler(written)
    monkeypatch.setattr(logger, "disabled", False)
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        admin = new_key("admin")
        assert client.get("/api/v1/admin/keys", headers=_as(admin)).status_code == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    admin_id = admin.split("_")[1]
    assert f"api key {admin_id} (" in written.getvalue()  # its creation, by key env
    assert f"GET /api/v1/admin/keys by key {admin_id}" in written.getvalue()


def test_the_flask_command_creates_lists_and_revokes_keys(ctx, anonymous_client):
    runner = ctx.test_cli_runner()

    created = runner.invoke(args=["keys", "create", "--name", "cli", "--scope", "execute",
                                  "--token-only"])
    token = created.output.strip()
    listed = runner.invoke(args=["keys", "list"])
    revoked = runner.invoke(args=["keys", "revoke", token.split("_")[1]])

    assert created.exit_code == 0 and token.startswith("afk_")
    assert token.split("_")[1] in listed.output and token not in listed.output
    assert revoked.exit_code == 0
    forget_cached()
    assert _error(anonymous_client.get("/api/v1/nodes", headers=_as(token)))[0] == 401
    bad = runner.invoke(args=["keys", "create", "--name", "x", "--scope", "nope"])
    assert bad.exit_code != 0 and "unknown scope" in bad.output


def test_a_rate_limited_key_gets_429_with_retry_after(client, new_key):
    token = new_key("execute", rate_limit=0.5, rate_burst=2)

    answers = [client.get("/api/v1/nodes", headers=_as(token)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].get_json()["error"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) in (1, 2)
    assert client.get("/api/v1/nodes").status_code == 200  # other keys are not limited


# -- running and reading executions -------------------------------------------------------

def test_an_execute_scope_names_the_nodes_a_key_may_run(client, register, new_key):
    mine, other = register(), register()
    token = new_key(f"execute:{mine}")

    assert _execute(client, token, f"{mine}.plan").status_code == 202
    assert _error(_execute(client, token, f"{other}.plan")) == (403, "insufficient_scope")
    assert _error(client.post(f"/api/v1/execute/async/{mine}.plan", json={"input": {"n": 1}},
                              headers=_as(new_key("memory:read")))) == (
        403, "insufficient_scope")


def test_a_key_reads_only_its_own_executions(client, register, new_key):
    node = register()
    alice, bob = new_key("execute"), new_key("execute")
    reader, session_reader = new_key("executions:read"), new_key("executions:read:session:s1")
    mine = _execute(client, alice, f"{node}.plan", {"X-Session-ID": "s1"}).get_json()
    theirs = _execute(client, bob, f"{node}.plan").get_json()

    def visible(token):
        listed = client.get(f"/api/v1/executions?node={node}", headers=_as(token)).get_json()
        return {e["execution_id"] for e in listed["executions"]}

    assert visible(alice) == {mine["execution_id"]}
    assert visible(bob) == {theirs["execution_id"]}
    assert visible(reader) == {mine["execution_id"], theirs["execution_id"]}
    assert visible(session_reader) == {mine["execution_id"]}
    assert _error(client.get(f"/api/v1/executions/{theirs['execution_id']}",
                             headers=_as(alice))) == (403, "insufficient_scope")
    batch = client.post("/api/v1/executions/batch-status", headers=_as(alice), json={
        "execution_ids": [mine["execution_id"], theirs["execution_id"]]}).get_json()
    assert batch[theirs["execution_id"]] == {"execution_id": theirs["execution_id"],
                                             "status": "not_found"}
    assert batch[mine["execution_id"]]["status"] == "queued"
    for path in ("notes", "credential"):
        response = client.get(f"/api/v1/executions/{theirs['execution_id']}/{path}",
                              headers=_as(alice))
        assert _error(response) == (403, "insufficient_scope"), path


def test_only_the_owner_or_an_admin_cancels(client, register, new_key):
    node = register()
    alice = new_key("execute")
    execution_id = _execute(client, alice, f"{node}.plan").get_json()["execution_id"]

    for other in (new_key("execute"), new_key("executions:read")):
        response = client.post(f"/api/v1/executions/{execution_id}/cancel", headers=_as(other))
        assert _error(response) == (403, "insufficient_scope")
        assert store.fetch_execution(execution_id)["status"] == "queued"
    run_id = store.fetch_execution(execution_id)["run_id"]
    assert _error(client.post(f"/api/v1/runs/{run_id}/cancel",
                              headers=_as(new_key("execute")))) == (403, "insufficient_scope")

    cancelled = client.post(f"/api/v1/executions/{execution_id}/cancel", headers=_as(alice))
    assert cancelled.get_json()["status"] == "cancelled"
    alice_id = alice.split("_")[1]
    assert store.fetch_execution(execution_id)["reported_by"] == f"key:{alice_id}"


def test_a_key_cannot_place_an_execution_in_another_keys_run(client, register, new_key):
    node = register()
    alice, bob = new_key("execute"), new_key("execute")
    victim = _execute(client, alice, f"{node}.plan").get_json()
    before = count_executions()

    into_run = _execute(client, bob, f"{node}.plan", {"X-Run-ID": victim["run_id"]})
    as_child = _execute(client, bob, f"{node}.plan",
                        {"X-Parent-Execution-ID": victim["execution_id"]})

    assert _error(into_run) == (403, "insufficient_scope")
    assert _error(as_child) == (403, "insufficient_scope")
    assert count_executions() == before
    # Its owner may add to its own run, and a new run id is anyone's.
    own = _execute(client, alice, f"{node}.plan", {"X-Run-ID": victim["run_id"]})
    assert own.status_code == 202
    assert _execute(client, bob, f"{node}.plan",
                    {"X-Run-ID": f"run_{uuid.uuid4().hex}"}).status_code == 202


def test_an_idempotency_key_of_another_key_replays_nothing(client, register, new_key):
    node = register()
    headers = {"Idempotency-Key": f"shared-{uuid.uuid4().hex}"}
    first = _execute(client, new_key("execute"), f"{node}.plan", headers)

    second = _execute(client, new_key("execute"), f"{node}.plan", headers)

    assert first.status_code == 202
    assert _error(second) == (409, "idempotency_key_reused")
    assert "result" not in second.get_json()


# -- agents act only as themselves -------------------------------------------------------

def test_a_node_key_registers_heartbeats_and_stops_only_its_node(client, register, new_key):
    victim = register()
    attacker = f"inproc-{uuid.uuid4().hex[:10]}"
    token = new_key(f"node:{attacker}")
    body = {"id": victim, "reasoners": [{"id": "plan"}], "limits": {"max_queued": 1}}

    assert _error(client.post("/api/v1/nodes/register", json=body, headers=_as(token))) == (
        403, "insufficient_scope")
    for action in ("heartbeat", "shutdown"):
        response = client.post(f"/api/v1/nodes/{victim}/{action}", headers=_as(token))
        assert _error(response) == (403, "insufficient_scope"), action
    node = client.get(f"/api/v1/nodes/{victim}").get_json()
    assert node["limits"] == {} and node["health_status"] == "active"
    assert client.post("/api/v1/nodes/register", headers=_as(token),
                       json={"id": attacker, "reasoners": [{"id": "plan"}]}).status_code == 201


def test_the_registration_answer_carries_no_broker_password():
    from app.api.nodes import without_credentials

    assert without_credentials("redis://:s3cret@10.0.0.5:6380/2") == "redis://10.0.0.5:6380/2"
    assert without_credentials("rediss://user:pw@cache.example:6379/0?ssl_cert_reqs=none") == (
        "rediss://cache.example:6379/0?ssl_cert_reqs=none")
    assert without_credentials("redis://[::1]:6379/0") == "redis://[::1]:6379/0"
    assert without_credentials("redis://u:p@[::1]/0") == "redis://[::1]/0"


def test_a_node_reports_only_its_own_executions(client, register, make_execution, new_key):
    victim, attacker = register(), register()
    execution = make_execution(victim)
    token = new_key(f"node:{attacker}")
    refused_before = client.get("/api/v1/health").get_json()["reports"]["refused"]
    path = f"/api/v1/executions/{execution['execution_id']}/status"

    for report in ({"status": "succeeded", "result": {"forged": True}},
                   {"status": "running"}, {"status": "queued"}):
        assert _error(client.post(path, json=report, headers=_as(token))) == (
            403, "insufficient_scope"), report

    row = store.fetch_execution(execution["execution_id"])
    assert (row["status"], row["result_payload"], row["reported_by"]) == ("queued", None, None)
    refused = client.get("/api/v1/health").get_json()["reports"]["refused"]
    assert refused == refused_before + 3
    own = new_key(f"node:{victim}")
    answer = client.post(path, json={"status": "succeeded", "result": 7}, headers=_as(own))
    assert answer.get_json()["status"] == "succeeded"
    assert store.fetch_execution(execution["execution_id"])["reported_by"] == (
        f"key:{own.split('_')[1]}")


def test_only_the_running_node_notes_on_its_execution(client, register, make_execution,
                                                      new_key):
    node = register()
    execution_id = make_execution(node)["execution_id"]

    def note(token):
        return client.post("/api/v1/executions/note", json={"message": "hi"},
                           headers={**_as(token), "X-Execution-ID": execution_id})

    assert _error(note(new_key(f"node:{register()}"))) == (403, "insufficient_scope")
    assert _error(note(new_key("execute"))) == (403, "insufficient_scope")
    assert note(new_key(f"node:{node}")).status_code == 200


def test_inline_runs_only_as_a_child_on_the_parents_own_node(client, register, make_execution,
                                                             new_key):
    node, other = register(), register()
    node_key = new_key(f"node:{node}", "execute")
    parent = make_execution(node)
    foreign_parent = make_execution(other)
    finished = make_execution(node, status="succeeded")
    inline = {"dispatch": "inline"}

    def submit(token, parent_id=None, target=node):
        headers = {"X-Parent-Execution-ID": parent_id} if parent_id else {}
        return _execute(client, token, f"{target}.plan", headers, **inline)

    assert _error(submit(new_key("execute"), parent["execution_id"])) == (
        403, "insufficient_scope")
    assert _error(submit(node_key)) == (400, "invalid_header")
    assert _error(submit(node_key, foreign_parent["execution_id"])) == (
        403, "insufficient_scope")
    assert _error(submit(new_key(f"node:{other}", "execute"), foreign_parent["execution_id"])) \
        == (403, "insufficient_scope")
    assert _error(submit(node_key, finished["execution_id"])) == (409, "parent_finished")
    child = submit(node_key, parent["execution_id"]).get_json()
    row = store.fetch_execution(child["execution_id"])
    assert (row["status"], row["run_id"], row["parent_execution_id"]) == (
        "running", parent["run_id"], parent["execution_id"])


# -- memory -------------------------------------------------------------------------------

def test_session_keys_neither_read_nor_write_nor_watch_each_others_memory(client, new_key):
    s1 = new_key("memory:read:session:s1", "memory:write:session:s1")
    s2 = new_key("memory:read:session:s2", "memory:write:session:s2")
    in_s1, in_s2 = {"X-Session-ID": "s1"}, {"X-Session-ID": "s2"}
    key = f"k-{uuid.uuid4().hex[:6]}"

    def call(method, path, token, headers, **body):
        return getattr(client, method)(path, json=body or None,
                                       headers={**_as(token), **headers})

    assert call("post", "/api/v1/memory/set", s1, in_s1, key=key, data="one").status_code == 200
    assert call("post", "/api/v1/memory/set", s2, in_s2, key=key, data="two").status_code == 200
    assert call("post", "/api/v1/memory/get", s1, in_s1, key=key).get_json()["data"] == "one"
    for method, path, body in [("post", "/api/v1/memory/get", {"key": key}),
                               ("post", "/api/v1/memory/set", {"key": key, "data": "x"}),
                               ("post", "/api/v1/memory/delete", {"key": key}),
                               ("post", "/api/v1/memory/increment", {"key": "n"}),
                               ("get", "/api/v1/memory/list", {})]:
        response = call(method, path, s1, in_s2, **body)
        assert _error(response) == (403, "insufficient_scope"), path
    named = call("post", "/api/v1/memory/get", s1, {}, key=key, scope="session",
                 scope_id="s2")
    assert _error(named) == (403, "insufficient_scope")
    # global is not theirs either: a search without a session finds nothing to read
    assert _error(call("post", "/api/v1/memory/get", s1, {}, key=key)) == (
        403, "insufficient_scope")
    history = client.get("/api/v1/memory/events/history?limit=1000",
                         headers=_as(s1)).get_json()["events"]
    assert {(e["scope"], e["scope_id"]) for e in history} == {("session", "s1")}
    assert call("post", "/api/v1/memory/get", s2, in_s2, key=key).get_json()["data"] == "two"


def test_a_read_key_cannot_write_and_a_write_key_reads(client, new_key):
    reader, writer = new_key("memory:read"), new_key("memory:write:global")
    body = {"key": f"g-{uuid.uuid4().hex[:6]}", "data": 1, "scope": "global"}

    assert _error(client.post("/api/v1/memory/set", json=body, headers=_as(reader))) == (
        403, "insufficient_scope")
    assert client.post("/api/v1/memory/set", json=body, headers=_as(writer)).status_code == 200
    assert client.post("/api/v1/memory/get", json=body, headers=_as(writer)).status_code == 200
    assert client.post("/api/v1/memory/get", json=body, headers=_as(reader)).status_code == 200


# -- what credentials mean ------------------------------------------------------------------

def _subject(token: str) -> dict:
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
        "vc"]["credentialSubject"]


def test_a_credential_names_who_asked_and_who_reported(client, register, new_key, ctx):
    from app.credentials import issue_for_execution

    node = register()
    caller = new_key("execute")
    execution_id = _execute(client, caller, f"{node}.plan").get_json()["execution_id"]
    node_key = new_key(f"node:{node}")
    client.post(f"/api/v1/executions/{execution_id}/status", headers=_as(node_key),
                json={"status": "succeeded", "result": {"ok": True}})

    token = issue_for_execution(execution_id)

    subject = _subject(token)
    assert subject["requested_by"] == f"key:{caller.split('_')[1]}"
    assert subject["reported_by"] == f"key:{node_key.split('_')[1]}"


def test_an_outcome_nobody_authenticated_gets_no_credential(register, make_execution, ctx):
    from app.credentials import issue_for_execution, issue_missing
    from app.executions import lifecycle
    from app.models.types import utcnow

    execution_id = make_execution(register())["execution_id"]
    lifecycle.finish(execution_id, {"status": "succeeded", "result_payload": 1,
                                    "completed_at": utcnow() - timedelta(seconds=10)},
                     reporter=Reporter(None))

    assert issue_for_execution(execution_id) is None
    issue_missing(older_than_seconds=0)
    with ctx.extensions["autocommit_engine"].connect() as conn:
        count = conn.exec_driver_sql(
            "SELECT count(*) FROM execution_credentials WHERE execution_id = %s",
            (execution_id,)).scalar_one()
    assert count == 0


def test_the_config_never_shows_a_key_in_its_repr(config):
    assert API_KEY not in repr(config) and "api_key" not in repr(config)


def test_a_request_the_check_did_not_authenticate_is_allowed_nothing(app):
    from app.auth.guard import current_principal

    with app.test_request_context("/api/v1/health"):
        principal = current_principal()

    assert principal.key_id is None and not principal.grants.admin
    assert not principal.grants.may_execute and not principal.reads({"key_id": None})


def test_the_registration_answer_names_the_broker_without_its_password(config):
    from dataclasses import replace

    from app import create_app
    from tests.conftest import keyed_client

    # Registration touches no Redis, so a URL whose password this Redis lacks is fine.
    host_port = config.redis_url.split("@")[-1].removeprefix("redis://")
    app = create_app(replace(config, redis_url=f"redis://agent:s3cret-pw@{host_port}"))
    answer = keyed_client(app).post("/api/v1/nodes/register", json={
        "id": f"inproc-{uuid.uuid4().hex[:10]}", "reasoners": [{"id": "plan"}]})

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["broker_url"] == f"redis://{host_port}"
    assert "s3cret" not in answer.get_data(as_text=True)


def test_a_run_whose_executions_are_gone_shows_its_credentials_only_to_readers_of_all(
        client, new_key):
    # Credentials outlive executions (retention): with no row left to own, only a key
    # that reads every execution may see the run's chain.
    run_id = f"run_{uuid.uuid4().hex}"

    own_only = client.get(f"/api/v1/did/workflow/{run_id}/vc-chain",
                          headers=_as(new_key("execute")))
    reader = client.get(f"/api/v1/did/workflow/{run_id}/vc-chain",
                        headers=_as(new_key("executions:read")))

    assert _error(own_only) == (403, "insufficient_scope")
    assert _error(reader) == (404, "credential_not_found")
