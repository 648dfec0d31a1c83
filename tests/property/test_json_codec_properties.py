"""The JSON codec: any JSON value a caller sends comes back equal from the executions
table, on PostgreSQL (JSONB) and on SQLite (the embedded default)."""

import uuid

import pytest
from flask_migrate import upgrade
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DataError

from app import create_app
from app.executions import store
from app.models.types import utcnow
from config import Config
from tests.conftest import FLUSHED_REDIS_URL
from tests.property.strategies import JSON_DOCUMENT, NUMBERS, TEXT, json_equal

POSTGRES_NUL = (
    "PostgreSQL's JSONB cannot hold U+0000 in a string (unsupported Unicode escape "
    "sequence): a fact of the database, so the API refuses such values before they reach "
    "the store (400 invalid_json_value on bodies, result_not_storable on reports)")


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("codec") / "codec.db"
    app = create_app(Config.from_env({"DATABASE_URL": f"sqlite:///{path}",
                                      "REDIS_URL": FLUSHED_REDIS_URL}))
    with app.app_context():
        upgrade()
    yield app
    app.extensions["autocommit_engine"].dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request):
    """An app context on the migrated PostgreSQL database, or on a migrated SQLite file."""
    app = request.getfixturevalue("app" if request.param == "postgresql" else "sqlite_app")
    with app.app_context():
        yield request.param


def _round_trips(value) -> bool:
    """Store value as an execution's input and result; True if both read back equal."""
    now = utcnow()
    execution_id = f"exec_{uuid.uuid4().hex}"
    store.insert_execution({
        "execution_id": execution_id, "run_id": f"run_{uuid.uuid4().hex}",
        "parent_execution_id": None, "agent_node_id": "codec-node", "reasoner_id": "f",
        "type": "reasoner", "status": "queued", "mode": "async", "input_payload": value,
        "context": None, "session_id": None, "actor_id": None, "attempt": 0,
        "created_at": now, "started_at": None, "updated_at": now, "result_payload": None,
        "error_message": None, "error_type": None, "completed_at": None,
        "duration_ms": None, "idempotency_key": None, "request_fingerprint": None,
        "has_webhook": False,
    })
    store.update_execution(execution_id, True, {"result_payload": value})
    row = store.fetch_execution(execution_id)
    return json_equal(row["input_payload"], value) and json_equal(row["result_payload"], value)


@given(value=JSON_DOCUMENT)
def test_any_json_document_round_trips(database, value):
    assert _round_trips(value)


def _xfail(param: str, reason: str, raises: type[Exception]):
    """Fails today with exactly this exception; flips (strict) when the fix merges."""
    return pytest.param(param, marks=pytest.mark.xfail(strict=True, reason=reason,
                                                       raises=raises))


@pytest.mark.parametrize("database", [
    "postgresql", "sqlite"], indirect=True)
@given(value=NUMBERS)
def test_a_bare_number_round_trips(database, value):
    assert _round_trips(value)


@pytest.mark.parametrize("database", [
    _xfail("postgresql", POSTGRES_NUL, DataError), "sqlite"], indirect=True)
@given(value=st.tuples(TEXT, TEXT).map(lambda parts: {"text": "\x00".join(parts)}))
def test_a_string_holding_u0000_round_trips(database, value):
    assert _round_trips(value)
