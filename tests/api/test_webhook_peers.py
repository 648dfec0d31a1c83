"""Slow webhook receivers: each attempt ends at its deadline, and control work goes on.

The receivers are real sockets on loopback that answer one byte a second; the stack's
webhooks worker (4 threads) delivers, its control worker runs housekeeping.
"""

import re
import time
import uuid

from celery import Celery

from app.broker.names import CONTROL_QUEUE, SWEEP_NODE_HEALTH_TASK
from tests.conftest import REDIS_URL, SETTINGS
from tests.webhook_receiver import Receiver

DEADLINE = float(SETTINGS["AGENTFIELD_WEBHOOK_TIMEOUT"])
# Three times the webhooks worker's threads: on a shared queue, a control task sent now
# would wait for three rounds of slow attempts (about 3 x DEADLINE).
SLOW_HOOKS = 12


def _send_control_task() -> str:
    task_id = str(uuid.uuid4())
    client = Celery(broker=REDIS_URL)
    try:
        client.send_task(SWEEP_NODE_HEALTH_TASK, task_id=task_id, queue=CONTROL_QUEUE)
    finally:
        client.close()
    return task_id


def test_slow_drip_receivers_are_cut_and_do_not_hold_up_control_tasks(stack, api):
    # Given more slow-drip receivers than the webhooks worker has threads, all being
    # delivered to at once
    with Receiver(drip_seconds=1.0) as receiver:
        ids = []
        for n in range(SLOW_HOOKS):
            hook = {"url": f"{receiver.url}/drip/{n}"}
            response = api.post("/api/v1/execute/async/echo-agent.noop",
                                json={"input": {"value": n}, "webhook": hook})
            assert response.status_code == 202, response.text
            ids.append(response.json()["execution_id"])
        stack.wait_until(lambda: len(receiver.requests) >= 4, timeout=20,
                         what="four deliveries in progress")

        # When a control task is sent meanwhile
        sent = time.monotonic()
        task_id = _send_control_task()
        # Then it runs promptly, not after the slow attempts queued before it ("raised"
        # counts too: it ran, and the database of a loaded test machine may refuse it)
        ran = re.compile(rf"{re.escape(SWEEP_NODE_HEALTH_TASK)}\[{task_id}\] (succeeded|raised)")
        stack.wait_until(lambda: ran.search(stack.log("control")), timeout=2 * DEADLINE,
                         what="the control task")
        print(f"control task ran {time.monotonic() - sent:.2f} s after it was sent")

        # And each attempt ends at the deadline, recorded as a failed attempt
        def first_attempt(execution_id):
            events = api.get(f"/api/v1/executions/{execution_id}").json()["webhook_events"]
            return events[0] if events else None
        event = stack.wait_until(lambda: first_attempt(ids[0]), timeout=DEADLINE + 10,
                                 what="the first attempt to be recorded")
        assert event["http_status"] is None
        assert event["error_message"] == (
            f"the receiver did not answer within the {DEADLINE:g} s deadline")
        assert DEADLINE * 1000 - 100 <= event["duration_ms"] < DEADLINE * 1000 + 500
