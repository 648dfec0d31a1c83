"""What does authentication cost on the execute path? One run, both ways.

Starts one stack (gunicorn + bench-agent, its own database and Redis db) and alternates
rounds with authentication off (``AGENTFIELD_AUTH_DISABLED=1``) and on (gunicorn
restarted each time), measuring sync execute p50 at concurrency 1. In the "on" rounds
the load generator sends a scoped ``execute`` key and the agent holds a node key, so
each execution pays the request check (key lookup, hash, scope) and the signed report
(its HMAC, checked by the consumer). Credentials are off on both sides: without
authentication none is issued (an outcome nobody authenticated proves nothing), so
leaving them on would charge their cost, measured by ``credentials_bench.py``, to the
check. Prints the p50 of each side (median over rounds) and the difference (target:
under 0.3 ms).

    .venv/bin/python bench/auth_bench.py [--rounds 5] [--duration 5]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import execute_bench as eb  # noqa: E402  (a sibling script, not a package)

TARGET_MS = 0.3


def create_key(env: dict, name: str, *scopes: str) -> str:
    argv = [eb.PY, "-m", "flask", "--app", "app:create_app", "keys", "create", "--name", name,
            "--token-only", *(f"--scope={scope}" for scope in scopes)]
    done = subprocess.run(argv, cwd=eb.ROOT, env=env, check=True, text=True,
                          capture_output=True)
    return done.stdout.strip().splitlines()[-1]


def restart(procs: eb.Processes, stack: eb.Stack, args, auth: bool, keys: dict) -> None:
    """Restart gunicorn and the agent with authentication on (scoped keys) or off."""
    procs.stop("agent")
    procs.stop("web")
    env = {**stack.env(args), "AGENTFIELD_AUTH_DISABLED": "0" if auth else "1",
           "AGENTFIELD_CREDENTIALS": "0"}
    procs.start("web", [eb.PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                        f"{eb.HOST}:{stack.port}", "app.wsgi:application"], env)
    procs.start("agent", [eb.PY, str(eb.BENCH / "noop_agent.py")],
                {**env, "AGENTFIELD_API_KEY": keys["node"]})
    client = eb.Client(stack.port)
    client.headers["X-API-Key"] = keys["client"]
    eb.wait_until(lambda: client.post(eb.SYNC_PATH)[0] == 200, 60, "the stack",
                  alive=stack.check_alive)


def measure_round(stack: eb.Stack, args, key: str) -> float:
    def make_call():
        client = eb.Client(stack.port)
        client.headers["X-API-Key"] = key

        def call():
            status, body = client.post(eb.SYNC_PATH)
            return status == 200 and body.get("status") == "succeeded", None
        return call

    eb.run_load(make_call, 1, 0.5, 10_000)  # warm-up
    samples = eb.run_load(make_call, 1, args.duration, 50_000)
    if samples.errors or not samples.latencies:
        raise RuntimeError(f"{samples.errors} failed calls of {len(samples.latencies)}")
    return eb.ms(eb.percentile(samples.latencies, 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/agentfield_bench")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    procs = eb.Processes(Path(tempfile.mkdtemp(prefix="authbench-")))
    try:
        stack = eb.start_stack(procs, args)
        env = stack.env(args)
        keys = {"client": create_key(env, "bench-client", f"execute:{eb.NODE}"),
                "node": create_key(env, "bench-node", f"node:{eb.NODE}")}
        p50: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for auth in (False, True):
                restart(procs, stack, args, auth, keys)
                p50[auth].append(measure_round(stack, args, keys["client"]))
    finally:
        procs.stop_all()
        eb.drop_database(args.database_url)
    off, on = statistics.median(p50[False]), statistics.median(p50[True])
    print(f"sync c=1 p50, authentication off: {off:.2f} ms  (rounds {p50[False]})")
    print(f"sync c=1 p50, authentication on:  {on:.2f} ms  (rounds {p50[True]})")
    verdict = "ok" if on - off < TARGET_MS else "MISSED"
    print(f"difference: {on - off:+.2f} ms  target < {TARGET_MS} ms  {verdict}")


if __name__ == "__main__":
    main()
