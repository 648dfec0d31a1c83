"""Idempotency-Key: a retried request returns the original execution and runs nothing twice."""

import time
import uuid

from tests.conftest import AUTH, count_executions


def _count_body(key_name):
    return {"input": {"key": key_name}}


def test_an_async_retry_with_the_same_key_returns_the_original(api, redis_client):
    counter = f"idem-{uuid.uuid4().hex}"
    headers = {"Idempotency-Key": f"order-{uuid.uuid4().hex}"}
    first = api.post("/api/v1/execute/async/echo-agent.count", json=_count_body(counter),
                     headers=headers)
    before = count_executions()

    again = api.post("/api/v1/execute/async/echo-agent.count", json=_count_body(counter),
                     headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_executions() == before
    api.wait_for_status(first.json()["execution_id"])
    time.sleep(0.3)
    assert redis_client.get(counter) == b"1"


def test_a_sync_retry_returns_the_same_result(api):
    headers = {"Idempotency-Key": f"sync-{uuid.uuid4().hex}"}
    first = api.execute("sentiment-agent.analyze", {"text": "great"}, headers=headers).json()

    again = api.execute("sentiment-agent.analyze", {"text": "great"}, headers=headers)

    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first


def test_the_same_key_with_a_different_request_is_409_and_writes_nothing(api):
    headers = {"Idempotency-Key": f"clash-{uuid.uuid4().hex}"}
    first = api.execute("sentiment-agent.analyze", {"text": "great"}, headers=headers).json()
    before = count_executions()

    clash = api.execute("sentiment-agent.analyze", {"text": "awful"}, headers=headers)

    assert clash.status_code == 409
    assert clash.json()["error"] == "idempotency_key_reused"
    assert clash.json()["details"] == {"execution_id": first["execution_id"]}
    assert count_executions() == before


def test_an_expired_key_starts_a_new_execution(api):
    headers = {"Idempotency-Key": f"old-{uuid.uuid4().hex}"}
    first = api.execute("sentiment-agent.analyze", {"text": "great"}, headers=headers).json()

    time.sleep(4.2)  # the test stack keeps keys for 4 s
    later = api.execute("sentiment-agent.analyze", {"text": "great"}, headers=headers)

    assert later.status_code == 200 and "Idempotent-Replayed" not in later.headers
    assert later.json()["execution_id"] != first["execution_id"]


def test_an_unusable_key_is_400(api):
    response = api.execute("sentiment-agent.analyze", {"text": "x"},
                           headers={"Idempotency-Key": "k" * 300})

    assert response.status_code == 400
    assert response.json()["details"] == {"field": "Idempotency-Key"}


def test_racing_retries_with_one_key_make_one_execution(api, stack):
    from concurrent.futures import ThreadPoolExecutor

    import requests

    headers = {"Idempotency-Key": f"race-{uuid.uuid4().hex}", **AUTH}
    before = count_executions()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.post(
            f"{stack.url}/api/v1/execute/async/echo-agent.noop",
            json={"input": {"value": 7}}, headers=headers, timeout=30), range(8)))

    assert [a.status_code for a in answers] == [202] * 8
    assert len({a.json()["execution_id"] for a in answers}) == 1
    assert count_executions() == before + 1
