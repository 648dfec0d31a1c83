"""Both sides of the wire agree: the control plane's names match agent_sdk.protocol."""

from agent_sdk import protocol
from app import cancellation, report_stream, status
from app.dispatch import execution_message
from tasks import routing


def test_task_queue_and_node_id_rule_agree():
    assert routing.EXECUTE_TASK == protocol.EXECUTE_TASK
    assert routing.queue_for("echo-agent") == protocol.queue_name("echo-agent")
    for node_id in ("echo-agent", "a_1", "-lead", "has.dot", "x" * 129):
        assert routing.is_valid_node_id(node_id) == protocol.is_valid_node_id(node_id)


def test_status_words_agree():
    assert status.STATUSES == protocol.STATUSES
    assert status.TERMINAL == protocol.TERMINAL_STATUSES


def test_redis_keys_agree():
    assert report_stream.stream_key("ns") == protocol.reports_stream("ns")
    assert cancellation.cancel_key("ns", "e1") == protocol.cancel_key("ns", "e1")


def test_the_execution_message_has_exactly_the_protocols_fields():
    row = {"execution_id": "e1", "run_id": "r1", "parent_execution_id": None,
           "session_id": None, "actor_id": None, "agent_node_id": "n", "reasoner_id": "f",
           "type": "reasoner", "input_payload": {}, "context": {}}

    message = execution_message(row)

    assert set(message) == set(protocol.MESSAGE_FIELDS)
    assert all(message[name] is not None for name in protocol.MESSAGE_REQUIRED)
