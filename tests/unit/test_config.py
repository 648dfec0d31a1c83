"""Config: one declaration per setting, parsed from the environment (no services)."""

from dataclasses import fields

import pytest

from config import Config, ConfigError

# The documented settings: field -> (environment variable, default).
DOCUMENTED = {
    "database_url": ("DATABASE_URL", "sqlite:///agentfield.db"),
    "redis_url": ("REDIS_URL", None),
    "port": ("PORT", 8080),
    "namespace": ("AGENTFIELD_NAMESPACE", "af"),
    "sync_timeout": ("AGENTFIELD_SYNC_TIMEOUT", 90.0),
    "sync_wait_slice": ("AGENTFIELD_SYNC_WAIT_SLICE", 5.0),
    "max_run_seconds": ("AGENTFIELD_MAX_RUN_SECONDS", 3600),
    "heartbeat_interval": ("AGENTFIELD_HEARTBEAT_INTERVAL", 5.0),
    "node_inactive_after": ("AGENTFIELD_NODE_INACTIVE_AFTER", 20.0),
    "node_recover_heartbeats": ("AGENTFIELD_NODE_RECOVER_HEARTBEATS", 2),
    "advertise_broker": ("AGENTFIELD_ADVERTISE_BROKER", True),
    "node_cache_seconds": ("AGENTFIELD_NODE_CACHE_SECONDS", 2.0),
    "result_signal_ttl": ("AGENTFIELD_RESULT_SIGNAL_TTL", 600),
    "report_claim_idle_ms": ("AGENTFIELD_REPORT_CLAIM_IDLE_MS", 30_000),
    "secret_key": ("AGENTFIELD_SECRET_KEY", None),
    "api_key": ("AGENTFIELD_API_KEY", None),
    "host": ("AGENTFIELD_HOST", "0.0.0.0"),
    "auth_disabled": ("AGENTFIELD_AUTH_DISABLED", False),
    "key_cache_seconds": ("AGENTFIELD_KEY_CACHE_SECONDS", 2.0),
    "credentials_enabled": ("AGENTFIELD_CREDENTIALS", True),
    "idempotency_ttl": ("AGENTFIELD_IDEMPOTENCY_TTL", 86_400),
    "max_queued": ("AGENTFIELD_MAX_QUEUED", 0),
    "max_running": ("AGENTFIELD_MAX_RUNNING", 0),
    "max_queued_seconds": ("AGENTFIELD_MAX_QUEUED_SECONDS", 86_400.0),
    "max_functions": ("AGENTFIELD_MAX_FUNCTIONS", 200),
    "max_function_dids": ("AGENTFIELD_MAX_FUNCTION_DIDS", 1000),
    "schema_max_bytes": ("AGENTFIELD_SCHEMA_MAX_BYTES", 65_536),
    "schema_max_depth": ("AGENTFIELD_SCHEMA_MAX_DEPTH", 32),
    "schema_max_steps": ("AGENTFIELD_SCHEMA_MAX_STEPS", 2000),
    "circuit_enabled": ("AGENTFIELD_CIRCUIT_ENABLED", True),
    "circuit_failure_rate": ("AGENTFIELD_CIRCUIT_FAILURE_RATE", 0.5),
    "circuit_min_calls": ("AGENTFIELD_CIRCUIT_MIN_CALLS", 10),
    "circuit_window": ("AGENTFIELD_CIRCUIT_WINDOW", 20),
    "circuit_cooldown_seconds": ("AGENTFIELD_CIRCUIT_COOLDOWN_SECONDS", 30.0),
    "webhook_timeout": ("AGENTFIELD_WEBHOOK_TIMEOUT", 10.0),
    "webhook_max_attempts": ("AGENTFIELD_WEBHOOK_MAX_ATTEMPTS", 5),
    "webhook_retry_base": ("AGENTFIELD_WEBHOOK_RETRY_BASE", 5.0),
    "webhook_retry_cap": ("AGENTFIELD_WEBHOOK_RETRY_CAP", 300.0),
    "webhook_sweep_seconds": ("AGENTFIELD_WEBHOOK_SWEEP_SECONDS", 10.0),
    "webhook_allow_private": ("AGENTFIELD_WEBHOOK_ALLOW_PRIVATE", False),
    "retention_days": ("AGENTFIELD_RETENTION_DAYS", 30),
    "credential_retention_days": ("AGENTFIELD_CREDENTIAL_RETENTION_DAYS", 365),
    "retention_batch_size": ("AGENTFIELD_RETENTION_BATCH_SIZE", 1000),
    "max_streams": ("AGENTFIELD_MAX_STREAMS", 16),
    "log_level": ("AGENTFIELD_LOG_LEVEL", "INFO"),
    "max_body_bytes": ("AGENTFIELD_MAX_BODY_BYTES", 8_388_608),
    "max_input_bytes": ("AGENTFIELD_MAX_INPUT_BYTES", 2_097_152),
    "max_result_bytes": ("AGENTFIELD_MAX_RESULT_BYTES", 2_097_152),
    "max_memory_value_bytes": ("AGENTFIELD_MAX_MEMORY_VALUE_BYTES", 1_048_576),
}

# A valid value for each setting that differs from its default, and what it reads as.
OVERRIDES = {
    "DATABASE_URL": ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
    "REDIS_URL": ("redis://r:6379/3", "redis://r:6379/3"),
    "PORT": ("9000", 9000),
    "AGENTFIELD_NAMESPACE": ("ns", "ns"),
    "AGENTFIELD_SYNC_TIMEOUT": ("1.5", 1.5),
    "AGENTFIELD_SYNC_WAIT_SLICE": ("0.5", 0.5),
    "AGENTFIELD_MAX_RUN_SECONDS": ("60", 60),
    "AGENTFIELD_HEARTBEAT_INTERVAL": ("1", 1.0),
    "AGENTFIELD_NODE_INACTIVE_AFTER": ("3", 3.0),
    "AGENTFIELD_NODE_RECOVER_HEARTBEATS": ("4", 4),
    "AGENTFIELD_ADVERTISE_BROKER": ("off", False),
    "AGENTFIELD_NODE_CACHE_SECONDS": ("0.25", 0.25),
    "AGENTFIELD_RESULT_SIGNAL_TTL": ("30", 30),
    "AGENTFIELD_REPORT_CLAIM_IDLE_MS": ("1000", 1000),
    "AGENTFIELD_SECRET_KEY": ("s3cret", "s3cret"),
    "AGENTFIELD_API_KEY": ("k3y", "k3y"),
    "AGENTFIELD_HOST": ("127.0.0.1", "127.0.0.1"),
    "AGENTFIELD_AUTH_DISABLED": ("1", True),
    "AGENTFIELD_KEY_CACHE_SECONDS": ("0.5", 0.5),
    "AGENTFIELD_CREDENTIALS": ("no", False),
    "AGENTFIELD_IDEMPOTENCY_TTL": ("4", 4),
    "AGENTFIELD_MAX_QUEUED": ("7", 7),
    "AGENTFIELD_MAX_RUNNING": ("8", 8),
    "AGENTFIELD_MAX_QUEUED_SECONDS": ("600", 600.0),
    "AGENTFIELD_RETENTION_DAYS": ("0", 0),
    "AGENTFIELD_CREDENTIAL_RETENTION_DAYS": ("3650", 3650),
    "AGENTFIELD_RETENTION_BATCH_SIZE": ("50", 50),
    "AGENTFIELD_MAX_FUNCTIONS": ("3", 3),
    "AGENTFIELD_MAX_FUNCTION_DIDS": ("9", 9),
    "AGENTFIELD_SCHEMA_MAX_BYTES": ("1024", 1024),
    "AGENTFIELD_SCHEMA_MAX_DEPTH": ("4", 4),
    "AGENTFIELD_SCHEMA_MAX_STEPS": ("50", 50),
    "AGENTFIELD_CIRCUIT_ENABLED": ("false", False),
    "AGENTFIELD_CIRCUIT_FAILURE_RATE": ("1.0", 1.0),
    "AGENTFIELD_CIRCUIT_MIN_CALLS": ("20", 20),
    "AGENTFIELD_CIRCUIT_WINDOW": ("40", 40),
    "AGENTFIELD_CIRCUIT_COOLDOWN_SECONDS": ("2", 2.0),
    "AGENTFIELD_WEBHOOK_TIMEOUT": ("3", 3.0),
    "AGENTFIELD_WEBHOOK_MAX_ATTEMPTS": ("4", 4),
    "AGENTFIELD_WEBHOOK_RETRY_BASE": ("0.2", 0.2),
    "AGENTFIELD_WEBHOOK_RETRY_CAP": ("1", 1.0),
    "AGENTFIELD_WEBHOOK_SWEEP_SECONDS": ("0.5", 0.5),
    "AGENTFIELD_WEBHOOK_ALLOW_PRIVATE": ("1", True),
    "AGENTFIELD_MAX_STREAMS": ("4", 4),
    "AGENTFIELD_LOG_LEVEL": ("debug", "DEBUG"),
    "AGENTFIELD_MAX_BODY_BYTES": ("4096", 4096),
    "AGENTFIELD_MAX_INPUT_BYTES": ("1024", 1024),
    "AGENTFIELD_MAX_RESULT_BYTES": ("2048", 2048),
    "AGENTFIELD_MAX_MEMORY_VALUE_BYTES": ("512", 512),
}


def test_each_field_has_exactly_one_environment_variable():
    envs = {spec.name: spec.metadata["env"] for spec in fields(Config)}

    assert envs == {name: env for name, (env, _) in DOCUMENTED.items()}
    assert len(set(envs.values())) == len(envs)


def test_defaults_are_the_documented_defaults():
    defaults = {spec.name: spec.default for spec in fields(Config)}

    assert defaults == {name: default for name, (_, default) in DOCUMENTED.items()}


def test_from_empty_environment_equals_the_defaults():
    assert Config.from_env({}) == Config()
    assert Config().visibility_timeout == 7200 and Config().is_sqlite


def test_every_variable_is_read_and_parsed():
    config = Config.from_env({env: raw for env, (raw, _) in OVERRIDES.items()})

    read = {spec.name: getattr(config, spec.name) for spec in fields(Config)}
    assert read == {name: OVERRIDES[env][1] for name, (env, _) in DOCUMENTED.items()}


def test_empty_string_means_unset():
    assert Config.from_env({env: "" for env, _ in DOCUMENTED.values()}) == Config()


@pytest.mark.parametrize("raw, expected", [
    ("1", True), ("true", True), ("YES", True), ("On", True), (" true ", True),
    ("0", False), ("false", False), ("no", False), ("OFF", False),
])
def test_booleans_accept_the_usual_spellings(raw, expected):
    assert Config.from_env({"AGENTFIELD_CREDENTIALS": raw}).credentials_enabled is expected


def test_every_typed_parser_rejects_garbage_in_one_error():
    kinds = {int: "integer", float: "number"}
    typed = [spec for spec in fields(Config) if spec.type in (int, float, bool)]
    environ = {spec.metadata["env"]: "garbage" for spec in typed}

    with pytest.raises(ConfigError) as raised:
        Config.from_env(environ)

    expected = [f"{spec.metadata['env']}='garbage' is not a valid "
                + kinds.get(spec.metadata["parse"], "boolean (1/0, true/false)")
                for spec in typed]
    assert len(typed) == 42
    assert raised.value.details == {"problems": expected}
    assert str(raised.value) == "invalid settings: " + "; ".join(expected)
    assert raised.value.code == "config_error"
