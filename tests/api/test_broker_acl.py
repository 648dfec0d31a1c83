"""A least-privilege broker (docs/broker-acl.md): an agent under its own Redis ACL user
runs executions end to end, and reaches nothing of other nodes, nor any channel.

The broker is a redis-server of this module's own; a control plane (gunicorn, on the
suite's database) uses it as the control plane's user, acl-agent as its own user.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import redis
import requests

from scripts.broker_acl import (
    CONTROL_PLANE_USER,
    agent_rules,
    agent_user,
    control_plane_rules,
    main,
)
from tests.conftest import AUTH, NAMESPACE, Api, Stack

NODE = "acl-agent"
AGENT_PASSWORD = "agent-secret"
ADMIN_PASSWORD = "admin-secret"
CONTROL_PLANE_PASSWORD = "control-plane-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    """The module's redis-server: its port and a client as the operator's own user."""

    port: int
    admin: redis.Redis

    def url(self, user: str, password: str) -> str:
        return f"redis://{user}:{password}@127.0.0.1:{self.port}/0"

    def refusals(self) -> list[dict]:
        """The ACL log: every command the server refused, and to whom."""
        return self.admin.execute_command("ACL", "LOG")


def _unavailable(message: str):
    if os.environ.get("CI"):
        pytest.fail(message + " (CI requires it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A redis-server 7 of the module's own, with the control plane's and acl-agent's users."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("no redis-server binary")
    work = tmp_path_factory.mktemp("acl-redis")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=open(work / "redis.log", "wb"), stderr=subprocess.STDOUT)
    default = redis.Redis(port=port)
    admin = redis.Redis(port=port, username="admin", password=ADMIN_PASSWORD)
    try:
        _wait_for(default)
        if int(default.info("server")["redis_version"].split(".")[0]) < 7:
            _unavailable("ACL selectors need Redis 7")
        # The recipe: the operator's user, the control plane's, the agent's; default off.
        default.execute_command("ACL", "SETUSER", "admin", "on", f">{ADMIN_PASSWORD}",
                                "~*", "&*", "+@all")
        default.execute_command("ACL", "SETUSER", *control_plane_rules(CONTROL_PLANE_PASSWORD))
        default.execute_command("ACL", "SETUSER", *agent_rules(NODE, AGENT_PASSWORD, NAMESPACE))
        default.execute_command("ACL", "SETUSER", "default", "off")
        admin.execute_command("ACL", "LOG", "RESET")
        yield Broker(port, admin)
    finally:
        default.close()
        admin.close()
        process.terminate()
        process.wait(10)


def _wait_for(client: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _start_agent(stack: Stack, broker: Broker, name: str = NODE):
    # The agent gets its own credentials only: REDIS_URL (the control plane's) is blanked,
    # and its API key is a node key of its own.
    return stack.start_agent(
        name, "tests/agents/acl_agent.py", REDIS_URL="", TEST_COUNTER_REDIS_URL="",
        AGENTFIELD_API_KEY=stack.node_key,
        AGENTFIELD_BROKER_URL=broker.url(agent_user(NODE), AGENT_PASSWORD),
        AGENTFIELD_REMOTE_CONTROL="0", AGENTFIELD_CONCURRENCY="2",
        # Renewed every 0.2 s; a killed worker's message is visible again after 2 s.
        AGENTFIELD_LEASE_SECONDS="0.6", AGENTFIELD_MAX_RUN_SECONDS="1")


@pytest.fixture(scope="module")
def acl_stack(tmp_path_factory, migrated_database, broker):
    """A control plane on the module's broker as its user, and acl-agent as its own."""
    stack = Stack(tmp_path_factory.mktemp("acl-stack-logs"))
    # Agents are configured with their own broker account, not told the address.
    stack.env.update(REDIS_URL=broker.url(CONTROL_PLANE_USER, CONTROL_PLANE_PASSWORD),
                     AGENTFIELD_ADVERTISE_BROKER="0", WEB_CONCURRENCY="1")
    try:
        stack.start("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                            "app.wsgi:application"])
        stack.wait_until(lambda: requests.get(stack.url + "/api/v1/health", timeout=2).ok,
                         what="the control plane on the ACL broker")
        stack.node_key = requests.post(f"{stack.url}/api/v1/admin/keys", headers=AUTH, json={
            "name": NODE, "scopes": [f"node:{NODE}", "execute"]}).json()["token"]
        _start_agent(stack, broker)
        stack.wait_until(lambda: requests.get(f"{stack.url}/api/v1/nodes/{NODE}",
                                              headers=AUTH).ok,
                         what=f"{NODE} to register")
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def acl_api(acl_stack) -> Api:
    return Api(acl_stack.url)


def test_an_agent_under_its_acl_user_runs_executions_end_to_end(acl_api, broker):
    response = acl_api.execute(f"{NODE}.echo", {"text": "least privilege"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"text": "least privilege"}

    # Slower than the lease (renewed by its script) and the 250 ms "running" report.
    slow = acl_api.execute(f"{NODE}.slow", {"seconds": 1.0}, timeout=30).json()
    assert (slow["status"], slow["result"]) == ("succeeded", {"slept": 1.0,
                                                              "cancelled": False})

    # Its in-flight messages were kept in its own keys, never in kombu's shared ones.
    assert not broker.admin.exists("unacked", "unacked_index", "unacked_mutex")
    assert broker.refusals() == []


def test_a_killed_agents_message_comes_back_from_its_own_unacked_keys(
        acl_api, acl_stack, broker):
    accepted = acl_api.post(f"/api/v1/execute/async/{NODE}.slow",
                            json={"input": {"seconds": 2.0}}).json()
    execution_id = accepted["execution_id"]
    acl_stack.wait_until(
        lambda: acl_api.get(f"/api/v1/executions/{execution_id}").json()["status"]
        == "running", what="the slow execution to start")
    assert broker.admin.hlen(f"unacked.agent.{NODE}") == 1

    acl_stack.stop(NODE, sig=signal.SIGKILL)
    time.sleep(2.5)  # past the visibility timeout (2 s) and the lease (0.6 s)
    _start_agent(acl_stack, broker, name=f"{NODE}-again")  # restores it on startup

    done = acl_api.wait_for_status(execution_id, timeout=30)
    assert (done["status"], done["result"]) == ("succeeded", {"slept": 2.0,
                                                              "cancelled": False})
    acl_stack.wait_until(lambda: broker.admin.hlen(f"unacked.agent.{NODE}") == 0,
                         what="the message to be acked")
    assert broker.refusals() == []


# Keys of other nodes, of the control plane and of kombu's shared state: each with a
# command the agent may run on its own keys, so the key is what is refused.
OTHERS = [
    ("another node's queue", lambda r: r.brpop("agent.other-agent", 1)),
    ("another node's queue length", lambda r: r.llen("agent.other-agent")),
    ("a node whose id extends this one's", lambda r: r.llen(f"agent.{NODE}-2")),
    ("another node's unacked hash", lambda r: r.hget("unacked.agent.other-agent", "tag")),
    ("kombu's shared unacked hash", lambda r: r.hget("unacked", "tag")),
    ("kombu's shared unacked index", lambda r: r.zrange("unacked_index", 0, -1)),
    ("a sync waiter's answer", lambda r: r.get(f"{NAMESPACE}:done:some-execution")),
    ("a sync waiter's answer, forged", lambda r: r.lpush(f"{NAMESPACE}:done:x", "forged")),
    ("a memory value", lambda r: r.hget(f"{NAMESPACE}:mem:global:global:k", "value")),
    ("the reports stream, read", lambda r: r.xrange(f"{NAMESPACE}:reports")),
    ("the reports stream, read by the group",
     lambda r: r.xreadgroup("control-plane", "me", {f"{NAMESPACE}:reports": ">"})),
    ("the reports stream, deleted", lambda r: r.delete(f"{NAMESPACE}:reports")),
    ("a cancel marker, set", lambda r: r.set(f"{NAMESPACE}:cancel:x", 1)),
    ("a cancel marker, read", lambda r: r.get(f"{NAMESPACE}:cancel:x")),
    ("the control plane's own queue", lambda r: r.llen("control")),
    ("another node's bindings", lambda r: r.sadd("_kombu.binding.agent.other-agent", "x")),
    ("remote control", lambda r: r.publish("/0.celery.pidbox", "shutdown")),
    ("events", lambda r: r.publish("/0.celeryev/task.succeeded", "{}")),
    ("any channel", lambda r: r.publish("anything", "x")),
    ("listing keys", lambda r: r.scan(0)),
    ("the server's settings", lambda r: r.config_get("requirepass")),
    ("a script of its own, unloaded", lambda r: r.eval("return 1", 0)),
]


@pytest.mark.parametrize("what, attempt", OTHERS, ids=[what for what, _ in OTHERS])
def test_the_agents_credentials_reach_nothing_of_others(broker, what, attempt):
    agent = redis.Redis.from_url(broker.url(agent_user(NODE), AGENT_PASSWORD))
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt(agent)
    finally:
        agent.close()
        broker.admin.execute_command("ACL", "LOG", "RESET")


def test_no_credentials_reach_nothing(broker):
    anonymous = redis.Redis(port=broker.port)
    try:
        with pytest.raises(redis.AuthenticationError):
            anonymous.llen(f"agent.{NODE}")
    finally:
        anonymous.close()


def test_the_agents_credentials_subscribe_to_no_channel_and_run_no_script_around_it(broker):
    agent = redis.Redis.from_url(broker.url(agent_user(NODE), AGENT_PASSWORD))
    pubsub = agent.pubsub()
    try:
        pubsub.psubscribe("/0.celery.pidbox")
        with pytest.raises(redis.exceptions.NoPermissionError):
            pubsub.get_message(timeout=1)
        # A script runs with the caller's rights: another node's queue stays out of reach.
        script = agent.script_load("return redis.call('llen', 'agent.other-agent')")
        with pytest.raises(redis.ResponseError, match="can't access"):
            agent.evalsha(script, 0)
    finally:
        pubsub.close()
        agent.close()
        broker.admin.execute_command("ACL", "LOG", "RESET")


def test_what_the_acl_still_lets_an_agent_do_to_executions_it_can_name(broker):
    # Leases and cancel markers are named by execution, not by node (docs/broker-acl.md).
    agent = redis.Redis.from_url(broker.url(agent_user(NODE), AGENT_PASSWORD))
    stream = f"{NAMESPACE}:reports"
    try:
        assert agent.set(f"{NAMESPACE}:lease:another-nodes-execution", "done")
        assert agent.delete(f"{NAMESPACE}:lease:another-nodes-execution") == 1
        assert agent.exists(f"{NAMESPACE}:cancel:another-nodes-execution") == 0
        # XADD cannot be limited to appending: MAXLEN trims everyone's reports.
        agent.xadd(stream, {"execution_id": "x", "report": "{}"}, maxlen=0,
                   approximate=False)
        assert broker.admin.xlen(stream) == 0
    finally:
        agent.close()


def test_the_generator_prints_a_line_for_redis_cli_and_the_password_apart(capsys):
    assert main(["billing", "--namespace", "ns1"]) == 0

    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert line.startswith("ACL SETUSER agent.billing reset on #")
    assert line.endswith("(~ns1:lease:* +set +get +del +pexpire +evalsha) "
                         "(%R~ns1:cancel:* +exists) (%W~ns1:reports +xadd)")
    password = err.split("password of agent.billing: ")[1].split()[0]
    assert password not in out  # the line holds only its SHA-256


@pytest.mark.parametrize("argv", [["bad id"], ["billing", "--namespace", "a*"], [],
                                  ["billing", "--control-plane"]])
def test_the_generator_refuses_bad_ids_glob_namespaces_and_ambiguous_calls(argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
