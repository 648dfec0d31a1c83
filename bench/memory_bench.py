"""Shared memory over REST against raw Redis, and change-event delivery over SSE.

One run, on the same Redis: raw redis-py GET/SET round trips (the baseline), then
`POST /api/v1/memory/get|set` through the control plane at concurrency 1 and 16
(p50/p99, ops/s), then the time from a `set` to its event reaching an SSE client.
Targets: REST get p50 at c=1 within 1.5 ms of the raw GET; SSE delivery p50 < 10 ms.

    .venv/bin/python bench/memory_bench.py [--duration 5]
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import execute_bench as eb  # noqa: E402  (a sibling script, not a package)

HEADERS = {"X-Session-ID": "bench-session", "X-API-Key": eb.BENCH_KEY}


def raw_round_trips(client: redis.Redis, samples: int) -> dict:
    client.set("bench:raw", b"x" * 64)
    results = {}
    for name, op in (("raw GET", lambda: client.get("bench:raw")),
                     ("raw SET", lambda: client.set("bench:raw", b"x" * 64))):
        latencies = []
        for _ in range(samples):
            began = time.perf_counter()
            op()
            latencies.append(time.perf_counter() - began)
        results[name] = eb.latency_summary(latencies)
    return results


def rest_call(port: int, path: str, body: dict):
    def make():
        conn = eb.HTTPConnection(eb.HOST, port, timeout=30)
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **HEADERS}

        def call():
            conn.request("POST", path, payload, headers)
            response = conn.getresponse()
            response.read()
            return response.status == 200, None
        return call
    return make


def rest_load(port: int, duration: float) -> dict:
    results = {}
    for label, path, body in (
            ("REST get", "/api/v1/memory/get", {"key": "bench_value"}),
            ("REST set", "/api/v1/memory/set", {"key": "bench_value", "data": {"n": 1}})):
        for concurrency in (1, 16):
            samples = eb.run_load(rest_call(port, path, body), concurrency, duration, 200_000)
            summary = eb.latency_summary(samples.latencies)
            summary.update(rate_per_s=round(len(samples.latencies) / samples.elapsed, 1),
                           errors=samples.errors)
            results[f"{label} c={concurrency}"] = summary
    return results


def sse_delivery(base_url: str, events: int) -> dict:
    """Time from each set's reply to its event arriving on an SSE stream."""
    sent, latencies, ready = {}, [], threading.Event()

    def listen():
        with requests.get(base_url + "/api/v1/memory/events/sse",
                          params={"patterns": "sse_probe_*"}, stream=True, timeout=30) as r:
            ready.set()
            for line in r.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    key = json.loads(line[6:])["key"]
                    latencies.append(time.perf_counter() - sent[key])
                    if len(latencies) >= events:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(0.3)
    session = requests.Session()
    for n in range(events):
        key = f"sse_probe_{n}"
        sent[key] = time.perf_counter()
        session.post(base_url + "/api/v1/memory/set", json={"key": key, "data": n},
                     headers=HEADERS, timeout=10)
        time.sleep(0.01)
    thread.join(30)
    return eb.latency_summary(latencies) | {"n": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/agentfield_bench")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    procs = eb.Processes(Path(tempfile.mkdtemp(prefix="membench-")))
    port = eb.free_port()
    redis_url = f"redis://{eb.HOST}:6379/{args.redis_db}"
    env = {**eb.os.environ, "PYTHONPATH": str(eb.ROOT), "DATABASE_URL": args.database_url,
           "REDIS_URL": redis_url, "PORT": str(port), "WEB_CONCURRENCY": str(args.web_workers),
           "AGENTFIELD_NAMESPACE": "afbench", "AGENTFIELD_API_KEY": eb.BENCH_KEY}
    try:
        redis.Redis.from_url(redis_url).flushdb()
        eb.reset_database(args.database_url)
        eb.subprocess.run([eb.PY, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
                          cwd=eb.ROOT, env=env, check=True, capture_output=True)
        procs.start("web", [eb.PY, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                            "--bind", f"{eb.HOST}:{port}", "app.wsgi:application"], env)
        base = f"http://{eb.HOST}:{port}"
        eb.wait_until(lambda: requests.get(base + "/api/v1/health", timeout=2).ok, 60, "web")
        requests.post(base + "/api/v1/memory/set", json={"key": "bench_value", "data": {"n": 1}},
                      headers=HEADERS, timeout=10)
        results = raw_round_trips(redis.Redis.from_url(redis_url), 5000)
        results.update(rest_load(port, args.duration))
        results["SSE set -> event"] = sse_delivery(base, 300)
    finally:
        procs.stop_all()
        eb.drop_database(args.database_url)
    print(f"{'figure':<22}{'p50 ms':>9}{'p99 ms':>9}{'ops/s':>10}")
    for name, r in results.items():
        print(f"{name:<22}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}{r.get('rate_per_s', ''):>10}")
    gap = results["REST get c=1"]["p50_ms"] - results["raw GET"]["p50_ms"]
    print(f"REST get p50 - raw GET p50 = {gap:.2f} ms (target <= 1.5)"
          f"  {'ok' if gap <= 1.5 else 'MISSED'}")
    sse = results["SSE set -> event"]["p50_ms"]
    print(f"SSE delivery p50 = {sse:.2f} ms (target < 10)  {'ok' if sse < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
