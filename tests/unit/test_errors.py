"""Every error code is unique snake_case; config errors list every bad variable."""

import re

import pytest

import agent_sdk.errors as sdk_errors
from app import errors as api_errors  # noqa: F401  (registers the API leaves)
from app import keystore, schemas  # noqa: F401  (FunctionDidLimitReached, InvalidSchema...)
from app.executions import lifecycle  # noqa: F401  (ExecutionAlreadyFinished)
from app.nodes import registration  # noqa: F401  (TooManyFunctions)
from config import Config, ConfigError, ControlPlaneError
from config.settings import normalise_database_url


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_control_plane_error_codes_are_unique_snake_case():
    codes = [cls.code for cls in [ControlPlaneError, *_all_subclasses(ControlPlaneError)]]

    assert len(codes) == len(set(codes)), codes
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert len(codes) >= 15


def test_sdk_error_codes_are_unique_snake_case():
    classes = [sdk_errors.AgentSDKError, *_all_subclasses(sdk_errors.AgentSDKError)]
    codes = [cls.code for cls in classes if isinstance(cls.__dict__.get("code"), str)]

    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
    ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_are_normalised(url, expected):
    assert normalise_database_url(url) == expected


def test_config_reads_defaults_and_reports_every_invalid_value():
    config = Config.from_env({})
    assert config.database_url.startswith("sqlite") and config.redis_url is None
    assert config.sync_timeout == 90.0 and config.visibility_timeout == 7200

    with pytest.raises(ConfigError) as raised:
        Config.from_env({"PORT": "eighty", "AGENTFIELD_SYNC_TIMEOUT": "soon",
                         "AGENTFIELD_ADVERTISE_BROKER": "maybe"})
    assert len(raised.value.details["problems"]) == 3
    assert "PORT='eighty'" in str(raised.value)
