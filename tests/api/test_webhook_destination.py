"""The destination is checked again before every attempt: DNS can change after
registration (or the setting can), and nothing is sent to a private address."""

from dataclasses import replace

import psycopg2
import pytest

from app import create_app
from app.webhooks.delivery import deliver
from tests.conftest import DATABASE_URL
from tests.webhook_receiver import Receiver


@pytest.fixture
def strict_control_plane(config):
    app = create_app(replace(config, webhook_allow_private=False))
    with app.app_context():
        yield app


def _sql(statement: str, *args):
    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, args)
    finally:
        conn.close()


def test_an_attempt_to_a_private_address_is_refused_and_recorded(api, strict_control_plane):
    receiver = Receiver()
    try:
        api.post("/api/v1/nodes/register", json={"id": "idle-dest", "reasoners": [{"id": "p"}]})
        accepted = api.post("/api/v1/execute/async/idle-dest.p", json={
            "input": {"n": 1}, "webhook": {"url": receiver.url + "/private"}}).json()
        execution_id = accepted["execution_id"]
        # Ended behind the control plane's back, so no delivery task is sent.
        _sql("UPDATE executions SET status = 'succeeded', completed_at = now() "
             "WHERE execution_id = %s", execution_id)

        state, delay = deliver(execution_id)

        assert state == "pending" and delay is not None  # retried later, not sent
        assert receiver.requests == []
        status = api.get(f"/api/v1/executions/{execution_id}").json()
        [event] = status["webhook_events"]
        assert event["status"] == "failed" and event["http_status"] is None
        assert "not a public address" in event["error_message"]
    finally:
        receiver.close()
        _sql("DELETE FROM execution_webhooks WHERE execution_id = %s", execution_id)
