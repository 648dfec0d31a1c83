"""Does issuing a credential per execution slow the execute path? One run, both ways.

Starts one stack (gunicorn + bench-agent, its own database and Redis db) and alternates
rounds with credentials off and on (gunicorn restarted with AGENTFIELD_CREDENTIALS=0/1),
measuring sync execute p50 at concurrency 1 in each round. Prints the p50 of each side
(median over rounds) and the difference (target: under 1 ms), and checks that every
execution of the "on" rounds got its credential.

    .venv/bin/python bench/credentials_bench.py [--rounds 3] [--duration 5]
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))

import execute_bench as eb  # noqa: E402  (a sibling script, not a package)


def restart_web(procs: eb.Processes, stack: eb.Stack, args, credentials: bool) -> None:
    procs.stop("web")
    env = {**stack.env(args), "AGENTFIELD_CREDENTIALS": "1" if credentials else "0"}
    procs.start("web", [eb.PY, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                        "--bind", f"{eb.HOST}:{stack.port}", "app.wsgi:application"], env)
    client = eb.Client(stack.port)
    eb.wait_until(lambda: client.post(eb.SYNC_PATH)[0] == 200, 60, "the control plane",
                  alive=lambda: procs.check_alive("web"))
    # A new process first issues what the "off" rounds left without credentials
    # (the sweep); let that pass before measuring.
    eb.time.sleep(3 if credentials else 0.5)


def measure_round(stack: eb.Stack, args) -> float:
    eb.run_load(lambda: eb.sync_call(stack.port), 1, 0.5, 10_000)  # warm-up
    samples = eb.run_load(lambda: eb.sync_call(stack.port), 1, args.duration, 50_000)
    if samples.errors or not samples.latencies:
        raise RuntimeError(f"{samples.errors} failed calls of {len(samples.latencies)}")
    return eb.ms(eb.percentile(samples.latencies, 50))


def missing_credentials(database_url: str) -> tuple[int, int]:
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM executions WHERE status IN "
                    "('succeeded','failed','cancelled','timeout')")
        finished = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM execution_credentials")
        issued = cur.fetchone()[0]
    conn.close()
    return finished, issued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/agentfield_bench")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    procs = eb.Processes(Path(tempfile.mkdtemp(prefix="credbench-")))
    try:
        stack = eb.start_stack(procs, args)
        p50 = {False: [], True: []}
        for _ in range(args.rounds):
            for credentials in (False, True):
                restart_web(procs, stack, args, credentials)
                p50[credentials].append(measure_round(stack, args))
        finished, issued = missing_credentials(args.database_url)
    finally:
        procs.stop_all()
        eb.drop_database(args.database_url)
    off, on = statistics.median(p50[False]), statistics.median(p50[True])
    print(f"sync c=1 p50, credentials off: {off:.2f} ms  (rounds {p50[False]})")
    print(f"sync c=1 p50, credentials on:  {on:.2f} ms  (rounds {p50[True]})")
    verdict = "ok" if on - off < 1.0 else "MISSED"
    print(f"difference: {on - off:+.2f} ms  target < 1 ms  {verdict}")
    print(f"finished executions {finished}, credentials {issued} "
          "(the 'off' rounds issue none: the sweep is off there too)")


if __name__ == "__main__":
    main()
