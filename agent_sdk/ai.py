"""LLM access for agents: a thin client for OpenAI-compatible chat completions.

Owns configuration (env defaults), the HTTP call, and optional structured output
parsed into a pydantic model. Ships with the SDK: depends only on stdlib, requests, pydantic.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any

import requests
from pydantic import BaseModel, ValidationError

from agent_sdk.settings import DEFAULT_MODEL, OPENAI_BASE_URL, AgentSettings

__all__ = ["DEFAULT_MODEL", "OPENAI_BASE_URL", "AIClient", "AIError"]
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)


class AIError(Exception):
    """Raised when an LLM call fails; ``code`` says why, ``status`` is the provider's."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class AIClient:
    """Calls `{base_url}/chat/completions`; one instance per agent, reusing one HTTP session."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 model: str | None = None, timeout: float = 60.0,
                 environ: Mapping[str, str] | None = None,
                 settings: AgentSettings | None = None) -> None:
        # ``environ`` (tests) wins over ``settings``; neither: the process environment.
        if environ is not None or settings is None:
            settings = AgentSettings.from_env(environ)
        self.base_url = (base_url or settings.ai_base_url).rstrip("/")
        self.api_key = api_key or settings.ai_api_key
        self.model = model or settings.ai_model
        self.timeout = timeout
        self.session = requests.Session()

    def complete(self, prompt: str | None = None, *, system: str | None = None,
                 messages: list[dict[str, Any]] | None = None,
                 schema: type[BaseModel] | None = None, model: str | None = None,
                 temperature: float | None = None, max_tokens: int | None = None,
                 **extra: Any) -> Any:
        """Run one chat completion.

        Args:
            prompt: User message text (ignored when `messages` is given).
            system: Optional system message placed before `prompt`.
            messages: Full OpenAI-style message list, used as-is.
            schema: pydantic model class; the reply is requested as JSON and validated into it.
            model, temperature, max_tokens: Per-call overrides; `extra` is merged into the body.

        Returns:
            The assistant text, or an instance of `schema` when one is given.

        Raises:
            AIError: ai_not_configured, ai_request_failed, ai_bad_response or ai_schema_mismatch.
        """
        body: dict[str, Any] = {"model": model or self.model,
                                "messages": messages or _build_messages(prompt, system)}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}
        body.update(extra)
        content = self._post(body)
        return content if schema is None else _parse_into(schema, content)

    async def acomplete(self, prompt: str | None = None, **kwargs: Any) -> Any:
        """Async form of `complete` (runs it in a worker thread); same args, returns and raises."""
        return await asyncio.to_thread(self.complete, prompt, **kwargs)

    def _post(self, body: dict[str, Any]) -> str:
        if not self.api_key and self.base_url == OPENAI_BASE_URL:
            raise AIError("ai_not_configured", "No API key for the OpenAI endpoint: set "
                          "AGENTFIELD_AI_API_KEY (or OPENAI_API_KEY), or point "
                          "AGENTFIELD_AI_BASE_URL at an OpenAI-compatible server.")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/chat/completions"
        try:
            resp = self.session.post(url, json=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AIError("ai_request_failed", f"Could not reach {url}: {exc}") from exc
        if not resp.ok:
            raise AIError("ai_request_failed", f"LLM provider returned HTTP {resp.status_code}: "
                          f"{resp.text[:500]}", status=resp.status_code)
        try:
            return resp.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise AIError("ai_bad_response", f"Unexpected response shape from {url}: "
                          f"{resp.text[:500]}", status=resp.status_code) from exc


def _build_messages(prompt: str | None, system: str | None) -> list[dict[str, Any]]:
    if prompt is None:
        raise ValueError("complete() needs either prompt or messages")
    head = [{"role": "system", "content": system}] if system else []
    return head + [{"role": "user", "content": prompt}]


def _parse_into(schema: type[BaseModel], content: str) -> BaseModel:
    fenced = _FENCE.search(content)
    text = fenced.group(1) if fenced else content.strip()
    try:
        return schema.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise AIError("ai_schema_mismatch", f"LLM reply does not match {schema.__name__}: "
                      f"{exc}; reply was: {content[:500]}") from exc
