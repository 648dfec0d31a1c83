"""How long does offline verification of a 1,000-credential run take, and issuing one?

Builds one run of N execution credentials (default 1,000) shaped like a real nested run:
a root planner fans out to workers that call tools and sub-agents, up to 6 levels deep,
over ~10 agent nodes with their own keys and a few functions each. Signs them (timing
each issue), signs the run credential with a root key, writes the audit bundle to a
temporary file, and times load + ``verify_bundle`` on it: the first (cold) round and the
median of --rounds, in this process, plus one end-to-end ``python -m identity verify``.
Target: under 2 s for 1,000 credentials. No server, database or network.

    .venv/bin/python bench/verify_bench.py [--credentials 1000] [--agents 10] [--rounds 5]
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from identity.audit import build_bundle, verify_bundle  # noqa: E402
from identity.credentials import (  # noqa: E402
    RUN_CREDENTIAL_TYPE,
    credential_id,
    execution_subject,
    issue_credential,
    run_credential_id,
    run_subject,
)
from identity.keys import SigningKey  # noqa: E402

TARGET_SECONDS = 2.0
MAX_DEPTH = 6
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def agents(count: int) -> list[dict]:
    """Return agent nodes, each with its key and 2-4 functions with their own DIDs."""
    rng = random.Random(7)
    nodes = []
    for index in range(count):
        functions = [f"fn{index}_{n}" for n in range(rng.randint(2, 4))]
        nodes.append({"node_id": f"agent-{index:02d}", "key": SigningKey.generate(),
                      "functions": {name: SigningKey.generate().did for name in functions}})
    return nodes


def plan_run(count: int) -> list[tuple[int | None, int]]:
    """Return (parent index, depth) per execution in creation order (parents first).

    The root planner starts one worker after another; each worker calls a few tools or
    sub-agents, fewer the deeper it is (depth 6 at most), until count executions exist.
    """
    rng = random.Random(11)
    fan_out = {1: (2, 6), 2: (0, 4), 3: (0, 3), 4: (0, 2), 5: (0, 1), 6: (0, 0)}
    shape: list[tuple[int | None, int]] = [(None, 0)]

    def call(parent: int, depth: int) -> None:
        if len(shape) >= count:
            return
        shape.append((parent, depth))
        index = len(shape) - 1
        for _ in range(rng.randint(*fan_out[min(depth, MAX_DEPTH)])):
            call(index, depth + 1)

    while len(shape) < count:
        call(0, 1)
    return shape


def payload(rng: random.Random, index: int) -> dict:
    return {"task": f"step {index}: " + " ".join(rng.choice(WORDS) for _ in range(40)),
            "items": [{"id": n, "score": round(rng.random(), 4), "tags": ["a", "b"]}
                      for n in range(rng.randint(1, 6))],
            "temperature": 0.2, "max_tokens": 512, "ok": True}


WORDS = "agent plan search draft review revenue growth quarter report summary tool".split()


def issue_run(count: int, node_count: int) -> tuple[list[str], str, str, list[float]]:
    """Return (tokens, run token, root DID, per-credential issue times in seconds)."""
    rng = random.Random(3)
    nodes, root = agents(node_count), SigningKey.generate()
    tokens, timings, executions = [], [], []
    for index, (parent, _depth) in enumerate(plan_run(count)):
        node = nodes[0] if parent is None else rng.choice(nodes)
        function = rng.choice(sorted(node["functions"]))
        created = START + timedelta(milliseconds=40 * index)
        execution_id = f"exec_{index:05d}"
        parent_id = None if parent is None else executions[parent][0]
        caller = None if parent is None else executions[parent][1]["key"].did
        executions.append((execution_id, node))
        value_in, value_out = payload(rng, index), payload(rng, index + 1)
        started = time.perf_counter()
        subject = execution_subject(
            execution_id=execution_id, run_id="run_bench", parent_execution_id=parent_id,
            caller_did=caller, agent_did=node["key"].did,
            function_did=node["functions"][function], node_id=node["node_id"],
            function=function, status="succeeded", created_at=iso(created),
            started_at=iso(created + timedelta(milliseconds=3)),
            completed_at=iso(created + timedelta(milliseconds=900)), duration_ms=897,
            input_value=value_in, output_value=value_out)
        tokens.append(issue_credential(subject, node["key"], created + timedelta(seconds=1),
                                       credential_id_value=credential_id(execution_id)))
        timings.append(time.perf_counter() - started)
    run_token = issue_credential(run_subject("run_bench", tokens), root, datetime.now(UTC),
                                 credential_type=RUN_CREDENTIAL_TYPE,
                                 credential_id_value=run_credential_id("run_bench"))
    return tokens, run_token, root.did, timings


def time_verify(path: Path) -> float:
    started = time.perf_counter()
    with open(path, "rb") as handle:
        data = json.load(handle)
    report = verify_bundle(data)
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit("the generated bundle did not verify:\n" + report.render())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    tokens, run_token, root_did, issue_times = issue_run(args.credentials, args.agents)
    bundle = build_bundle("run_bench", tokens, run_token, root_did, iso(datetime.now(UTC)))
    with tempfile.TemporaryDirectory(prefix="verifybench-") as folder:
        path = Path(folder) / "audit-run_bench.json"
        path.write_text(json.dumps(bundle))
        cold = time_verify(path)
        warm = [time_verify(path) for _ in range(args.rounds)]
        started = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "identity", "verify", str(path)],
                             cwd=ROOT, capture_output=True, text=True)
        cli_seconds = time.perf_counter() - started
        size = path.stat().st_size

    count = len(tokens)
    median = statistics.median(warm)
    print(f"bundle: {count} execution credentials, {args.agents} agents, {size / 1e6:.2f} MB")
    print(f"issue (subject + hashes + sign): median {statistics.median(issue_times) * 1e6:.0f} us"
          f", mean {statistics.mean(issue_times) * 1e6:.0f} us per credential")
    print(f"verify (load + verify_bundle), first round: {cold:.3f} s "
          f"({cold / count * 1e6:.0f} us per credential)")
    print(f"verify, median of {args.rounds} more rounds: {median:.3f} s "
          f"({median / count * 1e6:.0f} us per credential)")
    print(f"python -m identity verify, end to end (interpreter start included): "
          f"{cli_seconds:.3f} s, exit {cli.returncode}")
    verdict = "ok" if max(cold, median) < TARGET_SECONDS else "MISSED"
    print(f"target < {TARGET_SECONDS:.0f} s for the verification: {verdict}")


if __name__ == "__main__":
    main()
