"""Operations: SIGTERM finishes work in hand; Flower shows per-agent queues behind auth."""

import signal
import socket
import sys

import requests


def test_sigterm_finishes_the_running_execution_then_says_goodbye(api, stack):
    stack.start_agent("shutdown-agent", "tests/agents/shutdown_agent.py")
    stack.wait_until(lambda: api.get("/api/v1/nodes/shutdown-agent").ok,
                     what="shutdown-agent to register")
    accepted = api.post("/api/v1/execute/async/shutdown-agent.slow",
                        json={"input": {"seconds": 1.5}}, headers={}).json()
    stack.wait_until(
        lambda: api.get(f"/api/v1/executions/{accepted['execution_id']}").json()["status"]
        == "running", what="the slow execution to start")

    exit_code = stack.stop("shutdown-agent", sig=signal.SIGTERM, timeout=30)

    assert exit_code == 0
    done = api.get(f"/api/v1/executions/{accepted['execution_id']}").json()
    assert done["status"] == "succeeded" and done["result"] == {"finished": True}
    node = api.get("/api/v1/nodes/shutdown-agent").json()
    assert node["lifecycle_status"] == "offline"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_flower_shows_agent_queue_depth_behind_basic_auth(api, stack):
    port = _free_port()
    stack.start("flower", [sys.executable, "-m", "tasks.flower"],
                FLOWER_BASIC_AUTH="ops:secret", FLOWER_PORT=str(port),
                FLOWER_ADDRESS="127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    stack.wait_until(lambda: requests.get(base + "/healthcheck", timeout=2).ok,
                     what="Flower", timeout=60)
    assert requests.get(base + "/api/queues/length", timeout=5).status_code == 401
    auth = ("ops", "secret")
    stack.wait_until(lambda: "echo-agent@" in requests.get(
        base + "/api/workers?refresh=1", auth=auth, timeout=10).text,
        what="Flower to see the echo-agent workers", timeout=30)

    # Two echo-agent workers, one thread each: the rest waits in agent.echo-agent.
    for _ in range(5):
        api.post("/api/v1/execute/async/echo-agent.sleepy", json={"input": {"seconds": 0.8}})
    queues = requests.get(base + "/api/queues/length", auth=auth, timeout=10).json()

    depth = {q["name"]: q["messages"] for q in queues["active_queues"]}
    assert {"agent.echo-agent", "agent.sentiment-agent", "agent.relay-agent"} <= set(depth)
    assert depth["agent.echo-agent"] >= 1
    stack.stop("flower")


def test_the_celery_cli_runs_a_node_like_app_run(api, stack):
    stack.start("cli-worker", [sys.executable, "-m", "celery", "-A",
                               "tests.agents.shutdown_agent:celery", "worker",
                               "--without-gossip", "--without-mingle", "-n", "cli@%h"])
    stack.wait_until(lambda: api.get("/api/v1/nodes/shutdown-agent").json()
                     .get("lifecycle_status") in ("starting", "ready"),
                     what="the CLI worker to register")

    response = api.execute("shutdown-agent.slow", {"seconds": 0.05}, timeout=30)

    assert response.json()["status"] == "succeeded", response.text
    assert "concurrency: 8 (thread)" in stack.log("cli-worker")  # the threads pool
    assert stack.stop("cli-worker") == 0
