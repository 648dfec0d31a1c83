"""Decorators and schemas: signatures become input schemas at registration time."""

import pytest
from pydantic import BaseModel

from agent_sdk import Agent, InputValidationError
from agent_sdk.errors import DuplicateRegistration, InvalidSignature, RegistrationClosed


class Ticket(BaseModel):
    message: str
    priority: int = 1


@pytest.fixture
def agent():
    return Agent("unit-agent", agentfield_server="http://127.0.0.1:9")


def test_decorators_work_with_and_without_parentheses_and_return_the_function(agent):
    def plain(text: str) -> str:
        return text.upper()

    async def named(x: int) -> int:
        return x

    assert agent.reasoner(plain) is plain
    assert agent.skill(name="renamed", tags=["t"], description="Renamed.")(named) is named
    assert plain("ok") == "OK"  # still a plain callable
    body = agent.registration_body()
    assert [r["id"] for r in body["reasoners"]] == ["plain"]
    assert body["skills"][0] | {"input_schema": None} == {
        "id": "renamed", "input_schema": None, "output_schema": {"type": "integer"},
        "tags": ["t"], "vc_enabled": True, "description": "Renamed."}


def test_type_hints_and_pydantic_models_become_the_input_schema(agent):
    @agent.reasoner()
    def triage(ticket: Ticket, limit: int = 3) -> dict:
        """Triage a ticket."""
        return {}

    schema = agent.registration_body()["reasoners"][0]["input_schema"]
    assert schema["required"] == ["ticket"]
    assert schema["properties"]["limit"] == {"default": 3, "title": "Limit", "type": "integer"}
    assert schema["properties"]["ticket"] == {"$ref": "#/$defs/Ticket"}
    assert schema["additionalProperties"] is False
    assert agent.registration_body()["reasoners"][0]["description"] == "Triage a ticket."


def test_input_is_validated_and_bound_before_the_function_runs(agent):
    @agent.reasoner()
    def triage(ticket: Ticket, limit: int = 3) -> dict:
        return {}

    registration = agent.registry.get("triage")
    kwargs = registration.bind({"ticket": {"message": "hi"}})
    assert kwargs == {"ticket": Ticket(message="hi"), "limit": 3}
    with pytest.raises(InputValidationError) as raised:
        registration.bind({"ticket": {"priority": "high"}})
    assert {p["path"] for p in raised.value.problems} == {"ticket/message", "ticket/priority"}


def test_duplicate_names_and_late_registration_are_refused(agent):
    agent.skill(lambda text: text, name="echo")

    with pytest.raises(DuplicateRegistration):
        agent.reasoner(name="echo")(lambda text: text)
    agent._serving = True
    with pytest.raises(RegistrationClosed):
        agent.skill()(lambda text: text)


def test_positional_only_parameters_are_refused_at_import(agent):
    def bad(text, /):
        return text

    with pytest.raises(InvalidSignature):
        agent.skill(bad)


def test_server_url_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.setenv("AGENTFIELD_SERVER", "http://cp.example:9000/")

    assert Agent("a").server == "http://cp.example:9000"
    assert Agent("a", agentfield_server="http://other:1").server == "http://other:1"


def test_remote_calls_need_keyword_input(agent):
    with pytest.raises(TypeError, match="keyword arguments"):
        agent._call_input("other-agent.fn", ("positional",), {})
    with pytest.raises(ValueError, match="node_id.function"):
        agent._call_input("nodot", (), {})
