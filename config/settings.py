"""Config: every setting of the control plane, read once from the environment.

Each setting is declared once, as a dataclass field carrying its environment variable
and parser (``setting()``); ``Config.from_env`` is derived from those fields.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from config.errors import ConfigError

# Relative to the Flask instance folder (Flask-SQLAlchemy resolves it there).
DEFAULT_SQLITE_URL = "sqlite:///agentfield.db"
MIB = 1_048_576


def setting(env: str, default: Any, parse: Callable[[str], Any] = str, *,
            secret: bool = False) -> Any:
    """Declare a setting: its environment variable, its default and its parser.

    An unset or empty variable means the default. ``parse`` raises ``ValueError``
    for a value it does not accept. A ``secret`` is left out of the config's repr.
    """
    return field(default=default, repr=not secret, metadata={"env": env, "parse": parse})


def normalise_database_url(url: str) -> str:
    """Turn ``postgres://`` (Heroku, Render) into a URL for our psycopg2 driver.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which we do not ship.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def parse_bool(raw: str) -> bool:
    """Read 1/0, true/false, yes/no, on/off (any case)."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def parse_log_level(raw: str) -> str:
    """Upper-case a logging level name (``debug`` -> ``DEBUG``)."""
    return raw.upper()


# What a parser expects, for the error message.
_KINDS = {int: "integer", float: "number", parse_bool: "boolean (1/0, true/false)"}


@dataclass(frozen=True)
class Config:
    """Hold the control plane's settings; build it with ``Config.from_env()``."""

    database_url: str = setting("DATABASE_URL", DEFAULT_SQLITE_URL, normalise_database_url)
    redis_url: str | None = setting("REDIS_URL", None)
    # Read by gunicorn.conf.py for its bind address; validated here with the rest.
    port: int = setting("PORT", 8080, int)
    host: str = setting("AGENTFIELD_HOST", "0.0.0.0")
    namespace: str = setting("AGENTFIELD_NAMESPACE", "af")
    sync_timeout: float = setting("AGENTFIELD_SYNC_TIMEOUT", 90.0, float)
    sync_wait_slice: float = setting("AGENTFIELD_SYNC_WAIT_SLICE", 5.0, float)
    max_run_seconds: int = setting("AGENTFIELD_MAX_RUN_SECONDS", 3600, int)
    heartbeat_interval: float = setting("AGENTFIELD_HEARTBEAT_INTERVAL", 5.0, float)
    node_inactive_after: float = setting("AGENTFIELD_NODE_INACTIVE_AFTER", 20.0, float)
    node_recover_heartbeats: int = setting("AGENTFIELD_NODE_RECOVER_HEARTBEATS", 2, int)
    advertise_broker: bool = setting("AGENTFIELD_ADVERTISE_BROKER", True, parse_bool)
    node_cache_seconds: float = setting("AGENTFIELD_NODE_CACHE_SECONDS", 2.0, float)
    result_signal_ttl: int = setting("AGENTFIELD_RESULT_SIGNAL_TTL", 600, int)
    report_claim_idle_ms: int = setting("AGENTFIELD_REPORT_CLAIM_IDLE_MS", 30_000, int)
    secret_key: str | None = setting("AGENTFIELD_SECRET_KEY", None, secret=True)
    # A full-access key, sent as AgentField's clients send it (X-API-Key, Bearer).
    api_key: str | None = setting("AGENTFIELD_API_KEY", None, secret=True)
    # Off only when asked for by name; logged at every start.
    auth_disabled: bool = setting("AGENTFIELD_AUTH_DISABLED", False, parse_bool)
    # How long a process trusts a key it looked up (a revocation's longest delay).
    key_cache_seconds: float = setting("AGENTFIELD_KEY_CACHE_SECONDS", 2.0, float)
    credentials_enabled: bool = setting("AGENTFIELD_CREDENTIALS", True, parse_bool)
    idempotency_ttl: int = setting("AGENTFIELD_IDEMPOTENCY_TTL", 86_400, int)
    max_queued: int = setting("AGENTFIELD_MAX_QUEUED", 0, int)
    max_running: int = setting("AGENTFIELD_MAX_RUNNING", 0, int)
    # A queued execution older than this ends as timeout (queue_timeout); 0: never.
    max_queued_seconds: float = setting("AGENTFIELD_MAX_QUEUED_SECONDS", 86_400.0, float)
    # What one registration may declare (app/schemas.py, app/nodes/registration.py).
    max_functions: int = setting("AGENTFIELD_MAX_FUNCTIONS", 200, int)
    max_function_dids: int = setting("AGENTFIELD_MAX_FUNCTION_DIDS", 1000, int)
    schema_max_bytes: int = setting("AGENTFIELD_SCHEMA_MAX_BYTES", 65_536, int)
    schema_max_depth: int = setting("AGENTFIELD_SCHEMA_MAX_DEPTH", 32, int)
    schema_max_steps: int = setting("AGENTFIELD_SCHEMA_MAX_STEPS", 2000, int)
    circuit_enabled: bool = setting("AGENTFIELD_CIRCUIT_ENABLED", True, parse_bool)
    circuit_failure_rate: float = setting("AGENTFIELD_CIRCUIT_FAILURE_RATE", 0.5, float)
    circuit_min_calls: int = setting("AGENTFIELD_CIRCUIT_MIN_CALLS", 10, int)
    circuit_window: int = setting("AGENTFIELD_CIRCUIT_WINDOW", 20, int)
    circuit_cooldown_seconds: float = setting("AGENTFIELD_CIRCUIT_COOLDOWN_SECONDS", 30.0,
                                              float)
    webhook_timeout: float = setting("AGENTFIELD_WEBHOOK_TIMEOUT", 10.0, float)
    webhook_max_attempts: int = setting("AGENTFIELD_WEBHOOK_MAX_ATTEMPTS", 5, int)
    webhook_retry_base: float = setting("AGENTFIELD_WEBHOOK_RETRY_BASE", 5.0, float)
    webhook_retry_cap: float = setting("AGENTFIELD_WEBHOOK_RETRY_CAP", 300.0, float)
    webhook_sweep_seconds: float = setting("AGENTFIELD_WEBHOOK_SWEEP_SECONDS", 10.0, float)
    webhook_allow_private: bool = setting("AGENTFIELD_WEBHOOK_ALLOW_PRIVATE", False,
                                          parse_bool)
    # Terminal executions (with notes, attempts, webhook rows) older than this many days
    # are deleted by the retention job; credentials are kept for their own window, as
    # proofs. 0: keep forever.
    retention_days: int = setting("AGENTFIELD_RETENTION_DAYS", 30, int)
    credential_retention_days: int = setting("AGENTFIELD_CREDENTIAL_RETENTION_DAYS", 365,
                                             int)
    retention_batch_size: int = setting("AGENTFIELD_RETENTION_BATCH_SIZE", 1000, int)
    # Open SSE streams per web process (each holds a thread); at most half its threads.
    max_streams: int = setting("AGENTFIELD_MAX_STREAMS", 16, int)
    log_level: str = setting("AGENTFIELD_LOG_LEVEL", "INFO", parse_log_level)
    # Size limits: a whole request body (413 before it is read), and the parts we store.
    max_body_bytes: int = setting("AGENTFIELD_MAX_BODY_BYTES", 8 * MIB, int)
    max_input_bytes: int = setting("AGENTFIELD_MAX_INPUT_BYTES", 2 * MIB, int)
    max_result_bytes: int = setting("AGENTFIELD_MAX_RESULT_BYTES", 2 * MIB, int)
    max_memory_value_bytes: int = setting("AGENTFIELD_MAX_MEMORY_VALUE_BYTES", MIB, int)

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
        values: dict[str, Any] = {}
        problems: list[str] = []
        for spec in fields(cls):
            name, parse = spec.metadata["env"], spec.metadata["parse"]
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[spec.name] = parse(raw)
            except ValueError:
                problems.append(f"{name}={raw!r} is not a valid {_KINDS.get(parse, 'value')}")
        if problems:
            raise ConfigError("invalid settings: " + "; ".join(problems),
                              {"problems": problems})
        return cls(**values)
