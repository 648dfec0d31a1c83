"""Completion webhooks: payload, signatures, retries, redelivery, validation.

Deliveries are made by the webhooks worker in the stack (a real Celery worker on the
``webhooks`` queue) to a receiver on loopback.
"""

import hashlib
import hmac
import re
import time
import uuid

import orjson
import pytest

from tests.conftest import ROOT
from tests.webhook_receiver import Receiver

SECRET = "whsec-test-1234"


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _hook(receiver, **extra) -> tuple[str, dict]:
    path = f"/hook/{uuid.uuid4().hex}"
    return path, {"url": receiver.url + path, **extra}


def _wait_for(check, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _delivered(api, execution_id, timeout=15.0) -> dict:
    def check():
        body = api.get(f"/api/v1/executions/{execution_id}").json()
        return body if body.get("webhook", {}).get("state") in ("delivered", "failed") else None
    return _wait_for(check, timeout, f"the webhook of {execution_id} to settle")


def readme_verifier():
    """The receiver-side check printed in the README, run as written."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return namespace["verify_webhook"]


def test_a_finished_execution_is_announced_signed_to_its_webhook(api, receiver):
    path, hook = _hook(receiver, secret=SECRET, headers={"Authorization": "Bearer t0k"})
    accepted = api.post("/api/v1/execute/async/sentiment-agent.analyze",
                        json={"input": {"text": "great, thanks"}, "webhook": hook})
    assert accepted.status_code == 202
    assert accepted.json()["webhook_registered"] is True
    execution_id = accepted.json()["execution_id"]

    [request] = _wait_for(lambda: receiver.for_path(path), what="the delivery")
    body, headers = request["body"], request["headers"]
    payload = orjson.loads(body)
    assert payload["event"] == "execution.completed"
    assert payload["execution_id"] == execution_id and payload["status"] == "succeeded"
    assert payload["target"] == "sentiment-agent.analyze" and payload["type"] == "skill"
    assert payload["result"]["label"] == "positive" and "error_message" not in payload
    assert payload["workflow_id"] == accepted.json()["run_id"]
    assert list(payload) == ["event", "execution_id", "workflow_id", "status", "target",
                             "type", "duration_ms", "result", "timestamp"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-AgentField-Signature"] == expected
    assert readme_verifier()(SECRET, body, headers) is True
    assert readme_verifier()("another-secret", body, headers) is False
    assert readme_verifier()(SECRET, body + b" ", headers) is False
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["X-AgentField-Event"] == "execution.completed"
    assert headers["X-AgentField-Delivery"].startswith("whd_")

    status = _delivered(api, execution_id)
    assert status["webhook_registered"] is True
    assert status["webhook"]["state"] == "delivered"
    assert status["webhook"]["header_names"] == ["Authorization"]
    [event] = status["webhook_events"]
    assert (event["status"], event["http_status"], event["attempt"]) == ("delivered", 200, 1)
    assert event["event_type"] == "execution.completed" and event["response_body"]
    rendered = orjson.dumps(status).decode()
    assert SECRET not in rendered and "t0k" not in rendered


def test_a_stale_or_replayed_signature_fails_the_readme_check(api, receiver):
    path, hook = _hook(receiver, secret=SECRET)
    api.post("/api/v1/execute/async/echo-agent.noop",
             json={"input": {"value": 3}, "webhook": hook})
    [request] = _wait_for(lambda: receiver.for_path(path), what="the delivery")
    headers = dict(request["headers"])
    verify = readme_verifier()
    assert verify(SECRET, request["body"], headers)
    headers["X-AgentField-Timestamp"] = str(int(headers["X-AgentField-Timestamp"]) - 1)
    assert not verify(SECRET, request["body"], headers)  # the timestamp is signed too
    old = dict(request["headers"])
    assert not verify(SECRET, request["body"], old, tolerance=-1)  # too old


def test_failures_are_retried_with_backoff_and_every_attempt_is_recorded(api, receiver):
    path, hook = _hook(receiver, secret=SECRET)
    receiver.fail_times = 2
    receiver.fail_with = 503
    accepted = api.post("/api/v1/execute/async/echo-agent.noop",
                        json={"input": {"value": 1}, "webhook": hook}).json()

    status = _delivered(api, accepted["execution_id"])

    requests = receiver.for_path(path)
    assert len(requests) == 3
    assert len({r["body"] for r in requests}) == 1  # the same bytes every time
    assert len({r["headers"]["X-AgentField-Delivery"] for r in requests}) == 1
    assert [r["headers"]["X-AgentField-Attempt"] for r in requests] == ["1", "2", "3"]
    events = status["webhook_events"]
    assert [(e["status"], e["http_status"]) for e in events] == [
        ("failed", 503), ("failed", 503), ("delivered", 200)]
    assert "HTTP 503" in events[0]["error_message"]
    assert events[0]["response_body"] == '{"error":"not now"}'
    gaps = [_seconds(events[i + 1]["created_at"]) - _seconds(events[i]["created_at"])
            for i in range(2)]
    # Base 0.2 s doubling, ±20 % jitter: about 0.2 s, then about 0.4 s.
    assert 0.14 <= gaps[0] <= 1.0 and 0.3 <= gaps[1] <= 1.5, gaps
    assert status["webhook"]["state"] == "delivered" and status["webhook"]["last_error"] is None


def _seconds(stamp: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_an_exhausted_webhook_fails_and_can_be_redelivered(api, receiver):
    path, hook = _hook(receiver)
    receiver.fail_times = 4  # AGENTFIELD_WEBHOOK_MAX_ATTEMPTS=4 in the test stack
    receiver.fail_with = 500
    accepted = api.post("/api/v1/execute/async/echo-agent.explode",
                        json={"input": {"message": "boom"}, "webhook": hook}).json()
    execution_id = accepted["execution_id"]

    status = _delivered(api, execution_id)
    assert status["webhook"]["state"] == "failed"
    assert len(status["webhook_events"]) == 4 and len(receiver.for_path(path)) == 4
    assert "HTTP 500" in status["webhook"]["last_error"]
    payload = orjson.loads(receiver.for_path(path)[0]["body"])
    assert payload["event"] == "execution.failed" and "boom" in payload["error_message"]
    assert "result" not in payload
    assert "X-AgentField-Signature" not in receiver.for_path(path)[0]["headers"]  # no secret

    again = api.post(f"/api/v1/executions/{execution_id}/webhook/retry")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    _wait_for(lambda: len(receiver.for_path(path)) == 5, what="the redelivery")
    status = _delivered(api, execution_id)
    assert status["webhook"]["state"] == "delivered"
    assert [e["status"] for e in status["webhook_events"]][-1] == "delivered"
    deliveries = {r["headers"]["X-AgentField-Delivery"] for r in receiver.for_path(path)}
    assert len(deliveries) == 1


def test_redelivery_errors(api, receiver):
    plain = api.post("/api/v1/execute/echo-agent.noop", json={"input": {"value": 1}}).json()
    response = api.post(f"/api/v1/executions/{plain['execution_id']}/webhook/retry")
    assert response.status_code == 400 and response.json()["error"] == "webhook_not_registered"
    ui_route = api.post(f"/api/ui/v1/executions/{plain['execution_id']}/webhook/retry")
    assert ui_route.status_code == 400  # AgentField's UI path answers the same
    missing = api.post("/api/v1/executions/exec_nope/webhook/redeliver")
    assert missing.status_code == 404 and missing.json()["error"] == "execution_not_found"

    node_id = f"idle-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    _, hook = _hook(receiver)
    queued = api.post(f"/api/v1/execute/async/{node_id}.plan",
                      json={"input": {"n": 1}, "webhook": hook}).json()
    early = api.post(f"/api/v1/executions/{queued['execution_id']}/webhook/retry")
    assert early.status_code == 409 and early.json()["error"] == "execution_not_finished"


def test_cancel_and_sync_calls_announce_too(api, receiver):
    node_id = f"idle-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/nodes/register", json={"id": node_id, "reasoners": [{"id": "plan"}]})
    path, hook = _hook(receiver)
    queued = api.post(f"/api/v1/execute/async/{node_id}.plan",
                      json={"input": {"n": 1}, "webhook": hook}).json()
    api.post(f"/api/v1/executions/{queued['execution_id']}/cancel", json={"reason": "no"})
    [request] = _wait_for(lambda: receiver.for_path(path), what="the cancel delivery")
    payload = orjson.loads(request["body"])
    assert payload["event"] == "execution.cancelled" and payload["status"] == "cancelled"

    path, hook = _hook(receiver)
    sync = api.post("/api/v1/execute/echo-agent.noop",
                    json={"input": {"value": 2}, "webhook": hook})
    assert sync.status_code == 200 and sync.json()["webhook_registered"] is True
    [request] = _wait_for(lambda: receiver.for_path(path), what="the sync delivery")
    assert orjson.loads(request["body"])["execution_id"] == sync.json()["execution_id"]


def test_a_timed_out_execution_is_announced_as_timeout(api, receiver):
    path, hook = _hook(receiver)
    api.post("/api/v1/execute/async/echo-agent.overrun",
             json={"input": {"seconds": 2}, "webhook": hook})
    [request] = _wait_for(lambda: receiver.for_path(path), what="the timeout delivery")
    assert orjson.loads(request["body"])["event"] == "execution.timeout"


def test_an_idempotent_replay_delivers_once(api, receiver):
    path, hook = _hook(receiver)
    key = f"hook-{uuid.uuid4().hex}"
    body = {"input": {"value": 5}, "webhook": hook}
    first = api.post("/api/v1/execute/async/echo-agent.noop", json=body,
                     headers={"Idempotency-Key": key}).json()
    second = api.post("/api/v1/execute/async/echo-agent.noop", json=body,
                      headers={"Idempotency-Key": key}).json()
    assert first["execution_id"] == second["execution_id"]
    _delivered(api, first["execution_id"])
    time.sleep(0.5)
    assert len(receiver.for_path(path)) == 1


@pytest.mark.parametrize("hook, why", [
    ({"url": "ftp://example.com/x"}, "http or https"),
    ({"url": "https://user:pw@example.com/x"}, "credentials"),
    ({"url": "https:///x"}, "host"),
    ({"url": ""}, "required"),
    ({"url": "https://example.com", "headers": {f"X-H{i}": "v" for i in range(21)}}, "20"),
    ({"url": "https://example.com", "headers": {"X-Long": "v" * 513}}, "512"),
    ({"url": "https://example.com", "headers": {"X-AgentField-Signature": "x"}}, "set by"),
    ({"url": "https://example.com", "headers": {"Host": "evil"}}, "set by"),
    ({"url": "https://example.com", "headers": {"X-A": "a\r\nX-B: b"}}, "line breaks"),
    ({"url": "https://example.com", "headers": {"Bad Name": "v"}}, "token"),
    ({"url": "https://example.com", "secret": 42}, "string"),
    ({"url": "https://example.com", "secret": "s" * 4097}, "4096"),
    ("https://example.com", "object"),
])
def test_an_unacceptable_webhook_is_reported_and_the_execution_still_runs(api, hook, why):
    response = api.post("/api/v1/execute/async/echo-agent.noop",
                        json={"input": {"value": 1}, "webhook": hook})
    assert response.status_code == 202
    body = response.json()
    assert body["webhook_registered"] is False and why in body["webhook_error"]
    assert api.wait_for_status(body["execution_id"])["status"] == "succeeded"


def test_secrets_are_sealed_in_the_database(api, receiver):
    import psycopg2

    from tests.conftest import DATABASE_URL

    _, hook = _hook(receiver, secret="a-very-recognisable-secret")
    accepted = api.post("/api/v1/execute/async/echo-agent.noop",
                        json={"input": {"value": 1}, "webhook": hook}).json()
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT sealed_secret FROM execution_webhooks WHERE execution_id = %s",
                        (accepted["execution_id"],))
            sealed = bytes(cur.fetchone()[0])
    finally:
        conn.close()
    assert b"recognisable" not in sealed and len(sealed) > len("a-very-recognisable-secret")
    _delivered(api, accepted["execution_id"])



def test_header_values_are_sealed_and_the_webhook_is_shown_only_to_its_owner(api, receiver):
    import psycopg2

    from tests.conftest import DATABASE_URL

    # Given an execution started by a scoped key, with a token in a custom header
    owner = api.post("/api/v1/admin/keys", json={"name": "hook-owner",
                                                 "scopes": ["execute"]}).json()["token"]
    reader = api.post("/api/v1/admin/keys", json={"name": "hook-reader",
                                                  "scopes": ["executions:read"]}).json()["token"]
    path, hook = _hook(receiver, headers={"X-Receiver-Token": "tok-recognisable-value"})
    accepted = api.post("/api/v1/execute/async/echo-agent.noop", headers={"X-API-Key": owner},
                        json={"input": {"value": 1}, "webhook": hook}).json()
    execution_id = accepted["execution_id"]
    _delivered(api, execution_id)

    # Then the receiver got the value, the database holds it sealed
    assert receiver.for_path(path)[0]["headers"]["X-Receiver-Token"] == "tok-recognisable-value"
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT headers::text FROM execution_webhooks WHERE execution_id = %s",
                        (execution_id,))
            stored = cur.fetchone()[0]
    finally:
        conn.close()
    assert "X-Receiver-Token" in stored and "recognisable" not in stored
    # and the URL and header names are shown to the owner, not to a reader of all executions
    mine = api.get(f"/api/v1/executions/{execution_id}", headers={"X-API-Key": owner}).json()
    theirs = api.get(f"/api/v1/executions/{execution_id}",
                     headers={"X-API-Key": reader}).json()
    assert mine["webhook"]["url"] == hook["url"]
    assert mine["webhook"]["header_names"] == ["X-Receiver-Token"]
    assert theirs["status"] == "succeeded" and "webhook" not in theirs
    assert "webhook_events" not in theirs
