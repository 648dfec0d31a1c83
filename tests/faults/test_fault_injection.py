"""Fault injection: kill workers, restart the control worker and web, lose the queue,
burst past a limit. Nothing accepted may be lost, and nothing may run to completion twice.

Each scenario adds a row (submitted, completed, lost, duplicated) to
``.run/fault-table.md``. The recovery sweeps run as beat would run them: as tasks on
the control worker (``tasks.recover_stuck_executions``), with short thresholds.
"""

import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import psycopg2
import pytest
import requests
from celery import Celery

from tests.conftest import AUTH, DATABASE_URL, REDIS_URL, ROOT
from tests.webhook_receiver import Receiver

CRASH = "tests/agents/crash_agent.py"
TERMINAL = ("succeeded", "failed", "cancelled", "timeout")
_rows: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def fault_table():
    yield
    table = ROOT / ".run" / "fault-table.md"
    table.parent.mkdir(exist_ok=True)
    table.write_text("| scenario | submitted | completed | lost | duplicated |\n"
                     "|---|---|---|---|---|\n" + "".join(_rows))


def _row(scenario, submitted, completed, lost, duplicated):
    _rows.append(f"| {scenario} | {submitted} | {completed} | {lost} | {duplicated} |\n")


@pytest.fixture(scope="module")
def crash_agents(stack, api):
    """Two instances of crash-agent, one thread each, with a 2 s lease."""
    for name in ("crash-agent", "crash-agent-2"):
        _start_crash_agent(stack, name)
    _wait_live(stack, api, "crash-agent")
    yield stack
    for name in ("crash-agent", "crash-agent-2"):
        if name in stack.processes:
            stack.stop(name)


def _start_crash_agent(stack, name):
    stack.start_agent(name, CRASH, FAULT_NODE_ID="crash-agent", AGENTFIELD_CONCURRENCY="1",
                      AGENTFIELD_LEASE_SECONDS="2")


def _wait_live(stack, api, node_id):
    def closed():
        body = api.get(f"/api/v1/nodes/{node_id}").json()
        return body.get("health_status") == "active" and body["circuit"]["state"] != "open"
    stack.wait_until(closed, timeout=30, what=f"{node_id} to be live")


def _control_task(name: str, **kwargs) -> None:
    client = Celery(broker=REDIS_URL)
    try:
        client.send_task(name, kwargs=kwargs, queue="control")
    finally:
        client.close()


def _status(api, execution_id) -> dict:
    return api.get(f"/api/v1/executions/{execution_id}").json()


def _wait_all_terminal(api, ids, timeout=60, sweep=False) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    pending, done = set(ids), {}
    next_sweep = time.monotonic() + 2
    while pending and time.monotonic() < deadline:
        body = api.post("/api/v1/executions/batch-status",
                        json={"execution_ids": sorted(pending)[:500]}).json()
        for execution_id, status in body.items():
            if status["status"] in TERMINAL:
                done[execution_id] = status
                pending.discard(execution_id)
        if sweep and time.monotonic() > next_sweep:
            _control_task("tasks.recover_stuck_executions", queued_older_than=2, lease_grace=0)
            next_sweep = time.monotonic() + 2
        time.sleep(0.2)
    return done


def _counts(redis_client, keys) -> tuple[int, int]:
    """(runs started, runs finished) summed over the keys."""
    pipe = redis_client.pipeline()
    for key in keys:
        pipe.get(f"{key}:runs")
        pipe.get(f"{key}:done")
    values = [int(v or 0) for v in pipe.execute()]
    return sum(values[0::2]), sum(values[1::2])


def test_kill_9_of_a_worker_mid_run_finishes_once_on_the_other_instance(
        api, crash_agents, redis_client):
    key = f"kill-{uuid.uuid4().hex}"
    accepted = api.post("/api/v1/execute/async/crash-agent.work",
                        json={"input": {"key": key, "seconds": 3}}).json()
    pid = int(crash_agents.wait_until(lambda: redis_client.get(f"{key}:pid"), timeout=15,
                                      what="the run to start"))
    crash_agents.wait_until(
        lambda: _status(api, accepted["execution_id"])["status"] == "running", timeout=10,
        what="the execution to be running")
    victim = next(name for name, process in crash_agents.processes.items()
                  if process.pid == pid)
    crash_agents.stop(victim, signal.SIGKILL)

    [done] = _wait_all_terminal(api, [accepted["execution_id"]], sweep=True).values()

    runs, finished = _counts(redis_client, [key])
    assert done["status"] == "succeeded" and done["attempt"] == 2, done
    assert int(redis_client.get(f"{key}:pid")) != pid  # the other instance
    assert (runs, finished) == (2, 1)  # started twice (the kill), finished once
    _row("kill -9 of the worker running a 3 s reasoner (2 instances)", 1, 1, 0, finished - 1)
    _start_crash_agent(crash_agents, victim)
    _wait_live(crash_agents, api, "crash-agent")


def _lose_queued_work(api, agents, redis_client, count: int, lose) -> tuple[list, dict]:
    """Queue ``count`` executions with no worker up, call ``lose()``, start the workers
    again and wait (sweeping as beat would); return the run keys and the final rows."""
    for name in ("crash-agent", "crash-agent-2"):
        agents.stop(name)  # nobody consumes: the work waits in the queue
    keys = [f"lost-{uuid.uuid4().hex}" for _ in range(count)]
    accepted = [api.post("/api/v1/execute/async/crash-agent.work", json={"input": {"key": k}},
                         headers={"X-Queue-If-Unavailable": "true"}) for k in keys]
    assert [a.status_code for a in accepted] == [202] * count
    assert redis_client.llen("agent.crash-agent") == count
    lose()
    for name in ("crash-agent", "crash-agent-2"):
        _start_crash_agent(agents, name)
    ids = [a.json()["execution_id"] for a in accepted]
    return keys, _wait_all_terminal(api, ids, sweep=True)


def test_a_flushed_queue_is_recovered_by_the_reconciler(api, crash_agents, redis_client):
    keys, done = _lose_queued_work(api, crash_agents, redis_client, 40,
                                   lambda: redis_client.delete("agent.crash-agent"))

    runs, finished = _counts(redis_client, keys)
    assert [s["status"] for s in done.values()].count("succeeded") == 40
    assert (runs, finished) == (40, 40)
    _row("broker queue deleted with 40 executions queued", 40, len(done), 40 - len(done),
         finished - 40)


def test_a_flushed_redis_database_is_recovered(api, crash_agents, redis_client):
    """FLUSHDB is what a Redis restart without persistence leaves: no queues, no report
    stream or consumer groups, no leases, no circuit state."""
    keys, done = _lose_queued_work(api, crash_agents, redis_client, 30, redis_client.flushdb)

    runs, finished = _counts(redis_client, keys)
    assert [s["status"] for s in done.values()].count("succeeded") == 30
    assert (runs, finished) == (30, 30)
    # The report stream's consumer group was recreated: a new call completes as usual.
    assert api.execute("crash-agent.work", {"key": f"after-{uuid.uuid4().hex}"}
                       ).json()["status"] == "succeeded"
    _row("Redis database flushed (FLUSHDB) with 30 executions queued", 30, len(done),
         30 - len(done), finished - 30)


def test_restarting_web_during_an_async_burst_loses_no_accepted_request(
        api, crash_agents, redis_client):
    keys = [f"web-{uuid.uuid4().hex}" for _ in range(300)]
    accepted, refused = {}, []
    lock = threading.Lock()
    session = requests.Session()
    session.headers.update(AUTH)

    def submit(key):
        try:
            response = session.post(f"{crash_agents.url}/api/v1/execute/async/crash-agent.work",
                                    json={"input": {"key": key}}, timeout=10)
        except requests.RequestException:
            with lock:
                refused.append(key)
            return
        with lock:
            if response.status_code == 202:
                accepted[key] = response.json()["execution_id"]
            else:
                refused.append(key)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(submit, key) for key in keys]
        while len(accepted) < 80:
            time.sleep(0.01)
        crash_agents.stop("web", signal.SIGKILL)
        crash_agents.start("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                   "app.wsgi:application"])
        for future in futures:
            future.result()
    crash_agents.wait_until(lambda: api.get("/api/v1/health").ok, what="web to come back")

    done = _wait_all_terminal(api, list(accepted.values()), sweep=True)

    assert len(done) == len(accepted) and refused, (len(done), len(accepted), len(refused))
    assert all(s["status"] == "succeeded" for s in done.values())
    runs, finished = _counts(redis_client, accepted)
    assert finished == len(accepted)
    _row(f"web killed (-9) and restarted during 300 async submissions "
         f"({len(refused)} got no 202)", len(accepted), len(done),
         len(accepted) - len(done), finished - len(accepted))


def test_a_burst_of_1000_against_a_limit_of_50_gets_only_202_and_429(
        stack, api, redis_client):
    stack.start_agent("fault-agent", CRASH, FAULT_NODE_ID="fault-agent", FAULT_MAX_QUEUED="50",
                      AGENTFIELD_CONCURRENCY="2")
    try:
        _wait_live(stack, api, "fault-agent")
        keys = [f"burst-{uuid.uuid4().hex}" for _ in range(1000)]
        session = requests.Session()
        session.headers.update(AUTH)
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=16)
        session.mount("http://", adapter)

        def submit(key):
            response = session.post(f"{stack.url}/api/v1/execute/async/fault-agent.work",
                                    json={"input": {"key": key, "seconds": 0.01}}, timeout=30)
            return key, response.status_code, response.json()

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(submit, keys))

        codes = {code for _, code, _ in results}
        accepted = {key: body["execution_id"] for key, code, body in results if code == 202}
        assert codes <= {202, 429}, codes
        assert 50 <= len(accepted) < 1000
        done = _wait_all_terminal(api, list(accepted.values()), timeout=90)
        assert all(s["status"] == "succeeded" for s in done.values())
        runs, finished = _counts(redis_client, keys)
        assert len(done) == len(accepted) == runs == finished
        _row(f"1,000 async submissions, queue limit 50 ({1000 - len(accepted)} got 429, "
             "no 5xx)", len(accepted), len(done), len(accepted) - len(done),
             finished - len(accepted))
    finally:
        stack.stop("fault-agent")


def test_webhooks_survive_a_webhooks_worker_killed_while_retrying(stack, api, tmp_path):
    receiver = Receiver()
    receiver.fail_times = 10**6  # down until we say so
    patient = {"AGENTFIELD_WEBHOOK_MAX_ATTEMPTS": "20", "AGENTFIELD_WEBHOOK_RETRY_BASE": "0.3",
               "AGENTFIELD_WEBHOOK_RETRY_CAP": "1.5", "AGENTFIELD_WEBHOOK_SWEEP_SECONDS": "1"}
    stack.stop("control")
    stack.stop("webhooks")
    stack.start_control_worker(**patient)
    stack.start_webhooks_worker(**patient)
    stack.start("beat", [sys.executable, "-m", "celery", "-A", "tasks.worker:celery", "beat",
                         "--schedule", str(tmp_path / "beat-schedule")], **patient)
    try:
        ids = []
        for n in range(20):
            hook = {"url": f"{receiver.url}/hook/{n}", "secret": "s3cret"}
            ids.append(api.post("/api/v1/execute/async/sentiment-agent.analyze",
                                json={"input": {"text": f"fine {n}"}, "webhook": hook}
                                ).json()["execution_id"])
        stack.wait_until(lambda: all(len(receiver.for_path(f"/hook/{n}")) >= 2
                                     for n in range(20)), timeout=30, what="failing attempts")
        stack.stop("webhooks", signal.SIGKILL)  # countdowns and claims die with it
        time.sleep(1)
        stack.start_webhooks_worker(**patient)
        time.sleep(1)
        receiver.fail_times = 0

        def settled():
            return all(_status(api, i).get("webhook", {}).get("state") == "delivered"
                       for i in ids)
        stack.wait_until(settled, timeout=60, what="every webhook to be delivered")

        stored = _stored_payloads(ids)
        duplicated = 0
        for n, execution_id in enumerate(ids):
            ok = [r for r in receiver.for_path(f"/hook/{n}") if r["body"] == stored[execution_id]]
            assert len(ok) == len(receiver.for_path(f"/hook/{n}"))  # every attempt: same bytes
            delivered = [r for r in receiver.requests if r["path"] == f"/hook/{n}"][-1]
            assert orjson.loads(delivered["body"])["execution_id"] == execution_id
            answered_ok = [r for r in receiver.for_path(f"/hook/{n}") if r["answered"] == 200]
            duplicated += len(answered_ok) - 1
        _row("webhooks worker killed (-9) and restarted while 20 webhooks were retrying",
             20, 20, 0, duplicated)
        assert duplicated == 0
    finally:
        receiver.close()
        stack.stop("beat")
        stack.stop("control")
        stack.stop("webhooks")
        stack.start_control_worker()
        stack.start_webhooks_worker()


def _stored_payloads(ids) -> dict[str, bytes]:
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT execution_id, payload FROM execution_webhooks "
                        "WHERE execution_id = ANY(%s)", (ids,))
            return {execution_id: payload.encode() for execution_id, payload in cur.fetchall()}
    finally:
        conn.close()

