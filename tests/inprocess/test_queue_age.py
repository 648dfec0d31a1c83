"""A queued execution no worker takes ends as ``timeout`` past its node's maximum age,
through ``finish()`` (waiters wake, webhooks start), instead of being re-sent forever."""

import base64
import re
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from app.broker.names import WEBHOOKS_QUEUE
from app.executions.recovery import reconcile_queued
from app.executions.store import fetch_execution
from app.models.types import utcnow
from tests.conftest import NAMESPACE


@pytest.fixture
def config(config):
    """A global maximum queued age of one hour."""
    return replace(config, max_queued_seconds=3600.0)


def _hours_ago(hours: float):
    return utcnow() - timedelta(hours=hours)


def test_a_queued_execution_older_than_the_global_limit_times_out(register, make_execution):
    node_id = register()
    old = make_execution(node_id, created_at=_hours_ago(2))
    young = make_execution(node_id, created_at=_hours_ago(0.5))

    resent = reconcile_queued(older_than=300)

    assert young["execution_id"] in resent and old["execution_id"] not in resent
    ended = fetch_execution(old["execution_id"])
    assert (ended["status"], ended["error_type"]) == ("timeout", "queue_timeout")
    assert re.fullmatch(rf"timed out: queued for 720\d\.\d s, longer than the 3600 s "
                        rf"node '{node_id}' allows; no worker took it",
                        ended["error_message"])
    assert ended["completed_at"] is not None
    assert fetch_execution(young["execution_id"])["status"] == "queued"


def test_a_node_s_own_maximum_queued_age_wins(register, make_execution):
    strict = register(limits={"max_queued_seconds": 600})
    lenient = register(limits={"max_queued_seconds": 86_400})
    on_strict = make_execution(strict, created_at=_hours_ago(0.5))
    on_lenient = make_execution(lenient, created_at=_hours_ago(2))

    resent = reconcile_queued(older_than=300)

    assert on_lenient["execution_id"] in resent and on_strict["execution_id"] not in resent
    assert fetch_execution(on_strict["execution_id"])["status"] == "timeout"


def test_zero_means_queued_work_waits_forever(ctx, register, make_execution):
    from app.extensions import get_config

    ctx.extensions["agentfield_config"] = replace(get_config(), max_queued_seconds=0)
    old = make_execution(register(), created_at=_hours_ago(24 * 30))

    assert old["execution_id"] in reconcile_queued(older_than=300)
    assert fetch_execution(old["execution_id"])["status"] == "queued"


def test_a_sync_waiter_is_woken_and_the_webhook_started(register, make_execution,
                                                        redis_db):
    node_id = register()
    sync = make_execution(node_id, mode="sync", created_at=_hours_ago(2))
    hooked = make_execution(node_id, has_webhook=True, created_at=_hours_ago(2))

    reconcile_queued(older_than=300)

    assert redis_db.llen(f"{NAMESPACE}:done:{sync['execution_id']}") == 1
    deliveries = [base64.b64decode(orjson.loads(message)["body"])
                  for message in redis_db.lrange(WEBHOOKS_QUEUE, 0, -1)]
    assert any(hooked["execution_id"].encode() in body for body in deliveries)


def test_the_limit_is_validated_at_registration(register):
    from app.errors import InvalidField

    with pytest.raises(InvalidField, match="limits.max_queued_seconds"):
        register(limits={"max_queued_seconds": 0})
