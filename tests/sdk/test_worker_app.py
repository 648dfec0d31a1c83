"""Each agent's Celery app runs its own agent's executions (even with several in one
process) and keeps its broker state in keys of its own."""

import warnings

from agent_sdk.protocol import EXECUTE_TASK
from agent_sdk.settings import AgentSettings
from agent_sdk.worker import build_celery, celery_settings, unacked_keys, worker_argv


def test_two_agents_in_one_process_each_run_their_own_messages():
    seen = []
    first = build_celery("first", lambda m: seen.append(("first", m)), dict)
    second = build_celery("second", lambda m: seen.append(("second", m)), dict)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a duplicate task name would warn here
        first.finalize()
        second.finalize()
    first.tasks[EXECUTE_TASK].run({"execution_id": "e1"})
    second.tasks[EXECUTE_TASK].run({"execution_id": "e2"})

    assert seen == [("first", {"execution_id": "e1"}), ("second", {"execution_id": "e2"})]


def test_a_nodes_in_flight_messages_are_kept_in_keys_of_its_own():
    options = celery_settings("billing", "redis://b", AgentSettings())["broker_transport_options"]

    assert {key: options[key] for key in unacked_keys("billing")} == {
        "unacked_key": "unacked.agent.billing",
        "unacked_index_key": "unacked_index.agent.billing",
        "unacked_mutex_key": "unacked_mutex.agent.billing"}
    assert options["priority_steps"] == [0]  # BRPOP on agent.billing alone


def test_without_remote_control_the_worker_uses_no_pubsub_channel():
    settings = AgentSettings.from_env({"AGENTFIELD_REMOTE_CONTROL": "0"})

    assert celery_settings("billing", "redis://b", settings)[
        "worker_enable_remote_control"] is False
    assert "--without-heartbeat" in worker_argv("billing", settings)  # no worker events
    assert "--without-heartbeat" not in worker_argv("billing", AgentSettings())
