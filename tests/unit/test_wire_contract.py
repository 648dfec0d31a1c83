"""The wire contract: the control plane (app/broker, app/executions) and the SDK
(agent_sdk/protocol.py, which owns it) agree on every name, key, message and report."""

from datetime import UTC, datetime

import pytest

from agent_sdk import protocol
from agent_sdk.context import ExecutionContext
from agent_sdk.registry import build_registration
from agent_sdk.runner import run_blocking
from app import create_app
from app.broker import names
from app.broker.keys import Keys
from app.executions.reports import outcome_of
from app.executions.views import agent_message
from app.status import STATUSES, TERMINAL, normalise_status
from config import Config

NODE_IDS = ["echo-agent", "a", "A_1-b", "-leading", "has.dot", "sp ace", "x" * 128,
            "x" * 129, "", "ünï", "echo-agent\n", "\necho-agent", "echo-agent\r\n"]
FUNCTION_IDS = [*NODE_IDS, "_private", "analyze", "__call__", "a.b", "a/b", "f\n"]


def test_the_execute_task_and_queue_names_agree():
    assert names.EXECUTE_TASK == protocol.EXECUTE_TASK == "agentfield.execute"
    assert names.NODE_ID_RE.pattern == protocol.NODE_ID_PATTERN
    for node_id in NODE_IDS:
        assert names.is_valid_node_id(node_id) == protocol.is_valid_node_id(node_id), node_id
        if names.is_valid_node_id(node_id):
            assert names.queue_for(node_id) == protocol.queue_name(node_id)


def test_the_function_id_rule_agrees_and_refuses_lookalikes():
    assert names.FUNCTION_ID_RE.pattern == protocol.FUNCTION_ID_PATTERN
    for function_id in FUNCTION_IDS:
        assert (names.is_valid_function_id(function_id)
                == protocol.is_valid_function_id(function_id)), function_id
    assert not any(names.is_valid_node_id(node_id) or names.is_valid_function_id(node_id)
                   for node_id in ("echo-agent\n", "f\n", "x" * 129, "a.b"))
    assert names.is_valid_function_id("_private") and not names.is_valid_node_id("_private")


def test_the_status_words_agree():
    assert STATUSES == protocol.STATUSES
    assert TERMINAL == protocol.TERMINAL_STATUSES
    assert all(normalise_status(word) == word for word in protocol.REPORT_STATUSES)


@pytest.mark.parametrize("namespace", ["af", "aftest", "team-1"])
def test_the_shared_redis_keys_agree(namespace):
    keys = Keys(namespace)
    assert keys.lease("exec_1") == protocol.lease_key(namespace, "exec_1")
    assert keys.cancel("exec_1") == protocol.cancel_key(namespace, "exec_1")
    assert keys.reports == protocol.reports_stream(namespace)


def _row(**overrides) -> dict:
    row = {
        "execution_id": "exec_1", "run_id": "run_1", "parent_execution_id": "exec_0",
        "session_id": "sess_1", "actor_id": "user_1", "agent_node_id": "echo-agent",
        "reasoner_id": "noop", "type": "reasoner", "input_payload": {"value": 1},
        "context": {"trace": "t1"},
    }
    return {**row, **overrides}


def test_a_message_built_by_the_control_plane_parses_into_the_sdk_context():
    message = agent_message(_row())

    assert set(message) == set(protocol.MESSAGE_FIELDS)
    assert ExecutionContext.from_message(message) == ExecutionContext(
        execution_id="exec_1", run_id="run_1", node_id="echo-agent", function="noop",
        workflow_id="run_1", parent_execution_id="exec_0", session_id="sess_1",
        actor_id="user_1", extra={"trace": "t1"})


def test_a_root_message_without_optional_ids_parses_too():
    message = agent_message(_row(parent_execution_id=None, session_id=None, actor_id=None,
                                 context=None))

    ctx = ExecutionContext.from_message(message)
    assert (ctx.parent_execution_id, ctx.session_id, ctx.actor_id, ctx.extra) == (
        None, None, None, {})


@pytest.fixture
def control_plane():
    """An app context for the control plane's report parser (its limits live in config)."""
    with create_app(Config.from_env({"DATABASE_URL": "sqlite://"})).app_context():
        yield


def _report(fn, data: dict) -> dict:
    ctx = ExecutionContext.from_message(agent_message(_row()))
    return run_blocking(build_registration(fn, "reasoner"), data, ctx)


def test_a_succeeded_report_from_the_sdk_is_read_whole_by_the_control_plane(control_plane):
    def double(value: int) -> dict:
        return {"doubled": value * 2}

    report = _report(double, {"value": 21})

    assert set(report) <= set(protocol.REPORT_FIELDS)
    outcome = outcome_of(normalise_status(report["status"]), report)
    assert outcome["status"] == "succeeded"
    assert outcome["result_payload"] == {"doubled": 42}
    assert outcome["duration_ms"] == report["duration_ms"]
    assert outcome["started_at"] == datetime.fromisoformat(report["started_at"])
    assert outcome["completed_at"] == datetime.fromisoformat(report["completed_at"])
    assert outcome["completed_at"].utcoffset() == UTC.utcoffset(None)


def test_a_failed_report_from_the_sdk_is_read_whole_by_the_control_plane(control_plane):
    def explode(value: int) -> dict:
        raise ValueError(f"bad value {value}")

    report = _report(explode, {"value": 3})

    assert set(report) <= set(protocol.REPORT_FIELDS)
    outcome = outcome_of(normalise_status(report["status"]), report)
    assert (outcome["status"], outcome["error_message"], outcome["error_type"]) == (
        "failed", "bad value 3", "ValueError")


TOKENS = ["afk_abc123def456_secretpart", "afk_abc_with_underscores_in_secret", "afk__nokey",
          "afk_", "afk_noseparator", "plain-shared-key", "", "AFK_abc_upper"]


def test_api_key_ids_and_report_signatures_agree():
    from app.auth import tokens

    assert tokens.KEY_PREFIX == protocol.KEY_PREFIX and tokens.ENV_KEY_ID == protocol.ENV_KEY_ID
    for token in TOKENS:
        assert tokens.key_id_of(token) == protocol.key_id_of(token), token
        assert tokens.report_signing_key(token) == protocol.report_signing_key(token)
    secret = protocol.report_signing_key("afk_abc123def456_secretpart")
    for execution_id, report in [("exec_1", b'{"status":"succeeded"}'), ("", b""),
                                 ("exec_\u00fc", b"\x00\xff")]:
        assert (tokens.report_signature(secret, execution_id, report)
                == protocol.report_signature(secret, execution_id, report))
    assert protocol.key_id_of("afk_abc123def456_secretpart") == "abc123def456"
    assert protocol.key_id_of("plain-shared-key") == "env"


def test_a_new_token_names_its_own_id_on_both_sides():
    from app.auth import tokens

    key_id, token = tokens.new_token()
    assert protocol.key_id_of(token) == tokens.key_id_of(token) == key_id
    assert tokens.display_prefix(key_id) == token[:len(protocol.KEY_PREFIX) + len(key_id)]


def test_the_stream_entry_fields_agree_with_what_the_consumer_reads():
    assert protocol.STREAM_FIELDS == ("execution_id", "report", protocol.REPORT_KEY_FIELD,
                                      protocol.REPORT_SIGNATURE_FIELD) == (
        "execution_id", "report", "key", "sig")
