"""When Redis (the broker) is down: health says so, and nothing is silently lost."""

from dataclasses import replace

import psycopg2
import pytest

from app import create_app
from tests.conftest import DATABASE_URL, count_executions, keyed_client

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker_down_client(config):
    return keyed_client(create_app(replace(config, redis_url=DEAD_REDIS)))


@pytest.fixture
def broker_lost_after_admission_client(config):
    # Without the circuit check, admission does not touch Redis: the first Redis call
    # is the publish after the insert, as when the broker dies in between.
    app = create_app(replace(config, redis_url=DEAD_REDIS, circuit_enabled=False))
    return keyed_client(app)


def test_a_broker_down_at_admission_is_503_and_writes_nothing(stack, broker_down_client):
    # The stack has registered echo-agent, so the request reaches admission.
    before = count_executions()
    response = broker_down_client.post("/api/v1/execute/async/echo-agent.noop",
                                       json={"input": {"value": 1}})

    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json["error"] == "broker_unavailable"
    assert count_executions() == before


def test_a_database_down_is_503_with_retry_after(config):
    app = create_app(replace(
        config, database_url="postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"))
    response = keyed_client(app).post("/api/v1/execute/async/echo-agent.noop",
                                      json={"input": {"value": 1}})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json["error"] == "database_unavailable"


def test_health_is_200_when_everything_answers(api):
    body = api.get("/api/v1/health").json()

    assert body["status"] == "healthy"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "storage": "healthy", "cache": "healthy"}


def test_health_is_503_naming_redis_when_it_is_down(broker_down_client):
    response = broker_down_client.get("/api/v1/health")

    assert response.status_code == 503
    body = response.json
    assert body["status"] == "unhealthy" and body["unhealthy"] == ["cache"]
    assert body["checks"]["storage"]["status"] == "healthy"
    assert "Connection" in body["checks"]["cache"]["message"]


def test_enqueue_failure_is_503_and_the_row_says_so(api, broker_lost_after_admission_client):
    response = broker_lost_after_admission_client.post("/api/v1/execute/async/echo-agent.noop",
                                       json={"input": {"value": 1}})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.json
    assert body["error"] == "enqueue_failed"
    execution_id = body["details"]["execution_id"]
    conn = psycopg2.connect(DATABASE_URL)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT status, error_type, error_message FROM executions "
                    "WHERE execution_id = %s", (execution_id,))
        status, error_type, message = cur.fetchone()
    conn.close()
    assert (status, error_type) == ("failed", "enqueue_failed")
    assert "could not enqueue" in message
    assert api.get(f"/api/v1/executions/{execution_id}").json()["status"] == "failed"
