"""AIClient against a real loopback OpenAI-compatible server (tests/sdk/fake_llm.py)."""
import asyncio
import socket

import pytest
from pydantic import BaseModel

from agent_sdk.ai import AIClient, AIError

try:  # works whether or not tests/sdk is a package
    from .fake_llm import FakeLLM
except ImportError:
    from fake_llm import FakeLLM


class Verdict(BaseModel):
    label: str
    score: float


@pytest.fixture
def llm():
    with FakeLLM() as server:
        yield server


@pytest.fixture
def client(llm):
    return AIClient(base_url=llm.url, api_key="sk-test", model="test-model", environ={})


def test_plain_completion_sends_model_messages_and_bearer_key(llm, client):
    llm.reply("Hello there")

    text = client.complete("Say hi", system="Be terse", temperature=0.2, max_tokens=16)

    assert text == "Hello there"
    [req] = llm.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    assert req["body"] == {
        "model": "test-model",
        "messages": [{"role": "system", "content": "Be terse"},
                     {"role": "user", "content": "Say hi"}],
        "temperature": 0.2,
        "max_tokens": 16,
    }


def test_explicit_messages_and_per_call_model_are_sent_verbatim(llm, client):
    llm.reply("ok")
    history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
               {"role": "user", "content": "c"}]

    client.complete(messages=history, model="other-model", seed=7)

    body = llm.requests[0]["body"]
    assert body == {"model": "other-model", "messages": history, "seed": 7}


def test_schema_returns_validated_model_and_requests_json_schema(llm, client):
    llm.reply('{"label": "spam", "score": 0.93}')

    result = client.complete("Classify this", schema=Verdict)

    assert isinstance(result, Verdict)
    assert result == Verdict(label="spam", score=0.93)
    assert llm.requests[0]["body"]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Verdict", "schema": Verdict.model_json_schema(),
                        "strict": False},
    }


def test_schema_tolerates_fenced_json_block(llm, client):
    llm.reply('Here you go:\n```json\n{"label": "ham", "score": 0.1}\n```\n')

    assert client.complete("Classify", schema=Verdict) == Verdict(label="ham", score=0.1)


@pytest.mark.parametrize("content", ["not json at all", '{"label": "spam"}',
                                     '{"label": "spam", "score": "high"}'])
def test_unparseable_or_mismatched_reply_raises_schema_mismatch(llm, client, content):
    llm.reply(content)

    with pytest.raises(AIError) as err:
        client.complete("Classify", schema=Verdict)

    assert err.value.code == "ai_schema_mismatch"
    assert "Verdict" in str(err.value)


def test_provider_error_raises_request_failed_with_status_and_excerpt(llm, client):
    llm.fail(500, "upstream exploded")

    with pytest.raises(AIError) as err:
        client.complete("Say hi")

    assert err.value.code == "ai_request_failed"
    assert err.value.status == 500
    assert "upstream exploded" in str(err.value)


def test_long_provider_error_body_is_truncated(llm, client):
    llm.fail(400, "x" * 5000)

    with pytest.raises(AIError) as err:
        client.complete("Say hi")

    assert err.value.status == 400
    assert len(str(err.value)) < 700


def test_unreachable_server_raises_request_failed_without_status():
    with socket.socket() as s:  # grab a free port, then close it so nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AIClient(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", timeout=2, environ={})

    with pytest.raises(AIError) as err:
        client.complete("Say hi")

    assert err.value.code == "ai_request_failed"
    assert err.value.status is None


def test_missing_key_for_default_openai_url_raises_not_configured():
    client = AIClient(environ={})

    with pytest.raises(AIError) as err:
        client.complete("Say hi")

    assert client.base_url == "https://api.openai.com/v1"
    assert err.value.code == "ai_not_configured"
    assert "AGENTFIELD_AI_API_KEY" in str(err.value)


def test_custom_base_url_works_without_key_and_sends_no_auth_header(llm):
    llm.reply("local answer")
    client = AIClient(base_url=llm.url, environ={})

    assert client.complete("Say hi") == "local answer"
    assert "Authorization" not in llm.requests[0]["headers"]
    assert llm.requests[0]["body"]["model"] == "gpt-4o-mini"


def test_agentfield_env_vars_configure_url_key_and_model(llm):
    llm.reply("from env")
    client = AIClient(environ={
        "AGENTFIELD_AI_BASE_URL": llm.url, "AGENTFIELD_AI_API_KEY": "sk-af",
        "AGENTFIELD_AI_MODEL": "af-model",
        "OPENAI_BASE_URL": "http://127.0.0.1:1/nowhere", "OPENAI_API_KEY": "sk-openai",
    })

    assert client.complete("Say hi") == "from env"
    req = llm.requests[0]
    assert req["headers"]["Authorization"] == "Bearer sk-af"
    assert req["body"]["model"] == "af-model"


def test_openai_env_vars_are_the_fallback(llm):
    llm.reply("from openai env")
    client = AIClient(environ={"OPENAI_BASE_URL": llm.url + "/", "OPENAI_API_KEY": "sk-openai"})

    assert client.complete("Say hi") == "from openai env"
    assert llm.requests[0]["path"] == "/v1/chat/completions"
    assert llm.requests[0]["headers"]["Authorization"] == "Bearer sk-openai"


def test_explicit_arguments_override_environment(llm):
    llm.reply("explicit")
    client = AIClient(base_url=llm.url, api_key="sk-arg", model="arg-model",
                      environ={"AGENTFIELD_AI_API_KEY": "sk-env", "AGENTFIELD_AI_MODEL": "env"})

    client.complete("Say hi")

    assert llm.requests[0]["headers"]["Authorization"] == "Bearer sk-arg"
    assert llm.requests[0]["body"]["model"] == "arg-model"


def test_acomplete_returns_same_results_as_complete(llm, client):
    llm.reply("async hello")
    llm.reply('{"label": "spam", "score": 1}')

    async def run():
        return (await client.acomplete("Say hi", system="s"),
                await client.acomplete("Classify", schema=Verdict))

    text, verdict = asyncio.run(run())

    assert text == "async hello"
    assert verdict == Verdict(label="spam", score=1.0)
    assert llm.requests[0]["body"]["messages"][0] == {"role": "system", "content": "s"}


def test_acomplete_propagates_ai_errors(llm, client):
    llm.fail(503, "overloaded")

    with pytest.raises(AIError) as err:
        asyncio.run(client.acomplete("Say hi"))

    assert (err.value.code, err.value.status) == ("ai_request_failed", 503)
