"""Execute-path benchmark: the control plane against plain Celery, in one run.

Starts everything it needs on 127.0.0.1 (a raw Celery worker, gunicorn with the control
plane, one no-op agent), in its own PostgreSQL database and its own Redis databases, and
measures:

  (a) baselines: a plain Celery no-op round trip (apply_async().get(), sequential) and
      plain Celery bulk throughput (N tasks sent from one thread, counted with INCR);
  (b) sync execute of bench-agent.noop at concurrency 1 and 16;
  (c) async execute: accept latency at concurrency 1 and 16, then the time until every
      accepted execution has finished (sustained executions/s).

All processes start first; then each ratio's two sides alternate in rounds (raw round
trips with sync c=1; raw bulk with sync c=16), so drift on a shared machine hits both.

It prints a table, the ratios against the targets, CPU per execution by process, and
writes everything to bench/results/<timestamp>.json. See bench/README.md.

    /tmp/probe/bin/python bench/execute_bench.py [--quick] [--duration S] [--keep-db]
"""

import argparse
import importlib
import itertools
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

import psycopg2
import redis

try:
    import psutil
except ImportError:  # CPU accounting is optional
    psutil = None

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
HOST = "127.0.0.1"
NODE = "bench-agent"
SYNC_PATH = f"/api/v1/execute/{NODE}.noop"
ASYNC_PATH = f"/api/v1/execute/async/{NODE}.noop"
BODY = json.dumps({"input": {"value": 1}}).encode()
# The server's full-access key, held by the load generator and the agent alike.
BENCH_KEY = "bench-full-access-key"
TERMINAL = ("succeeded", "failed", "cancelled", "timeout")

TARGETS = {
    "sync_p50_c1_over_raw_rt_p50": ("<=", 3.5),
    "sync_rate_c16_over_raw_bulk_rate": (">=", 0.35),
    "async_accept_p50_c1_ms": ("<", 5.0),
}

STOP = threading.Event()  # set on Ctrl-C / SIGTERM: every load loop checks it


# -- processes ------------------------------------------------------------------------

class Processes:
    """Child processes in their own sessions (Ctrl-C reaches only us); logs in log_dir."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.running[name] = process
        return process

    def check_alive(self, name: str) -> None:
        process = self.running[name]
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; "
                               f"see {self.log_dir / (name + '.log')}")

    def stop(self, name: str, timeout: float = 15) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)


def wait_until(check, timeout: float, what: str, alive=lambda: None):
    """Poll ``check`` until it returns something truthy; raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not STOP.is_set():
        alive()
        try:
            value = check()
            if value:
                return value
        except (OSError, redis.RedisError, psycopg2.Error, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# -- database -------------------------------------------------------------------------

def reset_database(url: str) -> None:
    """Create the database if missing and empty its public schema."""
    base, _, name = url.rpartition("/")
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


def drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def count_unfinished(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM executions WHERE status NOT IN %s", (TERMINAL,))
        return cur.fetchone()[0]


def status_counts(conn, ids: list[str]) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM executions WHERE execution_id = ANY(%s) "
                    "GROUP BY status", (ids,))
        return dict(cur.fetchall())


# -- HTTP client and load loops -------------------------------------------------------

class Client:
    """One keep-alive HTTP/1.1 connection; the stdlib client keeps per-request cost low."""

    def __init__(self, port: int):
        self.conn = HTTPConnection(HOST, port, timeout=120)
        self.headers = {"Content-Type": "application/json", "X-API-Key": BENCH_KEY}

    def post(self, path: str, body: bytes = BODY) -> tuple[int, dict]:
        try:
            self.conn.request("POST", path, body, self.headers)
            response = self.conn.getresponse()
            return response.status, json.loads(response.read())
        except (OSError, ValueError):
            self.conn.close()  # reconnects on the next request
            return 0, {}


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)  # seconds, successful calls
    values: list = field(default_factory=list)            # what each call returned
    errors: int = 0
    elapsed: float = 0.0                                   # first start to last end

    def merge(self, other: "Samples") -> None:
        self.latencies += other.latencies
        self.values += other.values
        self.errors += other.errors
        self.elapsed += other.elapsed


def run_load(make_call, concurrency: int, duration: float, max_calls: int) -> Samples:
    """Call from ``concurrency`` threads until ``duration`` passes or ``max_calls`` ran.

    ``make_call()`` builds one thread's callable, which returns (ok, value).
    """
    samples = Samples()
    lock = threading.Lock()
    tickets = itertools.count()
    start_gate = threading.Barrier(concurrency + 1)
    deadline = math.inf  # set just before the gate opens

    def loop(call):
        start_gate.wait()
        latencies, values, errors = [], [], 0
        while (time.perf_counter() < deadline and not STOP.is_set()
               and next(tickets) < max_calls):
            began = time.perf_counter()
            ok, value = call()
            if ok:
                latencies.append(time.perf_counter() - began)
                values.append(value)
            else:
                errors += 1
        with lock:
            samples.latencies.extend(latencies)
            samples.values.extend(values)
            samples.errors += errors

    threads = [threading.Thread(target=loop, args=(make_call(),), daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + duration
    start_gate.wait()
    for thread in threads:
        while thread.is_alive():  # short joins keep Ctrl-C responsive
            thread.join(0.2)
    samples.elapsed = time.perf_counter() - began
    return samples


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def latency_summary(latencies: list[float]) -> dict:
    return {"p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
            "n": len(latencies)}


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


# -- CPU accounting -------------------------------------------------------------------

class CpuMeter:
    """CPU seconds used by our children, this process, Redis and PostgreSQL per phase."""

    def __init__(self, processes: Processes):
        self.processes = processes

    def _groups(self) -> dict[str, list]:
        groups = {name: self._tree(p.pid) for name, p in self.processes.running.items()}
        groups["bench-client"] = [psutil.Process()]
        groups["redis"] = self._named("redis-server")
        groups["postgres"] = self._named("postgres")
        return groups

    @staticmethod
    def _tree(pid: int) -> list:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    @staticmethod
    def _named(prefix: str) -> list:
        return [p for p in psutil.process_iter(["name"])
                if (p.info["name"] or "").startswith(prefix)]

    def snapshot(self) -> dict:
        if psutil is None:
            return {}
        shot = {}
        for group, procs in self._groups().items():
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    shot[(group, proc.pid)] = times.user + times.system
                except psutil.Error:
                    pass
        return shot

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        """CPU seconds per group between two snapshots (new processes count from zero)."""
        totals: dict[str, float] = {}
        for (group, pid), seconds in after.items():
            delta = seconds - before.get((group, pid), 0.0)
            totals[group] = totals.get(group, 0.0) + max(0.0, delta)
        return totals


def measured(meter: CpuMeter, fn, cpu_total: dict[str, float]):
    """Run ``fn()``; add the CPU seconds each group used meanwhile to ``cpu_total``."""
    before = meter.snapshot()
    result = fn()
    for group, seconds in meter.used(before, meter.snapshot()).items():
        cpu_total[group] = cpu_total.get(group, 0.0) + seconds
    return result


def cpu_per_item(used: dict[str, float], items: int) -> dict[str, float]:
    return {group: round(seconds * 1000 / items, 3) for group, seconds in used.items()
            if items}


# -- (a) raw Celery baselines ---------------------------------------------------------

def start_raw_worker(procs: Processes, redis_url: str, concurrency: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(BENCH), "BENCH_RAW_REDIS_URL": redis_url}
    procs.start("raw-worker", [PY, "-m", "celery", "-A", "raw_celery", "worker",
                               "-P", "threads", "-c", str(concurrency), "-Q", "bench.raw",
                               "-n", f"raw-bench@{socket.gethostname()}-{os.getpid()}",
                               "--without-gossip", "--without-mingle",
                               "--loglevel", "INFO"], env)


def load_raw_module(redis_url: str):
    os.environ["BENCH_RAW_REDIS_URL"] = redis_url
    sys.path.insert(0, str(BENCH))
    return importlib.import_module("raw_celery")


def raw_round_trips(raw, samples: int) -> list[float]:
    """Sequential ``noop.apply_async().get()``: the plain Celery round trip, in seconds."""
    latencies = []
    for _ in range(samples):
        if STOP.is_set():
            break
        began = time.perf_counter()
        raw.noop.apply_async().get(timeout=30)
        latencies.append(time.perf_counter() - began)
    return latencies


@dataclass
class BulkRun:
    tasks: int = 0
    completed: int = 0
    send_s: float = 0.0
    total_s: float = 0.0

    def merge(self, other: "BulkRun") -> None:
        self.tasks += other.tasks
        self.completed += other.completed
        self.send_s += other.send_s
        self.total_s += other.total_s


def raw_bulk(raw, counter: redis.Redis, tasks: int, timeout: float, alive) -> BulkRun:
    """Send ``tasks`` counting tasks from one thread; time until the worker ran them all."""
    key = f"bench:bulk:{uuid.uuid4().hex}"
    began = time.perf_counter()
    for _ in range(tasks):
        if STOP.is_set():
            break
        raw.count.apply_async((key,))
    sent = time.perf_counter() - began
    deadline = began + timeout
    done = 0
    while time.perf_counter() < deadline and not STOP.is_set():
        alive()
        done = int(counter.get(key) or 0)
        if done >= tasks:
            break
        time.sleep(0.002)
    return BulkRun(tasks, done, sent, time.perf_counter() - began)


def start_raw(procs: Processes, args):
    """Start the raw Celery worker; return the task module and a Redis client for counts."""
    redis_url = f"redis://{HOST}:6379/{args.raw_redis_db}"
    counter = redis.Redis.from_url(redis_url)
    counter.flushdb()
    start_raw_worker(procs, redis_url, args.concurrency)
    raw = load_raw_module(redis_url)
    wait_until(lambda: raw.app.control.ping(timeout=0.5), 60, "the raw Celery worker",
               alive=lambda: procs.check_alive("raw-worker"))
    return raw, counter


# -- the control plane stack ----------------------------------------------------------

@dataclass
class Stack:
    procs: Processes
    port: int
    database_url: str
    redis_url: str

    def check_alive(self) -> None:
        """Raise if gunicorn or the agent has exited (something else may have killed it)."""
        for name in ("web", "agent"):
            self.procs.check_alive(name)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self, args) -> dict:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PORT": str(self.port),
            "AGENTFIELD_NAMESPACE": "afbench",
            "AGENTFIELD_API_KEY": BENCH_KEY,
            "AGENTFIELD_SERVER": self.base_url,
            "AGENTFIELD_PUBLIC_URL": self.base_url,
            "AGENTFIELD_CONCURRENCY": str(args.concurrency),
            "WEB_CONCURRENCY": str(args.web_workers),
        }


def start_stack(procs: Processes, args) -> Stack:
    """Migrate the bench database, start gunicorn and the agent, wait until both serve."""
    stack = Stack(procs, free_port(), args.database_url,
                  f"redis://{HOST}:6379/{args.redis_db}")
    env = stack.env(args)
    redis.Redis.from_url(stack.redis_url).flushdb()
    reset_database(stack.database_url)
    subprocess.run([PY, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    procs.start("web", [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                        "--bind", f"{HOST}:{stack.port}", "app.wsgi:application"], env)
    client = Client(stack.port)
    wait_until(lambda: _get_ok(stack.port, "/api/v1/health"), 60, "the control plane",
               alive=lambda: procs.check_alive("web"))
    procs.start("agent", [PY, str(BENCH / "noop_agent.py")], env)
    wait_until(lambda: client.post(SYNC_PATH)[0] == 200, 60, "bench-agent to serve",
               alive=lambda: procs.check_alive("agent"))
    return stack


def _get_ok(port: int, path: str) -> bool:
    conn = HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    finally:
        conn.close()


def sync_call(port: int):
    client = Client(port)

    def call():
        status, body = client.post(SYNC_PATH)
        return status == 200 and body.get("status") == "succeeded", None
    return call


def async_call(port: int):
    client = Client(port)

    def call():
        status, body = client.post(ASYNC_PATH)
        return status == 202, body.get("execution_id")
    return call


def sync_load(stack: Stack, concurrency: int, duration: float, args) -> Samples:
    samples = run_load(lambda: sync_call(stack.port), concurrency, duration, args.max_calls)
    stack.check_alive()
    return samples


def sync_summary(samples: Samples, cpu: dict[str, float], concurrency: int) -> dict:
    done = len(samples.latencies)
    return {"concurrency": concurrency, **latency_summary(samples.latencies),
            "errors": samples.errors, "elapsed_s": round(samples.elapsed, 3),
            "rate_per_s": round(done / samples.elapsed, 1) if samples.elapsed else 0.0,
            "cpu_ms_per_execution": cpu_per_item(cpu, done)}


def measure_latency_pair(raw, stack: Stack, meter: CpuMeter, args) -> tuple[dict, dict]:
    """Alternate raw Celery round trips and sync execute at c=1, round by round."""
    raw_round_trips(raw, 50)
    sync_load(stack, 1, args.warmup, args)
    round_trips, sync, cpu = [], Samples(), {}
    for _ in range(args.rounds):
        round_trips += raw_round_trips(raw, args.rt_samples // args.rounds)
        sync.merge(measured(meter, lambda: sync_load(stack, 1, args.slice, args), cpu))
    return latency_summary(round_trips), sync_summary(sync, cpu, 1)


def measure_rate_pair(raw, counter, stack: Stack, meter: CpuMeter, args) -> tuple[dict, dict]:
    """Alternate raw Celery bulk runs and sync execute at c=16, round by round."""
    sync_load(stack, 16, args.warmup, args)
    raw_alive = lambda: stack.procs.check_alive("raw-worker")  # noqa: E731
    bulk, bulk_cpu, sync, cpu = BulkRun(), {}, Samples(), {}
    for _ in range(args.rounds):
        bulk.merge(measured(meter, lambda: raw_bulk(raw, counter, args.bulk_tasks // args.rounds,
                                                    args.drain_timeout, raw_alive), bulk_cpu))
        sync.merge(measured(meter, lambda: sync_load(stack, 16, args.slice, args), cpu))
    bulk_summary = {"tasks": bulk.tasks, "completed": bulk.completed,
                    "send_s": round(bulk.send_s, 3), "total_s": round(bulk.total_s, 3),
                    "rate_per_s": round(bulk.completed / bulk.total_s, 1),
                    "cpu_ms_per_task": cpu_per_item(bulk_cpu, bulk.completed)}
    return bulk_summary, sync_summary(sync, cpu, 16)


def measure_async(stack: Stack, meter: CpuMeter, pg, concurrency: int, args) -> dict:
    """Accept latency while sending, then how long the backlog takes to finish."""
    def send_then_drain(duration: float) -> tuple[Samples, float]:
        sent = run_load(lambda: async_call(stack.port), concurrency, duration, args.max_calls)
        return sent, wait_drained(pg, args.drain_timeout, stack.check_alive)

    send_then_drain(args.warmup)
    used = {}
    samples, drain = measured(meter, lambda: send_then_drain(args.duration), used)
    ids = [value for value in samples.values if value]
    statuses = status_counts(pg, ids) if ids else {}
    accepted = len(samples.latencies)
    total = samples.elapsed + drain
    return {"concurrency": concurrency, **latency_summary(samples.latencies),
            "errors": samples.errors, "send_s": round(samples.elapsed, 3),
            "accepted_per_s": round(accepted / samples.elapsed, 1) if samples.elapsed else 0,
            "drain_s": round(drain, 3), "statuses": statuses,
            "sustained_per_s": round(statuses.get("succeeded", 0) / total, 1) if total else 0,
            "cpu_ms_per_execution": cpu_per_item(used, accepted)}


def wait_drained(pg, timeout: float, alive) -> float:
    """Seconds until no execution is left unfinished (polls PostgreSQL every 10 ms)."""
    began = time.perf_counter()
    while count_unfinished(pg) and not STOP.is_set():
        alive()
        if time.perf_counter() - began > timeout:
            print(f"  warning: executions still unfinished after {timeout:g} s", flush=True)
            break
        time.sleep(0.01)
    return time.perf_counter() - began


def measure_all(procs: Processes, meter: CpuMeter, args) -> dict:
    """Run every point; the two sides of each ratio alternate in rounds."""
    raw, counter = start_raw(procs, args)
    stack = start_stack(procs, args)
    pg = psycopg2.connect(stack.database_url)
    pg.autocommit = True
    base, cp = {}, {}
    try:
        print("raw celery round trips / sync execute c=1 ...", flush=True)
        base["round_trip"], cp["sync_c1"] = measure_latency_pair(raw, stack, meter, args)
        print("raw celery bulk / sync execute c=16 ...", flush=True)
        base["bulk"], cp["sync_c16"] = measure_rate_pair(raw, counter, stack, meter, args)
        for concurrency in (1, 16):
            print(f"async execute c={concurrency} ...", flush=True)
            cp[f"async_c{concurrency}"] = measure_async(stack, meter, pg, concurrency, args)
    finally:
        pg.close()
        counter.flushdb()
    return {"baselines": base, "control_plane": cp}


# -- report ---------------------------------------------------------------------------

def ratios(results: dict) -> dict:
    base, cp = results["baselines"], results["control_plane"]
    raw_p50 = base["round_trip"]["p50_ms"]
    raw_rate = base["bulk"]["rate_per_s"]
    return {
        "sync_p50_c1_over_raw_rt_p50": _div(cp["sync_c1"]["p50_ms"], raw_p50),
        "sync_rate_c16_over_raw_bulk_rate": _div(cp["sync_c16"]["rate_per_s"], raw_rate),
        "async_accept_p50_c1_ms": cp["async_c1"]["p50_ms"],
    }


def _div(a, b):
    return round(a / b, 3) if a is not None and b else None


def meets(value, target) -> bool:
    op, limit = target
    if value is None:
        return False
    return {"<=": value <= limit, ">=": value >= limit, "<": value < limit}[op]


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def print_report(results: dict) -> None:
    base, cp = results["baselines"], results["control_plane"]
    rows = [("raw celery round trip c=1", base["round_trip"]["p50_ms"],
             base["round_trip"]["p99_ms"], None, base["round_trip"]["n"], ""),
            ("raw celery bulk (1 sender)", None, None, base["bulk"]["rate_per_s"],
             base["bulk"]["completed"], f"send {base['bulk']['send_s']} s")]
    for c in (1, 16):
        s = cp[f"sync_c{c}"]
        rows.append((f"sync execute c={c}", s["p50_ms"], s["p99_ms"], s["rate_per_s"],
                     s["n"], f"errors {s['errors']}"))
    for c in (1, 16):
        a = cp[f"async_c{c}"]
        rows.append((f"async accept c={c}", a["p50_ms"], a["p99_ms"], a["accepted_per_s"],
                     a["n"], f"errors {a['errors']}"))
        rows.append((f"async sustained c={c}", None, None, a["sustained_per_s"], a["n"],
                     f"send {a['send_s']} s + drain {a['drain_s']} s"))
    header = f"{'figure':<30}{'p50 ms':>10}{'p99 ms':>10}{'per s':>11}{'n':>8}  note"
    print("\n" + header + "\n" + "-" * len(header))
    for name, p50, p99, rate, n, note in rows:
        print(f"{name:<30}{_fmt(p50):>10}{_fmt(p99):>10}{_fmt(rate):>11}{_fmt(n):>8}  {note}")
    print("\nratio vs target")
    for name, value in results["ratios"].items():
        op, limit = TARGETS[name]
        verdict = "ok" if meets(value, TARGETS[name]) else "MISSED"
        print(f"  {name:<36}{_fmt(value):>10}   target {op} {limit:<5} {verdict}")
    print_cpu(results)


def print_cpu(results: dict) -> None:
    phases = {"raw bulk": results["baselines"]["bulk"].get("cpu_ms_per_task", {})}
    for key, value in results["control_plane"].items():
        phases[key] = value.get("cpu_ms_per_execution", {})
    groups = sorted({g for used in phases.values() for g in used})
    if not groups:
        return
    cores = os.cpu_count() or 1
    print(f"\nCPU ms per execution ({cores} cores: 1 s wall = {cores * 1000:,} CPU ms)")
    print(f"  {'phase':<12}" + "".join(f"{g:>14}" for g in groups))
    for phase, used in phases.items():
        print(f"  {phase:<12}" + "".join(f"{_fmt(used.get(g)):>14}" for g in groups))


def write_json(results: dict) -> Path:
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    return path


# -- main -----------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 s per point, 2,000 bulk tasks, 200 round trips")
    parser.add_argument("--duration", type=float, help="seconds per measured point (10)")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the bench database afterwards (default: drop it)")
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/agentfield_bench")
    parser.add_argument("--redis-db", type=int, default=11, help="control plane's Redis db")
    parser.add_argument("--raw-redis-db", type=int, default=12, help="raw Celery's Redis db")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="threads of the agent worker and of the raw Celery worker")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--max-calls", type=int, default=50_000,
                        help="cap on requests per load loop (bounds every point)")
    args = parser.parse_args(argv)
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.rounds = 2 if args.quick else 5
    args.slice = args.duration / args.rounds  # one round of a paired point
    args.warmup = min(1.0, args.duration / 4)
    args.rt_samples = 200 if args.quick else 1000
    args.bulk_tasks = 2000 if args.quick else 10_000
    args.drain_timeout = 300.0
    if not args.database_url.startswith(f"postgresql://postgres@{HOST}"):
        parser.error("the bench only talks to 127.0.0.1")
    return args


def environment() -> dict:
    return {"started_at": datetime.now(UTC).isoformat(), "host": platform.node(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg()}


def _interrupt(signum, _frame):
    STOP.set()
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    log_dir = Path(tempfile.mkdtemp(prefix="execute-bench-"))
    procs = Processes(log_dir)
    meter = CpuMeter(procs)
    print(f"logs: {log_dir}", flush=True)
    results = {"environment": environment(), "settings": vars(args)}
    try:
        results.update(measure_all(procs, meter, args))
    except KeyboardInterrupt:
        STOP.set()
        print("\ninterrupted; stopping processes", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # a process died or never became ready
        STOP.set()
        print(f"\nfailed: {exc}", file=sys.stderr)
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # let cleanup finish
            signal.signal(signum, signal.SIG_IGN)
        procs.stop_all()
        if not args.keep_db:
            drop_database(args.database_url)
    results["ratios"] = ratios(results)
    results["environment"]["loadavg_at_end"] = os.getloadavg()
    print_report(results)
    print(f"\nresults: {write_json(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
