"""The wire contract: stated once in agent_sdk.protocol, and used by the SDK's moving parts."""

import subprocess
import sys

import pytest
import redis

from agent_sdk import Agent, ExecutionContext, protocol
from agent_sdk.lease import LeaseManager


def test_the_protocol_imports_without_celery_or_pydantic():
    code = ("import sys, agent_sdk.protocol, agent_sdk.settings, agent_sdk.errors; "
            "print(sorted(m for m in ('celery', 'kombu', 'pydantic', 'redis') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)

    assert result.stdout.strip() == "[]"


def test_names_and_keys_follow_the_namespace():
    assert protocol.queue_name("echo-agent") == "agent.echo-agent"
    assert protocol.lease_key("af", "e1") == "af:lease:e1"
    assert protocol.cancel_key("ns", "e1") == "ns:cancel:e1"
    assert protocol.reports_stream("ns") == "ns:reports"
    assert protocol.TERMINAL_STATUSES == {"succeeded", "failed", "cancelled", "timeout"}
    assert set(protocol.STATUSES) - protocol.TERMINAL_STATUSES == {"pending", "queued",
                                                                   "running"}


@pytest.mark.parametrize("node_id, valid", [
    ("echo-agent", True), ("a_1", True), ("A" * 128, True), ("A" * 129, False),
    ("-lead", False), ("has.dot", False), ("", False), ("echo-agent\n", False)])
def test_node_ids_that_can_name_a_queue(node_id, valid):
    assert protocol.is_valid_node_id(node_id) is valid


def test_the_agent_serves_the_execute_task_on_its_queue():
    agent = Agent("proto-agent", agentfield_server="http://127.0.0.1:9",
                  broker_url="redis://127.0.0.1:6379/0")

    assert agent.celery.conf.task_default_queue == "agent.proto-agent"
    assert agent.registration_body()["metadata"]["deployment"]["queue"] == "agent.proto-agent"


def test_the_agents_celery_app_registers_the_execute_task():
    # In a process of its own: finalizing a Celery app here would also pick up the
    # shared tasks of every other test's agent (a duplicate-name warning).
    code = ("from agent_sdk import Agent; "
            "app = Agent('proto-agent', 'http://127.0.0.1:9', broker_url='redis://x'); "
            "print(sorted(t for t in app.celery.tasks if not t.startswith('celery.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)

    assert result.stdout.strip() == repr([protocol.EXECUTE_TASK])


def test_leases_use_the_protocols_keys():
    leases = LeaseManager(redis.Redis(), "ns")  # never connects: only keys are built

    assert (leases.key("e1"), leases.cancel_key("e1")) == ("ns:lease:e1", "ns:cancel:e1")


def test_a_message_becomes_a_context_and_needs_every_required_field():
    message = {name: f"v-{name}" for name in protocol.MESSAGE_FIELDS}
    message["context"] = {"k": "v"}

    ctx = ExecutionContext.from_message(message)

    assert ctx == ExecutionContext(
        execution_id="v-execution_id", run_id="v-run_id", node_id="v-node_id",
        function="v-function", workflow_id="v-workflow_id",
        parent_execution_id="v-parent_execution_id", session_id="v-session_id",
        actor_id="v-actor_id", extra={"k": "v"})
    for name in protocol.MESSAGE_REQUIRED:
        with pytest.raises(KeyError):
            ExecutionContext.from_message({k: v for k, v in message.items() if k != name})
    bare = ExecutionContext.from_message({k: message[k] for k in protocol.MESSAGE_REQUIRED})
    assert (bare.workflow_id, bare.extra, bare.cancelled) == (None, {}, False)


def test_a_context_asks_its_executors_probe_whether_it_was_cancelled():
    asked = []
    message = {name: "x" for name in protocol.MESSAGE_REQUIRED}

    ctx = ExecutionContext.from_message(message, cancel_probe=lambda i: asked.append(i) or True)

    assert ctx.cancelled is True and asked == ["x"]
