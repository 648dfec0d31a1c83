"""Keep a node known to the control plane: registration, heartbeats, the shutdown notice."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from agent_sdk.client import ControlPlaneClient
from agent_sdk.errors import ControlPlaneResponseError, ControlPlaneUnavailable
from agent_sdk.protocol import queue_name
from agent_sdk.registry import Registry

log = logging.getLogger("agent_sdk")


class Presence:
    """Register one node instance, heartbeat it on a thread, and say when it stops."""

    def __init__(self, client: ControlPlaneClient, node_id: str, version: str,
                 instance_id: str) -> None:
        self._client = client
        self.node_id = node_id
        self.version = version
        self.instance_id = instance_id
        self._stop = threading.Event()

    def body(self, registry: Registry, limits: dict[str, Any],
             heartbeat_interval: float | None) -> dict[str, Any]:
        """Return the body of ``POST /api/v1/nodes/register`` (AgentField's shape)."""
        return {
            "id": self.node_id,
            "team_id": "default",
            "version": self.version,
            "instance_id": self.instance_id,
            "deployment_type": "celery",
            "lifecycle_status": "starting",
            "reasoners": [r.to_wire() for r in registry.of_kind("reasoner")],
            "skills": [r.to_wire() for r in registry.of_kind("skill")],
            "communication_config": {"protocols": ["celery"],
                                     "heartbeat_interval": f"{heartbeat_interval or 5}s"},
            "metadata": {"deployment": {"platform": "python", "queue": queue_name(self.node_id)}},
            **({"limits": limits} if limits else {}),
        }

    def register(self, body: dict[str, Any], wait: float) -> dict[str, Any]:
        """Post the registration, retrying while the control plane is unreachable or 5xx.

        Raises:
            ControlPlaneUnavailable: still unreachable after ``wait`` seconds.
            ControlPlaneResponseError: the control plane refused the registration.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                answer: dict[str, Any] = self._client.post("/api/v1/nodes/register",
                                                           body).json()
                return answer
            except (ControlPlaneUnavailable, ControlPlaneResponseError) as exc:
                transient = not isinstance(exc, ControlPlaneResponseError) or exc.status >= 500
                if not transient or time.monotonic() > deadline:
                    raise
                log.warning("registration with %s failed (%s); retrying",
                            self._client.base_url, exc)
                time.sleep(1.0)

    def start_heartbeats(self, interval: float, register_again: Callable[[], object]) -> None:
        """Heartbeat every ``interval`` seconds on a daemon thread until ``stop()``."""
        threading.Thread(target=self._heartbeat_forever, args=(interval, register_again),
                         name="heartbeat", daemon=True).start()

    def stop(self) -> None:
        """Stop heartbeating and tell the control plane this instance is going away."""
        self._stop.set()
        try:
            self._client.post(f"/api/v1/nodes/{self.node_id}/shutdown",
                              {"reason": "signal", "instance_id": self.instance_id},
                              timeout=3)
        except Exception as exc:  # shutting down anyway
            log.info("shutdown notice not delivered: %s", exc)

    def _heartbeat_forever(self, interval: float, register_again: Callable[[], object]) -> None:
        body = {"status": "ready", "version": self.version, "instance_id": self.instance_id}
        while not self._stop.wait(interval):
            try:
                self._client.post(f"/api/v1/nodes/{self.node_id}/heartbeat", body, timeout=5)
            except ControlPlaneResponseError as exc:
                if exc.status == 404:  # the control plane forgot us: register again
                    try:
                        register_again()
                    except Exception as again:
                        log.warning("register failed: %s", again)
            except ControlPlaneUnavailable as exc:
                log.warning("heartbeat failed: %s", exc)
