"""insert_or_replay: one key makes one execution; another request with it is 409."""

import uuid
from datetime import timedelta

import pytest

from app.errors import ExecutionNotFound
from app.executions.idempotency import IdempotencyKeyReused, fingerprint, insert_or_replay
from app.executions.store import fetch_execution
from app.models.types import utcnow

TARGET = "inproc-node.plan"


@pytest.fixture
def keyed_row(new_row):
    """Build the row of a keyed request for ``{"input": data}``, as dispatch does."""
    def build(key: str, data: dict, **overrides) -> dict:
        return new_row(input_payload=data, idempotency_key=key,
                       request_fingerprint=fingerprint(TARGET, {"input": data}), **overrides)
    return build


def test_a_new_key_inserts_the_execution(keyed_row):
    key = f"key-{uuid.uuid4().hex}"
    row = keyed_row(key, {"n": 1})

    assert insert_or_replay(row) is None

    stored = fetch_execution(row["execution_id"])
    assert {name: stored[name] for name in ("status", "idempotency_key",
                                            "request_fingerprint", "input_payload")} == {
        "status": "queued", "idempotency_key": key,
        "request_fingerprint": fingerprint(TARGET, {"input": {"n": 1}}),
        "input_payload": {"n": 1}}


def test_the_same_request_replays_the_original_and_writes_nothing(keyed_row):
    key = f"key-{uuid.uuid4().hex}"
    first, retry = keyed_row(key, {"n": 1}), keyed_row(key, {"n": 1})
    insert_or_replay(first)

    original = insert_or_replay(retry)

    assert original == fetch_execution(first["execution_id"])
    assert original["execution_id"] == first["execution_id"]
    with pytest.raises(ExecutionNotFound):
        fetch_execution(retry["execution_id"])


def test_a_different_request_with_the_key_is_409(keyed_row):
    key = f"key-{uuid.uuid4().hex}"
    first, other = keyed_row(key, {"n": 1}), keyed_row(key, {"n": 2})
    insert_or_replay(first)

    with pytest.raises(IdempotencyKeyReused) as raised:
        insert_or_replay(other)

    assert (raised.value.code, raised.value.status) == ("idempotency_key_reused", 409)
    assert raised.value.details == {"execution_id": first["execution_id"]}
    with pytest.raises(ExecutionNotFound):
        fetch_execution(other["execution_id"])


def test_an_expired_key_is_released_by_its_next_use(ctx, keyed_row):
    # Given a keyed execution older than the key's lifetime (AGENTFIELD_IDEMPOTENCY_TTL)
    key = f"key-{uuid.uuid4().hex}"
    ttl = ctx.extensions["agentfield_config"].idempotency_ttl
    old = keyed_row(key, {"n": 1}, created_at=utcnow() - timedelta(seconds=ttl + 1))
    insert_or_replay(old)
    # When the key comes back with a different request
    new = keyed_row(key, {"n": 2})

    # Then it makes a new execution and the old one lets go of the key
    assert insert_or_replay(new) is None
    assert fetch_execution(old["execution_id"])["idempotency_key"] is None
    assert fetch_execution(new["execution_id"])["idempotency_key"] == key
