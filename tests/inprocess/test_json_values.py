"""Any JSON value round-trips as a result and as an input field, on both databases.

SQLite declares the column ``JSON`` (NUMERIC affinity): the text of a bare number used
to be turned into a number, which the decoder refused, and every read of the row (its
status, the listings, the sync answer) answered 500. Rows written that way, and values
that cannot be decoded at all, must read back without an error or a traceback.
"""

import logging
import uuid
from dataclasses import replace

import orjson
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.executions import lifecycle, store
from app.extensions import get_engine
from app.models.types import UNREADABLE, utcnow
from app.status import SUCCEEDED
from config import Config
from tests.conftest import API_KEY, FLUSHED_REDIS_URL, TEST_REPORTER, keyed_client

VALUES = [
    0, -7, 1.5, 18446744073709551615, -9223372036854775808, 1e300, 2.5e-300,
    "", "text", "5", "1.5", "null", "ünïcødé ✓ 𝄞 \u2028", True, False, None,
    [], {}, [1, "a", None, 2.5, {"b": [True, False]}],
    {"nested": {"deep": [1.5, {"x": "é", "n": 18446744073709551615}]}, "": None},
]
IDS = [orjson.dumps(v).decode()[:24] for v in VALUES]


def _sqlite_app(path):
    """The app on a fresh SQLite file, migrated (the embedded default's database)."""
    app = create_app(Config.from_env({"DATABASE_URL": f"sqlite:///{path}",
                                      "REDIS_URL": FLUSHED_REDIS_URL,
                                      "AGENTFIELD_CREDENTIALS": "0",
                                      "AGENTFIELD_API_KEY": API_KEY}))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def config(config):
    """No credentials: these nodes have no DIDs (not what these tests are about)."""
    return replace(config, credentials_enabled=False)


@pytest.fixture(params=["postgresql", "sqlite"])
def on_db(request, tmp_path, redis_db):
    """An app on each database, its context pushed."""
    if request.param == "sqlite":
        app = _sqlite_app(tmp_path / "values.db")
    else:
        app = request.getfixturevalue("app")
    with app.app_context():
        yield app


def _new_execution(input_payload) -> dict:
    now = utcnow()
    row = {
        "execution_id": f"exec_{uuid.uuid4().hex}", "run_id": f"run_{uuid.uuid4().hex}",
        "parent_execution_id": None, "agent_node_id": f"node-{uuid.uuid4().hex[:8]}",
        "reasoner_id": "plan", "type": "reasoner", "status": "running", "mode": "sync",
        "input_payload": input_payload, "context": None, "session_id": None,
        "actor_id": None, "attempt": 1, "created_at": now, "started_at": now,
        "updated_at": now, "result_payload": None, "error_message": None,
        "error_type": None, "completed_at": None, "duration_ms": None,
        "idempotency_key": None, "request_fingerprint": None, "has_webhook": False,
    }
    store.insert_execution(row)
    return row


def _same(read, expected) -> bool:
    """Equal as JSON, with the same types (1 is not 1.0, True is not 1)."""
    return (orjson.dumps(read, option=orjson.OPT_SORT_KEYS)
            == orjson.dumps(expected, option=orjson.OPT_SORT_KEYS))


def _answers(app, row: dict) -> list[dict]:
    """Every API answer that renders the row: status, both listings, batch status."""
    client = keyed_client(app)
    execution_id = row["execution_id"]
    answers = [
        client.get(f"/api/v1/executions/{execution_id}"),
        client.get(f"/api/v1/executions?node={row['agent_node_id']}"),
        client.get(f"/api/v1/executions?run_id={row['run_id']}"),
        client.post("/api/v1/executions/batch-status", json={"execution_ids": [execution_id]}),
    ]
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    status, by_node, by_run, batch = (a.get_json() for a in answers)
    assert by_node["executions"][0] == by_run["executions"][0] == status
    assert batch[execution_id] == status
    return [status, by_node["executions"][0], batch[execution_id]]


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_any_json_value_round_trips_as_result_and_input(on_db, value):
    row = _new_execution({"value": value, "list": [value]})

    finished = lifecycle.finish(row["execution_id"], {
        "status": SUCCEEDED, "result_payload": value, "completed_at": utcnow()},
            reporter=TEST_REPORTER)

    stored = store.fetch_execution(row["execution_id"])
    assert _same(finished["result_payload"], value)
    assert _same(stored["result_payload"], value)
    assert _same(stored["input_payload"], {"value": value, "list": [value]})
    for answer in _answers(on_db, row):
        assert _same(answer["result"], value)
        assert _same(answer["input"], {"value": value, "list": [value]})


@pytest.mark.parametrize("stored_text, reads_as", [
    ("5", 5), ("-3", -3), ("1.5", 1.5), ("1e300", 1e300),
    ("18446744073709551616", 1.8446744073709552e19),  # became REAL: already rounded
])
def test_numbers_stored_by_the_old_code_on_sqlite_read_back(tmp_path, redis_db,
                                                            stored_text, reads_as):
    app = _sqlite_app(tmp_path / "old.db")
    with app.app_context():
        row = _new_execution({"n": 1})
        # What the old code sent: the JSON text, which NUMERIC affinity made a number.
        with get_engine().connect() as conn:
            conn.execute(text("UPDATE executions SET status = 'succeeded', "
                              "result_payload = :v, input_payload = :v "
                              "WHERE execution_id = :id"),
                         {"v": stored_text, "id": row["execution_id"]})
            kind = conn.execute(text("SELECT typeof(result_payload) FROM executions "
                                     "WHERE execution_id = :id"),
                                {"id": row["execution_id"]}).scalar()
        assert kind in ("integer", "real")  # the broken form, as written before

        stored = store.fetch_execution(row["execution_id"])

        assert _same(stored["result_payload"], reads_as)
        assert _same(stored["input_payload"], reads_as)
        for answer in _answers(app, row):
            assert _same(answer["result"], reads_as)


def _store_unreadable(row: dict) -> str:
    """Write a value our decoder refuses: not JSON on SQLite, 1e400 in jsonb."""
    with get_engine().connect() as conn:
        if conn.dialect.name == "sqlite":
            raw, value = "{not json", "'{not json'"
        else:
            raw, value = "1" + "0" * 400, "'1e400'::jsonb"
        conn.execute(text(f"UPDATE executions SET status = 'succeeded', "
                          f"result_payload = {value} WHERE execution_id = :id"),
                     {"id": row["execution_id"]})
    return raw


def test_a_value_that_cannot_be_decoded_reads_as_a_marker_logged_once(on_db, caplog):
    row = _new_execution({"n": 1})
    raw = _store_unreadable(row)
    caplog.set_level(logging.INFO)
    # Migrating a SQLite app in this process ran alembic's fileConfig, which disables
    # the loggers that existed then.
    logging.getLogger("app.models.types").disabled = False

    stored = store.fetch_execution(row["execution_id"])
    answers = [answer for _ in range(5) for answer in _answers(on_db, row)]

    marker = {"error": UNREADABLE, "stored": raw[:200]}
    assert stored["result_payload"] == marker
    assert all(answer["result"] == marker for answer in answers)
    assert all(answer["input"] == {"n": 1} for answer in answers)
    # One warning for the value, none per request, and never a traceback.
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and "cannot be decoded" in records[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
