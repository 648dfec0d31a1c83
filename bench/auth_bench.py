"""What does authentication cost on the execute path? Both ways, side by side.

Starts two stacks at once (gunicorn + bench-agent each, with a database and a Redis db
of their own): one with authentication off (``AGENTFIELD_AUTH_DISABLED=1``), one with
it on, where the load generator sends a scoped ``execute`` key and the agent holds a
node key, so each execution pays the request check (key lookup, hash, scope) and the
signed report (its HMAC, checked by the consumer). Then one client alternates sync
calls between them at concurrency 1 (off, on, off, on...), so the machine's drift hits
both sides alike. Two stacks are not alike even with the same settings (an A/A run,
``--control``, differs by up to 0.4 ms, depending on which started first), so this is
done twice, the second time with the sides' places swapped (start order, database, Redis
db), and the difference is the mean of the two (target: under 0.3 ms).

Credentials are off on both sides: without authentication none is issued (an outcome
nobody authenticated proves nothing), so leaving them on would charge their cost,
measured by ``credentials_bench.py``, to the check.

    .venv/bin/python bench/auth_bench.py [--calls 3000]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import execute_bench as eb  # noqa: E402  (a sibling script, not a package)

TARGET_MS = 0.3
DATABASE = "postgresql://postgres@127.0.0.1:5432/agentfield_bench_auth_{}"  # by place


def create_key(env: dict, name: str, *scopes: str) -> str:
    argv = [eb.PY, "-m", "flask", "--app", "app:create_app", "keys", "create", "--name", name,
            "--token-only", *(f"--scope={scope}" for scope in scopes)]
    done = subprocess.run(argv, cwd=eb.ROOT, env=env, check=True, text=True,
                          capture_output=True)
    return done.stdout.strip().splitlines()[-1]


def start_side(procs: eb.Processes, args, auth: bool,
               place: int) -> tuple[eb.Stack, eb.Client]:
    """One stack, authentication on or off; return it and a client holding its key.

    With ``--control`` both sides run with authentication off (an A/A run: what the
    two stacks differ by when the check is not the difference).
    """
    side = "on" if auth else "off"
    stack = eb.Stack(procs, eb.free_port(), DATABASE.format(place),
                     f"redis://{eb.HOST}:6379/{args.redis_db + place}")
    auth = auth and not args.control
    env = {**stack.env(args), "AGENTFIELD_AUTH_DISABLED": "0" if auth else "1",
           "AGENTFIELD_CREDENTIALS": "0", "AGENTFIELD_NAMESPACE": f"afbench{side}"}
    redis.Redis.from_url(stack.redis_url).flushdb()
    eb.reset_database(stack.database_url)
    subprocess.run([eb.PY, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
                   cwd=eb.ROOT, env=env, check=True, capture_output=True)
    client, agent_env = eb.Client(stack.port), dict(env)
    if auth and not args.env_key:
        client.headers["X-API-Key"] = create_key(env, "bench-client", f"execute:{eb.NODE}")
        agent_env["AGENTFIELD_API_KEY"] = create_key(env, "bench-node", f"node:{eb.NODE}")
    procs.start("web", [eb.PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                        f"{eb.HOST}:{stack.port}", "app.wsgi:application"], env)
    procs.start("agent", [eb.PY, str(eb.BENCH / "noop_agent.py")], agent_env)
    eb.wait_until(lambda: client.post(eb.SYNC_PATH)[0] == 200, 60, f"the {side} stack",
                  alive=stack.check_alive)
    return stack, client


def alternate(clients: dict[bool, eb.Client], calls: int) -> dict[bool, list[float]]:
    """Sync calls at concurrency 1, alternating between the sides; latencies per side."""
    latencies: dict[bool, list[float]] = {False: [], True: []}
    for n in range(calls):
        for auth in ((False, True) if n % 2 else (True, False)):
            began = time.perf_counter()
            status, body = clients[auth].post(eb.SYNC_PATH)
            if status != 200 or body.get("status") != "succeeded":
                raise RuntimeError(f"call failed with auth {auth}: {status} {body}")
            latencies[auth].append(time.perf_counter() - began)
    return latencies


def measure(args, log_dir: Path, first: bool) -> dict[bool, float]:
    """Start both sides, ``first`` (auth on or off) in place 0; p50 of each side in ms."""
    order = (first, not first)
    sides = {}
    for place, auth in enumerate(order):
        (log_dir / f"{first}-{auth}").mkdir()
        sides[auth] = (eb.Processes(log_dir / f"{first}-{auth}"), place)
    try:
        clients = {auth: start_side(procs, args, auth, place)[1]
                   for auth, (procs, place) in sides.items()}
        alternate(clients, 200)  # warm-up
        latencies = alternate(clients, args.calls)
    finally:
        for procs, place in sides.values():
            procs.stop_all()
            eb.drop_database(DATABASE.format(place))
    return {auth: eb.ms(eb.percentile(latencies[auth], 50)) for auth in (False, True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="per side and order")
    parser.add_argument("--redis-db", type=int, default=11, help="and the next one")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--env-key", action="store_true",
                        help="the 'on' side's client and agent hold AGENTFIELD_API_KEY")
    parser.add_argument("--control", action="store_true",
                        help="authentication off on both sides (A/A)")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="authbench-"))
    print(f"logs in {log_dir}")
    runs = [measure(args, log_dir, first) for first in (False, True)]
    for run, first in zip(runs, ("off", "on"), strict=True):
        print(f"{first} started first: p50 off {run[False]:.3f} ms, on {run[True]:.3f} ms, "
              f"difference {run[True] - run[False]:+.3f} ms ({args.calls} calls each)")
    difference = sum(run[True] - run[False] for run in runs) / len(runs)
    verdict = "ok" if difference < TARGET_MS else "MISSED"
    print(f"sync c=1 p50 added by authentication (mean of both orders): "
          f"{difference:+.3f} ms  target < {TARGET_MS} ms  {verdict}")


if __name__ == "__main__":
    main()
