"""Config: every setting of the control plane, read once from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.errors import ConfigError

# Relative to the Flask instance folder (Flask-SQLAlchemy resolves it there).
DEFAULT_SQLITE_URL = "sqlite:///agentfield.db"


@dataclass(frozen=True)
class Config:
    """Hold the control plane's settings; build it with ``Config.from_env()``."""

    database_url: str = DEFAULT_SQLITE_URL
    redis_url: str | None = None
    port: int = 8080
    namespace: str = "af"
    public_url: str = "http://127.0.0.1:8080"
    sync_timeout: float = 90.0
    sync_wait_slice: float = 5.0
    max_run_seconds: int = 3600
    heartbeat_interval: float = 5.0
    node_inactive_after: float = 20.0
    node_recover_heartbeats: int = 2
    advertise_broker: bool = True
    node_cache_seconds: float = 2.0
    result_signal_ttl: int = 600
    report_claim_idle_ms: int = 30_000
    secret_key: str | None = None
    credentials_enabled: bool = True
    idempotency_ttl: int = 86_400
    max_queued: int = 0
    max_running: int = 0
    circuit_enabled: bool = True
    circuit_failure_rate: float = 0.5
    circuit_min_calls: int = 10
    circuit_window: int = 20
    circuit_cooldown_seconds: float = 30.0
    webhook_timeout: float = 10.0
    webhook_max_attempts: int = 5
    webhook_retry_base: float = 5.0
    webhook_retry_cap: float = 300.0
    webhook_sweep_seconds: float = 10.0
    webhook_allow_private: bool = False
    flower_basic_auth: str | None = None
    log_level: str = "INFO"
    extra: dict = field(default_factory=dict)

    @property
    def visibility_timeout(self) -> int:
        """Keep unacked messages invisible well past the longest allowed run."""
        return 2 * self.max_run_seconds

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        """Read settings from ``environ`` (default ``os.environ``).

        Raises:
            ConfigError: listing every variable that is set but invalid.
        """
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        port = reader.int("PORT", 8080)
        config = cls(
            database_url=normalise_database_url(env.get("DATABASE_URL") or DEFAULT_SQLITE_URL),
            redis_url=env.get("REDIS_URL") or None,
            port=port,
            namespace=env.get("AGENTFIELD_NAMESPACE", "af"),
            public_url=env.get("AGENTFIELD_PUBLIC_URL")
            or f"http://127.0.0.1:{port}",
            sync_timeout=reader.float("AGENTFIELD_SYNC_TIMEOUT", 90.0),
            sync_wait_slice=reader.float("AGENTFIELD_SYNC_WAIT_SLICE", 5.0),
            max_run_seconds=reader.int("AGENTFIELD_MAX_RUN_SECONDS", 3600),
            heartbeat_interval=reader.float("AGENTFIELD_HEARTBEAT_INTERVAL", 5.0),
            node_inactive_after=reader.float("AGENTFIELD_NODE_INACTIVE_AFTER", 20.0),
            node_recover_heartbeats=reader.int("AGENTFIELD_NODE_RECOVER_HEARTBEATS", 2),
            advertise_broker=reader.bool("AGENTFIELD_ADVERTISE_BROKER", True),
            node_cache_seconds=reader.float("AGENTFIELD_NODE_CACHE_SECONDS", 2.0),
            report_claim_idle_ms=reader.int("AGENTFIELD_REPORT_CLAIM_IDLE_MS", 30_000),
            secret_key=env.get("AGENTFIELD_SECRET_KEY") or None,
            credentials_enabled=reader.bool("AGENTFIELD_CREDENTIALS", True),
            idempotency_ttl=reader.int("AGENTFIELD_IDEMPOTENCY_TTL", 86_400),
            max_queued=reader.int("AGENTFIELD_MAX_QUEUED", 0),
            max_running=reader.int("AGENTFIELD_MAX_RUNNING", 0),
            circuit_enabled=reader.bool("AGENTFIELD_CIRCUIT_ENABLED", True),
            circuit_failure_rate=reader.float("AGENTFIELD_CIRCUIT_FAILURE_RATE", 0.5),
            circuit_min_calls=reader.int("AGENTFIELD_CIRCUIT_MIN_CALLS", 10),
            circuit_window=reader.int("AGENTFIELD_CIRCUIT_WINDOW", 20),
            circuit_cooldown_seconds=reader.float("AGENTFIELD_CIRCUIT_COOLDOWN_SECONDS", 30.0),
            webhook_timeout=reader.float("AGENTFIELD_WEBHOOK_TIMEOUT", 10.0),
            webhook_max_attempts=reader.int("AGENTFIELD_WEBHOOK_MAX_ATTEMPTS", 5),
            webhook_retry_base=reader.float("AGENTFIELD_WEBHOOK_RETRY_BASE", 5.0),
            webhook_retry_cap=reader.float("AGENTFIELD_WEBHOOK_RETRY_CAP", 300.0),
            webhook_sweep_seconds=reader.float("AGENTFIELD_WEBHOOK_SWEEP_SECONDS", 10.0),
            webhook_allow_private=reader.bool("AGENTFIELD_WEBHOOK_ALLOW_PRIVATE", False),
            flower_basic_auth=env.get("FLOWER_BASIC_AUTH") or None,
            log_level=env.get("AGENTFIELD_LOG_LEVEL", "INFO").upper(),
        )
        reader.raise_if_invalid()
        return config


def normalise_database_url(url: str) -> str:
    """Turn ``postgres://`` (Heroku, Render) into a URL for our psycopg2 driver.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which we do not ship.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


class _Reader:
    """Parse typed values from the environment, collecting every problem."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.problems: list[str] = []

    def _parse(self, name, default, parse, kind):
        raw = self.env.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a valid {kind}")
            return default

    def int(self, name: str, default: int) -> int:
        return self._parse(name, default, int, "integer")

    def float(self, name: str, default: float) -> float:
        return self._parse(name, default, float, "number")

    def bool(self, name: str, default: bool) -> bool:
        return self._parse(name, default, _parse_bool, "boolean (1/0, true/false)")

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise ConfigError("invalid settings: " + "; ".join(self.problems),
                              {"problems": self.problems})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)
