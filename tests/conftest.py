"""Fixtures: real PostgreSQL, Redis, a gunicorn control plane and Celery agent workers.

Two chains share one migrated database (flaskr's shape):

    migrated_database -> config -> app -> client     in-process, no agents
    migrated_database -> stack -> api                gunicorn, control worker, agents

``redis_db`` is a Redis database of its own, flushed before and after each test (the
stack's database cannot be: its processes keep queues and the report stream there).

Services come from TEST_DATABASE_URL, TEST_REDIS_URL and TEST_FLUSHED_REDIS_URL. An
unreachable service skips the suite locally but fails it when CI is set (a skip is not a
pass there).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import redis
import requests

from tests.services import checkout_database_name, redis_urls

ROOT = Path(__file__).resolve().parent.parent
# Named after this checkout, and a Redis server of this run's own (tests/services.py), so
# two checkouts on one machine never drop or flush each other's data.
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or (
    "postgresql://postgres@127.0.0.1:5432/" + checkout_database_name(ROOT))
# The stack's database, and one flushed around each test that asks for it.
REDIS_URL, FLUSHED_REDIS_URL = redis_urls(ROOT)
NAMESPACE = "aftest"
# The server's single full-access key (AgentField's form); the stack's agents hold it
# too unless a test gives one a node key of its own.
API_KEY = "test-full-access-key"
AUTH = {"X-API-Key": API_KEY}


def _test_reporter():
    from app.executions.lifecycle import Reporter

    return Reporter("key:env")


# Who the tests that apply reports directly say they are: the full-access key.
TEST_REPORTER = _test_reporter()


def signed(fields: dict, api_key: str = API_KEY) -> dict:
    """A report-stream entry signed with ``api_key``, as an agent holding it signs."""
    from app.auth.tokens import key_id_of, report_signature, report_signing_key

    report = fields["report"]
    report = report if isinstance(report, bytes) else report.encode()
    execution_id = fields["execution_id"]
    execution_id = execution_id if isinstance(execution_id, str) else execution_id.decode(
        errors="replace")
    return {**fields, "key": key_id_of(api_key),
            "sig": report_signature(report_signing_key(api_key), execution_id, report)}
# The control plane's settings in the tests, for the stack's processes and in-process apps.
SETTINGS = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "AGENTFIELD_NAMESPACE": NAMESPACE,
    "AGENTFIELD_API_KEY": API_KEY,
    "AGENTFIELD_HEARTBEAT_INTERVAL": "1",
    "AGENTFIELD_NODE_INACTIVE_AFTER": "3",
    "AGENTFIELD_SYNC_TIMEOUT": "30",
    "AGENTFIELD_SYNC_WAIT_SLICE": "2",
    "AGENTFIELD_NODE_CACHE_SECONDS": "0.5",
    "AGENTFIELD_REPORT_CLAIM_IDLE_MS": "1000",
    "AGENTFIELD_IDEMPOTENCY_TTL": "4",
    # Webhook receivers in the tests listen on loopback; retries are quick.
    "AGENTFIELD_WEBHOOK_ALLOW_PRIVATE": "1",
    "AGENTFIELD_WEBHOOK_RETRY_BASE": "0.2",
    "AGENTFIELD_WEBHOOK_RETRY_CAP": "1",
    "AGENTFIELD_WEBHOOK_MAX_ATTEMPTS": "4",
    "AGENTFIELD_WEBHOOK_TIMEOUT": "3",
    # Tests fail executions on purpose; only nodes that ask for a tighter
    # breaker (limits.circuit_*) trip on failures.
    "AGENTFIELD_CIRCUIT_FAILURE_RATE": "1.0",
    "AGENTFIELD_CIRCUIT_MIN_CALLS": "20",
}


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI requires it)", pytrace=False)
    pytest.skip(message)


def _ensure_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    try:
        conn = psycopg2.connect(base + "/postgres")
    except psycopg2.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:  # start from an empty schema; migrations build it
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The running system: control plane URL, processes, and their environment."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **SETTINGS,
            "PORT": str(self.port),
            "AGENTFIELD_SERVER": self.url,
            "AGENTFIELD_CANCEL_GRACE": "1",  # read by the agents
            "TEST_COUNTER_REDIS_URL": REDIS_URL,
            "WEB_CONCURRENCY": "2",
        }

    def start(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env},
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = process
        return process

    def start_control_worker(self, **env) -> subprocess.Popen:
        """The control queue's worker (sweeps, recovery), as the Procfile runs it."""
        return self._start_worker("control", **env)

    def start_webhooks_worker(self, **env) -> subprocess.Popen:
        """The webhooks queue's worker (deliveries), as the Procfile runs it."""
        return self._start_worker("webhooks", **env)

    def _start_worker(self, queue: str, **env) -> subprocess.Popen:
        return self.start(queue, [sys.executable, "-m", "celery", "-A", "tasks.worker:celery",
                                  "worker", "-Q", queue, "-P", "threads", "-c", "4",
                                  "--without-gossip", "--without-mingle", "-n",
                                  f"{queue}-{time.monotonic_ns()}@test", "-l", "info"], **env)

    def start_agent(self, name: str, script: str, **env) -> subprocess.Popen:
        return self.start(name, [sys.executable, script], **env)

    def stop(self, name: str, sig=signal.SIGTERM, timeout: float = 20) -> int:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def stop_all(self) -> None:
        """Send SIGTERM to everything at once, then wait (agents first, web last)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name in sorted(self.processes, key=lambda n: n == "web"):
            started = time.monotonic()
            self.stop(name)
            if time.monotonic() - started > 5:
                print(f"{name} took {time.monotonic() - started:.1f}s to stop")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def wait_until(self, check, timeout: float = 30, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = check()
                if value:
                    return value
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; logs in {self.log_dir}")


AGENTS = {
    "sentiment-agent": ("examples/sentiment_agent.py", {}),
    "support-agent": ("examples/support_agent.py", {}),
    # Two instances with one thread each: they share agent.echo-agent, and same-node
    # nesting three deep must still finish.
    "echo-agent": ("tests/agents/echo_agent.py", {"AGENTFIELD_CONCURRENCY": "1"}),
    "echo-agent-2": ("tests/agents/echo_agent.py", {"AGENTFIELD_CONCURRENCY": "1"}),
    "relay-agent": ("tests/agents/relay_agent.py", {}),
    "memory-agent": ("tests/agents/memory_agent.py", {}),
}


@pytest.fixture(scope="session")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return client


@pytest.fixture(scope="session")
def migrated_database():
    """The test database, emptied and migrated (``flask db upgrade``) once per session.

    Under CI the checkout's database is dropped at the end (each CI run is a new
    checkout, so its name is new too); locally it stays for a look after a failure.
    """
    _ensure_database(DATABASE_URL)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **SETTINGS}
    migrated = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    if migrated.returncode != 0:  # say why: the migration's own message, not just "1"
        pytest.fail(f"flask db upgrade failed on {DATABASE_URL}:\n"
                    f"{(migrated.stderr or migrated.stdout)[-3000:]}", pytrace=False)
    yield DATABASE_URL
    if os.environ.get("CI") and not os.environ.get("TEST_DATABASE_URL"):
        _drop_database(DATABASE_URL)


def _drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def config(migrated_database):
    """The settings the stack runs with, for an in-process app on the same services."""
    from config import Config

    return Config.from_env(SETTINGS)


@pytest.fixture
def app(config):
    """The control plane as a Flask app in this process (no gunicorn, no agents)."""
    from app import create_app
    from app.extensions import db

    app = create_app(config)
    yield app
    with app.app_context():  # give the connections back now, not at garbage collection
        db.engine.dispose()
    app.extensions["autocommit_engine"].dispose()
    app.extensions["redis"].close()
    app.extensions["redis_blocking"].close()


def keyed_client(app):
    """A test client of ``app`` that sends the full-access key."""
    client = app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = API_KEY
    return client


@pytest.fixture
def client(app):
    """A test client that sends the full-access key (``anonymous_client`` sends none)."""
    return keyed_client(app)


@pytest.fixture
def anonymous_client(app):
    return app.test_client()


@pytest.fixture
def redis_db():
    """A Redis database of the test's own, flushed before and after it."""
    client = redis.Redis.from_url(FLUSHED_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        _unavailable("Redis", exc)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, redis_client, migrated_database):
    """Start gunicorn, the control worker and the agents; stop them at the end."""
    redis_client.flushdb()
    stack = Stack(tmp_path_factory.mktemp("stack-logs"))
    stack.start("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                        "app.wsgi:application"])
    stack.wait_until(lambda: requests.get(stack.url + "/api/v1/health", timeout=2).ok,
                     what="the control plane")
    stack.start_control_worker()
    stack.start_webhooks_worker()
    for name, (script, env) in AGENTS.items():
        stack.start_agent(name, script, **env)
    for node in ("sentiment-agent", "support-agent", "echo-agent", "relay-agent"):
        stack.wait_until(lambda node=node: requests.get(f"{stack.url}/api/v1/nodes/{node}",
                                                        headers=AUTH).ok,
                         what=f"{node} to register")
    yield stack
    stack.stop_all()


class Api:
    """A requests session bound to the control plane's base URL."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(AUTH)

    def __getattr__(self, method):
        def call(path, **kwargs):
            kwargs.setdefault("timeout", 60)
            return self.session.request(method.upper(), self.base_url + path, **kwargs)
        return call

    def execute(self, target: str, data: dict, **kwargs) -> requests.Response:
        return self.post(f"/api/v1/execute/{target}", json={"input": data}, **kwargs)

    def wait_for_status(self, execution_id: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.get(f"/api/v1/executions/{execution_id}").json()
            if body["status"] in ("succeeded", "failed", "cancelled", "timeout"):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{execution_id} did not finish in {timeout}s")


@pytest.fixture(scope="session")
def api(stack) -> Api:
    api = Api(stack.url)
    # Warm every queue: each node's worker has consumed at least one message.
    for target, data in [("sentiment-agent.analyze", {"text": "warm"}),
                         ("echo-agent.noop", {"value": 1}),
                         ("relay-agent.start", {"text": "warm"}),
                         ("support-agent.triage_ticket", {"ticket": {"message": "hi"}})]:
        response = api.execute(target, data)
        assert response.status_code == 200, (target, response.text, stack.log_dir)
    return api


def count_executions() -> int:
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM executions")
            return cur.fetchone()[0]
    finally:
        conn.close()
