"""In-process fixtures: the app on the migrated database and a Redis database of its own.

No gunicorn and no agents: these tests call the app's functions inside an app context.
Nodes get fresh ids, so the shared database and the per-process caches never mix tests.
"""

import uuid
from dataclasses import replace

import pytest

from tests.conftest import FLUSHED_REDIS_URL


@pytest.fixture
def config(config, redis_db):
    """The tests' settings, with Redis at a database flushed around each test."""
    return replace(config, redis_url=FLUSHED_REDIS_URL)


@pytest.fixture
def ctx(app):
    """The app, with its application context pushed for the test."""
    with app.app_context():
        yield app


@pytest.fixture
def register(ctx):
    """Register a node with a fresh id through the registry; return the id."""
    from app.nodes.registration import register_node

    def register(**body) -> str:
        node_id = f"inproc-{uuid.uuid4().hex[:10]}"
        register_node({"id": node_id, "reasoners": [{"id": "plan"}], **body})
        return node_id

    return register


@pytest.fixture
def new_row(ctx):
    """Build a queued async execution row as dispatch does (not inserted)."""
    from app.models.types import utcnow

    def build(node_id: str = "inproc-node", **overrides) -> dict:
        now = utcnow()
        return {
            "execution_id": f"exec_{uuid.uuid4().hex}", "run_id": f"run_{uuid.uuid4().hex}",
            "parent_execution_id": None, "agent_node_id": node_id, "reasoner_id": "plan",
            "type": "reasoner", "status": "queued", "mode": "async",
            "input_payload": {"n": 1}, "context": None, "session_id": None,
            "actor_id": None, "attempt": 0, "created_at": now, "started_at": None,
            "updated_at": now, "result_payload": None, "error_message": None,
            "error_type": None, "completed_at": None, "duration_ms": None,
            "idempotency_key": None, "request_fingerprint": None, "has_webhook": False,
            **overrides,
        }

    return build


@pytest.fixture
def make_execution(new_row):
    """Insert a queued async execution through the executions store; return its row."""
    from app.executions.store import insert_execution

    def make(node_id: str = "inproc-node", **overrides) -> dict:
        row = new_row(node_id, **overrides)
        insert_execution(row)
        return row

    return make


@pytest.fixture
def sqlite_app(config, tmp_path):
    """The app on the embedded SQLite default (a file in ``tmp_path``), tables created."""
    from app import create_app
    from app.extensions import db

    app = create_app(replace(config, database_url=f"sqlite:///{tmp_path}/agentfield.db"))
    with app.app_context():
        db.create_all()
        yield app
        db.engine.dispose()
    app.extensions["autocommit_engine"].dispose()
    app.extensions["redis"].close()
    app.extensions["redis_blocking"].close()
