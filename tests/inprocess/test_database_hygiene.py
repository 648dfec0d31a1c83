"""What the database leaves behind outside itself: its files' mode, and the logs."""

import io
import logging
import os
import stat

import pytest
import sqlalchemy.exc

from tests.conftest import keyed_client

SECRET = "sk-live-4f9a1c7e-do-not-log"


def test_the_sqlite_file_and_its_wal_are_readable_by_their_owner_only(sqlite_app, tmp_path):
    from app.executions.store import count_running

    count_running("any-node")  # a read through the autocommit engine opens the WAL

    modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode)
             for name in ("agentfield.db", "agentfield.db-wal", "agentfield.db-shm")}
    assert modes == {"agentfield.db": 0o600, "agentfield.db-wal": 0o600,
                     "agentfield.db-shm": 0o600}


def test_an_existing_world_readable_sqlite_file_is_tightened(config, tmp_path):
    from dataclasses import replace

    from app import create_app

    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)

    app = create_app(replace(config, database_url=f"sqlite:///{path}"))

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    app.extensions["autocommit_engine"].dispose()
    app.extensions["redis"].close()
    app.extensions["redis_blocking"].close()


@pytest.fixture
def failing_insert(ctx, new_row):
    """A route that writes an execution the database refuses (status too long)."""
    from app.executions.store import insert_execution

    def insert():
        insert_execution(new_row(status="x" * 40, input_payload={"api_key": SECRET}))
        return {}

    ctx.add_url_rule("/test/failing-insert", "failing_insert", insert)
    return keyed_client(ctx)


def test_a_database_error_is_logged_without_the_statement_s_parameters(failing_insert,
                                                                       monkeypatch):
    # Read the error handler's logger directly: a Celery worker started by an earlier
    # test may have reconfigured the root logger that caplog listens on.
    logger, written = logging.getLogger("app.errors"), io.StringIO()
    handler = logging.StreamHandler(written)
    monkeypatch.setattr(logger, "disabled", False)
    logger.addHandler(handler)
    try:
        response = failing_insert.get("/test/failing-insert")
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_error",
                                   "message": "internal server error"}
    assert "value too long" in written.getvalue() and SECRET not in written.getvalue()


def test_neither_engine_puts_parameters_in_its_errors(ctx, new_row):
    from sqlalchemy import insert

    from app.executions.store import executions, insert_execution
    from app.extensions import db

    row = new_row(status="x" * 40, input_payload={"api_key": SECRET})
    with pytest.raises(sqlalchemy.exc.DataError) as autocommit_error:
        insert_execution(row)
    with pytest.raises(sqlalchemy.exc.DataError) as session_error:
        db.session.execute(insert(executions), row)
    db.session.rollback()

    assert SECRET not in str(autocommit_error.value)
    assert SECRET not in str(session_error.value)
