"""Each agent's Celery app runs its own agent's executions, even with several in one process."""

import warnings

from agent_sdk.protocol import EXECUTE_TASK
from agent_sdk.worker import build_celery


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
