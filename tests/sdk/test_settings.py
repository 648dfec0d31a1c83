"""AgentSettings: every variable read once, parsed, and overridden by Agent keywords."""

import pytest

from agent_sdk import Agent, AgentSettings, InvalidSettings
from agent_sdk.ai import AIClient

ENVIRON = {
    "AGENTFIELD_SERVER": "http://cp.example:9000/",
    "AGENTFIELD_API_KEY": "key-1",
    "AGENTFIELD_BROKER_URL": "redis://broker:6379/1",
    "REDIS_URL": "redis://fallback:6379/2",
    "AGENTFIELD_NAMESPACE": "ns1",
    "AGENTFIELD_CONCURRENCY": "3",
    "AGENTFIELD_HEARTBEAT_INTERVAL": "2.5",
    "AGENTFIELD_CALL_TIMEOUT": "12.5",
    "AGENTFIELD_MAX_RUN_SECONDS": "90",
    "AGENTFIELD_LEASE_SECONDS": "15",
    "AGENTFIELD_CANCEL_GRACE": "1.5",
    "AGENTFIELD_REPORT_VIA": "http",
    "AGENTFIELD_TASK_EVENTS": "1",
    "AGENTFIELD_REMOTE_CONTROL": "0",
    "AGENTFIELD_LOG_LEVEL": "DEBUG",
    "AGENTFIELD_WORKER_LOG_LEVEL": "INFO",
    "AGENTFIELD_AI_BASE_URL": "http://llm.example/v1/",
    "AGENTFIELD_AI_API_KEY": "sk-1",
    "AGENTFIELD_AI_MODEL": "m-1",
}


def test_every_variable_is_parsed_into_its_setting():
    settings = AgentSettings.from_env(ENVIRON)

    assert settings == AgentSettings(
        server="http://cp.example:9000", api_key="key-1", broker_url="redis://broker:6379/1",
        redis_url="redis://fallback:6379/2", namespace="ns1", concurrency=3,
        heartbeat_interval=2.5, call_timeout=12.5, max_run_seconds=90, lease_seconds=15.0,
        cancel_grace=1.5, report_via="http", task_events=True, remote_control=False,
        log_level="DEBUG",
        worker_log_level="INFO", ai_base_url="http://llm.example/v1", ai_api_key="sk-1",
        ai_model="m-1")
    # Each variable names one setting: none is missing from the table above.
    names = {name for names in AgentSettings.variables().values() for name in names}
    assert names - set(ENVIRON) == {"AGENTFIELD_SERVER_URL", "OPENAI_BASE_URL",
                                    "OPENAI_API_KEY"}


def test_nothing_set_gives_the_documented_defaults():
    settings = AgentSettings.from_env({})

    assert settings == AgentSettings()
    assert (settings.server, settings.concurrency, settings.call_timeout,
            settings.max_run_seconds, settings.lease_seconds, settings.cancel_grace,
            settings.report_via, settings.task_events, settings.heartbeat_interval,
            settings.remote_control) == (
        "http://localhost:8080", 8, 3600.0, 3600, 60.0, 30.0, "stream", False, None, True)
    assert (settings.ai_base_url, settings.ai_model) == ("https://api.openai.com/v1",
                                                          "gpt-4o-mini")


def test_fallback_names_are_read_when_the_first_is_unset_or_empty():
    settings = AgentSettings.from_env({
        "AGENTFIELD_SERVER": "", "AGENTFIELD_SERVER_URL": "http://second:1/",
        "OPENAI_BASE_URL": "http://openai.local/v1", "OPENAI_API_KEY": "sk-openai"})

    assert settings.server == "http://second:1"
    assert (settings.ai_base_url, settings.ai_api_key) == ("http://openai.local/v1",
                                                            "sk-openai")


@pytest.mark.parametrize("value, expected", [("0", None), ("7", 7.0)])
def test_a_zero_heartbeat_interval_leaves_it_to_the_control_plane(value, expected):
    assert AgentSettings.from_env(
        {"AGENTFIELD_HEARTBEAT_INTERVAL": value}).heartbeat_interval == expected


@pytest.mark.parametrize("value", ["0", "true", "yes"])
def test_task_events_are_on_only_for_1(value):
    assert AgentSettings.from_env({"AGENTFIELD_TASK_EVENTS": value}).task_events is False


@pytest.mark.parametrize("value", ["true", "off", "2"])
def test_remote_control_is_switched_by_0_or_1_only(value):
    with pytest.raises(InvalidSettings) as raised:
        AgentSettings.from_env({"AGENTFIELD_REMOTE_CONTROL": value})

    assert raised.value.problems == [f"AGENTFIELD_REMOTE_CONTROL={value!r}"]


def test_every_unparsable_variable_is_named_in_one_error():
    with pytest.raises(InvalidSettings) as raised:
        AgentSettings.from_env({"AGENTFIELD_CONCURRENCY": "many",
                                "AGENTFIELD_CANCEL_GRACE": "soon"})

    assert raised.value.problems == ["AGENTFIELD_CONCURRENCY='many'",
                                     "AGENTFIELD_CANCEL_GRACE='soon'"]
    assert isinstance(raised.value, ValueError)  # what int() raised before


def test_agent_keywords_override_the_environment(monkeypatch):
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)

    agent = Agent("a", "http://arg:1/", broker_url="redis://arg:6379/3", concurrency=5,
                  api_key="key-arg", namespace="ns-arg", heartbeat_interval=4.0,
                  call_timeout=6.0, max_run_seconds=7)

    assert (agent.server, agent.broker_url, agent.namespace) == (
        "http://arg:1", "redis://arg:6379/3", "ns-arg")
    s = agent.settings
    assert (s.concurrency, s.api_key, s.heartbeat_interval, s.call_timeout,
            s.max_run_seconds) == (5, "key-arg", 4.0, 6.0, 7)
    assert agent.client.api_key == "key-arg"
    assert (s.lease_seconds, s.report_via) == (15.0, "http")  # no keyword: the environment


def test_agent_without_keywords_uses_the_environment(monkeypatch):
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)

    agent = Agent("a")

    assert agent.settings == AgentSettings.from_env(ENVIRON)
    assert agent.broker_url == "redis://broker:6379/1"
    assert agent.celery.conf.worker_concurrency == 3
    assert agent.celery.conf.broker_transport_options["visibility_timeout"] == 180


def test_redis_url_is_the_broker_when_no_other_is_named():
    settings = AgentSettings.from_env({"REDIS_URL": "redis://fallback:6379/2"})

    assert Agent("a", settings=settings).broker_url == "redis://fallback:6379/2"


def test_the_ai_client_defaults_to_the_agents_settings():
    agent = Agent("a", settings=AgentSettings.from_env(ENVIRON))

    client = agent.ai_client
    assert (client.base_url, client.api_key, client.model) == (
        "http://llm.example/v1", "sk-1", "m-1")
    assert AIClient(settings=agent.settings, environ={}).model == "gpt-4o-mini"
