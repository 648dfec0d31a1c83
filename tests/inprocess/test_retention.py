"""Retention: ended executions past the window go with their rows; nothing else does.

Each test runs on PostgreSQL and on SQLite (the embedded default), which deletes each
batch differently (one statement with data-modifying CTEs, or one transaction).
"""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from app.executions import store
from app.executions.retention import CHILD_TABLES, purge_expired
from app.extensions import get_engine
from app.models import (
    DidKey,
    ExecutionCredential,
    ExecutionNote,
    ExecutionWebhook,
    ExecutionWebhookEvent,
)
from app.models.types import utcnow


@pytest.fixture
def config(config):
    return replace(config, retention_days=30, credential_retention_days=365,
                   retention_batch_size=1000)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request, make_execution):
    """The app context the test runs in: PostgreSQL, or SQLite on top of it."""
    if request.param == "sqlite":
        request.getfixturevalue("sqlite_app")
    assert get_engine().dialect.name == request.param
    return make_execution


def _days_ago(days: float):
    return utcnow() - timedelta(days=days)


def _ended(make, days: float, **extra) -> str:
    when = _days_ago(days)
    return make(status="succeeded", created_at=when, started_at=when, completed_at=when,
                **extra)["execution_id"]


def _insert(model, **values) -> None:
    with get_engine().connect() as conn:
        conn.execute(insert(model.__table__), values)


def _with_children(execution_id: str, days: float) -> None:
    when = _days_ago(days)
    _insert(ExecutionNote, execution_id=execution_id, message="n", tags=[], created_at=when)
    _insert(ExecutionWebhook, execution_id=execution_id, url="https://example.com/h",
            state="delivered", delivery_id="d", attempt_count=1, created_at=when)
    _insert(ExecutionWebhookEvent, execution_id=execution_id, delivery_id="d", attempt=1,
            event_type="execution.completed", status="delivered", created_at=when)
    _insert(ExecutionCredential, credential_id=f"cred-{execution_id}",
            execution_id=execution_id, run_id="r", issuer_did="did:key:z",
            vc_jwt="jwt", created_at=when)


def _count(model, execution_id: str) -> int:
    table = model.__table__
    with get_engine().connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(
            table.c.execution_id == execution_id)).scalar_one()


def _kept(execution_id: str) -> dict:
    return {model.__name__: _count(model, execution_id)
            for model in (ExecutionNote, ExecutionWebhook, ExecutionWebhookEvent,
                          ExecutionCredential)}


def test_old_ended_executions_go_with_their_rows_and_the_rest_stay(backend):
    old = _ended(backend, 40)
    young = _ended(backend, 10)
    for execution_id in (old, young):
        _with_children(execution_id, 40)
    running = backend(status="running", created_at=_days_ago(40),
                      started_at=_days_ago(40))["execution_id"]
    queued = backend(created_at=_days_ago(40))["execution_id"]

    counts = purge_expired()

    assert counts["executions"] >= 1
    assert set(store.fetch_many([old, young, running, queued])) == {young, running, queued}
    # The credential is a proof: it has its own, longer window.
    assert _kept(old) == {"ExecutionNote": 0, "ExecutionWebhook": 0,
                          "ExecutionWebhookEvent": 0, "ExecutionCredential": 1}
    assert _kept(young) == {"ExecutionNote": 1, "ExecutionWebhook": 1,
                            "ExecutionWebhookEvent": 1, "ExecutionCredential": 1}


def test_credentials_go_after_their_own_window(backend):
    ancient = _ended(backend, 400)
    recent = _ended(backend, 10)
    _with_children(ancient, 400)
    _with_children(recent, 10)

    purge_expired()

    assert _count(ExecutionCredential, ancient) == 0
    assert _count(ExecutionCredential, recent) == 1


def test_each_batch_deletes_at_most_the_batch_size(backend):
    ids = [_ended(backend, 40 + n) for n in range(5)]
    cutoff = _days_ago(30)

    first = store.delete_ended_before(cutoff, 2, CHILD_TABLES)
    left_after_first = len(store.fetch_many(ids))
    rest = purge_expired(batch_size=2)["executions"]

    assert (first, left_after_first) == (2, 3)
    # The two oldest went first.
    assert not set(store.fetch_many(ids)) and rest >= 3


def test_zero_days_keeps_everything(backend):
    from flask import current_app

    from app.extensions import get_config

    current_app.extensions["agentfield_config"] = replace(
        get_config(), retention_days=0, credential_retention_days=0)
    old = _ended(backend, 4000)
    _with_children(old, 4000)

    assert purge_expired() == {"executions": 0, "credentials": 0, "did_keys": 0}
    assert old in store.fetch_many([old]) and _count(ExecutionNote, old) == 1


def test_keys_of_removed_functions_go_after_the_window(backend):
    node = f"node-{uuid.uuid4().hex[:8]}"

    def key(function, status, retired_days):
        did = f"did:key:z{uuid.uuid4().hex}"
        _insert(DidKey, did=did, node_id=node, function=function,
                kind="reasoner" if function else "agent", sealed_seed=b"s", status=status,
                created_at=_days_ago(500),
                retired_at=_days_ago(retired_days) if retired_days else None)
        return did

    removed_long_ago = key("old_fn", "inactive", 40)
    removed_lately = key("new_fn", "inactive", 10)
    active = key("live_fn", "active", None)
    rotated_node_key = key(None, "rotated", 40)

    purge_expired()

    with get_engine().connect() as conn:
        left = set(conn.execute(select(DidKey.did).where(DidKey.node_id == node)).scalars())
    assert left == {removed_lately, active, rotated_node_key}
    assert removed_long_ago not in left


def test_a_run_keeps_its_credential_chain_after_its_executions_go(backend):
    run_id = f"run-{uuid.uuid4().hex}"
    old = _ended(backend, 40, run_id=run_id)
    _insert(ExecutionCredential, credential_id=f"cred-{old}", execution_id=old,
            run_id=run_id, issuer_did="did:key:z", vc_jwt="jwt", created_at=_days_ago(40))

    purge_expired()

    assert store.fetch_many([old]) == {}
    assert store.credentials_of_run(run_id) == [{
        "credential_id": f"cred-{old}", "execution_id": old, "issuer_did": "did:key:z",
        "vc_jwt": "jwt", "status": None, "parent_execution_id": None}]
