"""Closed by default: the web entry point refuses to serve while no key could
authenticate, and ``AGENTFIELD_AUTH_DISABLED=1`` opens everything (and issues no
credential).

The entry point is loaded as gunicorn loads it, in a process of its own, on a fresh
SQLite database (other tests create active keys in the shared PostgreSQL one). The
off switch is tested in process, on the shared services.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, SETTINGS

REFUSAL = "no API key is configured, so no one could use this server: set AGENTFIELD_API_KEY"
_SECRET = secrets.token_urlsafe(32)  # so no development secret is written in the checkout


def _environment(database_url: str, **extra: str) -> dict:
    """The settings of the tests, minus every key, on ``database_url``."""
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith("AGENTFIELD_")}
    settings = {name: value for name, value in SETTINGS.items()
                if name != "AGENTFIELD_API_KEY"}
    return {**inherited, **settings, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
            "AGENTFIELD_SECRET_KEY": _SECRET, **extra}


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _load_entry_point(env: dict) -> subprocess.CompletedProcess:
    """Import ``app.wsgi`` as ``gunicorn app.wsgi:application`` does."""
    return subprocess.run([sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@dataclass
class Deployment:
    """A control plane's database and environment (kept out of failure reports)."""

    database_url: str
    env: dict = field(repr=False)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    """A control plane on a fresh, migrated SQLite database, with no key anywhere."""
    database_url = f"sqlite:///{tmp_path}/agentfield.db"
    env = _environment(database_url)
    migrated = _flask(env, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return Deployment(database_url, env)


def _create_key(env: dict, *options: str) -> str:
    created = _flask(env, "keys", "create", "--name", "ops", "--scope", "admin",
                     "--token-only", *options)
    assert created.returncode == 0, created.stderr[-3000:]
    return created.stdout.strip()


# -- the entry point --------------------------------------------------------------------

def test_without_any_key_the_entry_point_refuses_to_load(deployment):
    loaded = _load_entry_point(deployment.env)

    assert loaded.returncode != 0
    assert f"ConfigError: {REFUSAL}" in loaded.stderr


def test_with_authentication_off_it_loads_and_says_so(deployment):
    loaded = _load_entry_point({**deployment.env, "AGENTFIELD_AUTH_DISABLED": "1"})

    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "AUTHENTICATION IS OFF (AGENTFIELD_AUTH_DISABLED=1)" in loaded.stderr


@pytest.mark.parametrize("lifetime", [[], ["--expires-in", "3600"]], ids=["forever", "1h"])
def test_an_active_key_in_the_database_is_enough(deployment, lifetime):
    _create_key(deployment.env, *lifetime)

    loaded = _load_entry_point(deployment.env)

    assert loaded.returncode == 0, loaded.stderr[-3000:]


@pytest.mark.parametrize("ended", ["revoked", "expired"])
def test_a_key_that_no_longer_works_is_not_enough(deployment, ended):
    # Given only a key that can no longer authenticate
    env = deployment.env
    if ended == "revoked":
        key_id = _create_key(env).split("_")[1]
        assert _flask(env, "keys", "revoke", key_id).returncode == 0
    else:
        _create_key(env, "--expires-in", "1")
        time.sleep(1.5)
    assert f"\t{ended}\t" in _flask(env, "keys", "list").stdout

    # Then the server would answer 401 to everyone: it refuses to start instead
    loaded = _load_entry_point(env)

    assert loaded.returncode != 0
    assert f"ConfigError: {REFUSAL}" in loaded.stderr


# -- gunicorn ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(env: dict, tmp_path: Path) -> tuple[subprocess.Popen, str, Path]:
    """Start the web process as the Procfile does, on loopback; return it, its URL, log."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "app.wsgi:application"],
            cwd=ROOT, env={**env, "PORT": str(port), "AGENTFIELD_HOST": "127.0.0.1",
                           "WEB_CONCURRENCY": "2",
                           # its workers' report consumers read a stream of their own
                           "AGENTFIELD_NAMESPACE": f"secure-{secrets.token_hex(4)}"},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}", log


def _served(url: str) -> bool:
    try:
        return requests.get(url + "/api/v1/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def test_gunicorn_halts_instead_of_serving_without_a_key(deployment, tmp_path):
    process, url, log = _gunicorn(deployment.env, tmp_path)
    try:
        served = False
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            served = served or _served(url)
            time.sleep(0.2)
        exit_code = process.poll()
    finally:
        _stop(process)

    output = log.read_text(errors="replace")
    assert (exit_code not in (None, 0), served) == (True, False), output[-3000:]
    # A worker that cannot boot exits with 3 and gunicorn halts (when both workers fail
    # at once, gunicorn 27 halts with a HaltServer traceback instead of its "Reason:").
    assert REFUSAL in output and "exited with code 3." in output, output[-3000:]


def test_gunicorn_serves_once_a_key_is_set(deployment, tmp_path):
    # The same command, with the server's key: the refusal above is the key's doing.
    process, url, log = _gunicorn({**deployment.env, "AGENTFIELD_API_KEY": "a-key"},
                                  tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not _served(url) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        served, still_running = _served(url), process.poll() is None
    finally:
        _stop(process)

    assert served and still_running, log.read_text(errors="replace")[-3000:]


def test_the_access_log_never_holds_a_key_sent_in_the_query(deployment, tmp_path):
    access = tmp_path / "access.log"
    env = {**deployment.env, "AGENTFIELD_API_KEY": "a-key-in-the-query",
           "AGENTFIELD_ACCESS_LOG": str(access)}
    process, url, log = _gunicorn(env, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not _served(url) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        answer = requests.get(url + "/api/v1/nodes", params={"api_key": "a-key-in-the-query"},
                              timeout=10)
    finally:
        _stop(process)

    written = access.read_text(errors="replace")
    assert answer.status_code == 200, log.read_text(errors="replace")[-3000:]
    assert '"GET /api/v1/nodes HTTP/1.1" 200' in written, written
    assert "a-key-in-the-query" not in written


# -- authentication off -----------------------------------------------------------------

@pytest.fixture
def config(config):
    """The tests' settings with authentication off and no server key."""
    return replace(config, auth_disabled=True, api_key=None)


def test_with_authentication_off_anyone_may_call_anything(anonymous_client, register):
    node = register()

    listed = anonymous_client.get("/api/v1/nodes")
    queued = anonymous_client.post(f"/api/v1/execute/async/{node}.plan",
                                   json={"input": {"n": 1}})
    keys = anonymous_client.get("/api/v1/admin/keys")

    assert (listed.status_code, queued.status_code, keys.status_code) == (200, 202, 200)
    assert node in {n["id"] for n in listed.get_json()["nodes"]}


def test_with_authentication_off_an_outcome_gets_no_credential(anonymous_client, register,
                                                               ctx):
    from app.credentials import issue_for_execution
    from app.executions import store

    node = register()
    execution_id = anonymous_client.post(f"/api/v1/execute/async/{node}.plan",
                                         json={"input": {"n": 1}}).get_json()["execution_id"]

    reported = anonymous_client.post(f"/api/v1/executions/{execution_id}/status",
                                     json={"status": "succeeded", "result": {"ok": True}})

    assert reported.get_json()["status"] == "succeeded"
    row = store.fetch_execution(execution_id)
    assert (row["status"], row["key_id"], row["reported_by"]) == ("succeeded", None, None)
    assert issue_for_execution(execution_id) is None
    credential = anonymous_client.get(f"/api/v1/executions/{execution_id}/credential")
    assert (credential.status_code, credential.get_json()["error"]) == (
        404, "credential_not_found")
