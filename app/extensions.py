"""Extension objects and their wiring: SQLAlchemy, Redis, Celery."""

import os
from contextlib import contextmanager
from pathlib import Path

import orjson
import redis
from celery import Celery, Task
from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, event
from sqlalchemy.orm import DeclarativeBase

from app.broker.celery_settings import celery_settings
from app.broker.keys import Keys
from config import Config
from memory import MemoryStore


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def init_db(app: Flask, config: Config) -> None:
    """Bind SQLAlchemy and keep an autocommit engine for single-statement hot paths."""
    app.config["SQLALCHEMY_DATABASE_URI"] = config.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(config)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        if config.is_sqlite:
            _create_private(db.engine.url.database)
            event.listen(db.engine, "connect", _sqlite_pragmas)
        # One statement = one round trip: no BEGIN/COMMIT pair around it. A separate
        # pool whose connections stay in autocommit: an engine derived with
        # execution_options() would switch the level on every checkout and back.
        # No pre-ping here (it costs a round trip per checkout); a connection found
        # dead fails that one statement and SQLAlchemy then drops the whole pool.
        options = {**_engine_options(config), "pool_pre_ping": False}
        if not config.is_sqlite:
            options["pool_recycle"] = 1800
        engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT",
                               pool_reset_on_return=None, **options)
        if config.is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        app.extensions["autocommit_engine"] = engine


def _create_private(path: str | None) -> None:
    """Create the SQLite file readable by its owner only (0600), before SQLite opens it.

    It holds every execution's input and result. SQLite gives the -wal and -shm files
    the database file's mode, so they follow; an existing file is tightened as well.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers and one writer work at once (web threads, control worker).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _engine_options(config: Config) -> dict:
    # Here, not at the top: app.models imports this module.
    from app.models.types import load_json

    options = {
        # A failed statement's message must not carry execution inputs and results
        # into the logs: SQLAlchemy then shows the SQL without its parameters.
        "hide_parameters": True,
        "json_serializer": lambda obj: orjson.dumps(obj).decode(),
        "json_deserializer": load_json,  # never raises on a value it cannot decode
    }
    if config.is_sqlite:
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        options.update(pool_size=20, max_overflow=20, pool_pre_ping=True)
    return options


def init_redis(app: Flask, config: Config) -> None:
    """Create the Redis clients: one for quick commands, one for long blocking waits."""
    url = config.redis_url or "redis://127.0.0.1:6379/0"
    app.extensions["redis"] = redis.Redis.from_url(
        url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
    )
    # BLPOP waits up to sync_wait_slice seconds; the socket must outlast it
    # (redis-py's default socket_timeout would cut a long wait short).
    app.extensions["redis_blocking"] = redis.Redis.from_url(
        url,
        socket_timeout=config.sync_wait_slice + 10,
        socket_connect_timeout=5,
        max_connections=512,
    )
    app.extensions["keys"] = Keys(config.namespace)
    app.extensions["memory_store"] = MemoryStore(
        app.extensions["redis"], config.namespace,
        max_value_bytes=config.max_memory_value_bytes)
    # SSE readers block for seconds at a time: they use the long-timeout client.
    app.extensions["memory_store_blocking"] = MemoryStore(
        app.extensions["redis_blocking"], config.namespace,
        max_value_bytes=config.max_memory_value_bytes)


def init_celery(app: Flask, config: Config) -> Celery:
    """Build the Celery app inside the factory (the Flask examples/celery pattern).

    Every task runs inside this app's context, so task bodies need no preamble.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(celery_settings(config))
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def get_blocking_redis() -> redis.Redis:
    return current_app.extensions["redis_blocking"]


def get_engine():
    """Return the autocommit engine used for single-statement reads and writes."""
    return current_app.extensions["autocommit_engine"]


def get_config() -> Config:
    return current_app.extensions["agentfield_config"]


def get_keys() -> Keys:
    """Return the Redis key builder for this app's namespace."""
    return current_app.extensions["keys"]


@contextmanager
def connection(conn=None):
    """Use the given connection, or borrow one from the autocommit engine."""
    if conn is not None:
        yield conn
        return
    with get_engine().connect() as borrowed:
        yield borrowed
