"""The SDK's settings, each stated once: environment variables, default, parser.

``AgentSettings.from_env()`` is the only code in agent_sdk that reads ``os.environ``.
An empty variable counts as unset; the first non-empty of a setting's names wins.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from agent_sdk.errors import InvalidSettings

DEFAULT_SERVER = "http://localhost:8080"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


def _env(*names: str, parse: Callable[[str], Any] = str, default: Any = None) -> Any:
    """Declare a setting read from the first non-empty of ``names``."""
    return field(default=default, metadata={"env": names, "parse": parse})


def _url(value: str) -> str:
    return value.rstrip("/")


def _seconds_or_none(value: str) -> float | None:
    return float(value) or None  # 0 means "not set": the control plane's value is used


def _flag(value: str) -> bool:
    return value == "1"


def _switch(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(value)
    return value == "1"


@dataclass(frozen=True)
class AgentSettings:
    """How an agent reaches the control plane and the broker, and how it runs functions."""

    server: str = _env("AGENTFIELD_SERVER", "AGENTFIELD_SERVER_URL", parse=_url,
                       default=DEFAULT_SERVER)
    api_key: str | None = _env("AGENTFIELD_API_KEY")
    broker_url: str | None = _env("AGENTFIELD_BROKER_URL")
    # Only used when neither the argument, AGENTFIELD_BROKER_URL nor the control plane
    # names a broker.
    redis_url: str | None = _env("REDIS_URL")
    namespace: str | None = _env("AGENTFIELD_NAMESPACE")
    concurrency: int = _env("AGENTFIELD_CONCURRENCY", parse=int, default=8)
    heartbeat_interval: float | None = _env("AGENTFIELD_HEARTBEAT_INTERVAL",
                                            parse=_seconds_or_none)
    call_timeout: float = _env("AGENTFIELD_CALL_TIMEOUT", parse=float, default=3600.0)
    max_run_seconds: int = _env("AGENTFIELD_MAX_RUN_SECONDS", parse=int, default=3600)
    lease_seconds: float = _env("AGENTFIELD_LEASE_SECONDS", parse=float, default=60.0)
    cancel_grace: float = _env("AGENTFIELD_CANCEL_GRACE", parse=float, default=30.0)
    # "stream" (the Redis report stream, HTTP as fallback) or "http" (always HTTP).
    report_via: str = _env("AGENTFIELD_REPORT_VIA", default="stream")
    task_events: bool = _env("AGENTFIELD_TASK_EVENTS", parse=_flag, default=False)
    # "0": no remote control (celery inspect/control, Flower's worker pages) and no
    # worker events, so the worker needs no pub/sub channel (docs/broker-acl.md).
    remote_control: bool = _env("AGENTFIELD_REMOTE_CONTROL", parse=_switch, default=True)
    log_level: str = _env("AGENTFIELD_LOG_LEVEL", default="INFO")
    worker_log_level: str = _env("AGENTFIELD_WORKER_LOG_LEVEL", default="WARNING")
    ai_base_url: str = _env("AGENTFIELD_AI_BASE_URL", "OPENAI_BASE_URL", parse=_url,
                            default=OPENAI_BASE_URL)
    ai_api_key: str | None = _env("AGENTFIELD_AI_API_KEY", "OPENAI_API_KEY")
    ai_model: str = _env("AGENTFIELD_AI_MODEL", default=DEFAULT_MODEL)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "AgentSettings":
        """Read every setting from ``environ`` (default ``os.environ``).

        Raises:
            InvalidSettings: naming every variable whose value cannot be parsed.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for spec in fields(cls):
            name = next((n for n in spec.metadata["env"] if env.get(n)), None)
            if name is None:
                continue
            try:
                values[spec.name] = spec.metadata["parse"](env[name])
            except ValueError:
                problems.append(f"{name}={env[name]!r}")
        if problems:
            raise InvalidSettings(f"invalid settings: {', '.join(problems)}", problems)
        return cls(**values)

    @staticmethod
    def variables() -> dict[str, tuple[str, ...]]:
        """Return each setting's environment variables, by setting name."""
        return {spec.name: spec.metadata["env"] for spec in fields(AgentSettings)}
