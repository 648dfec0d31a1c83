"""A tiny real OpenAI-compatible chat completions server for SDK tests.

Serves POST /chat/completions and /v1/chat/completions on 127.0.0.1 from a queue
of scripted replies, and records every request it receives.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = ("/chat/completions", "/v1/chat/completions")


class FakeLLM:
    """Context manager: `with FakeLLM() as llm: llm.reply("hi"); ... llm.requests[0]["body"]`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script: deque[tuple[int, Any]] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to hand to a client (it appends /chat/completions)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reply(self, content: str) -> None:
        """Queue a successful completion whose assistant message is `content`."""
        self._script.append((200, content))

    def fail(self, status: int, message: str) -> None:
        """Queue an HTTP error with an OpenAI-style JSON error body."""
        self._script.append((status, {"error": {"message": message, "type": "server_error"}}))

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, model: str) -> tuple[int, dict[str, Any]]:
        if not self._script:
            return 500, {"error": {"message": "fake_llm: no scripted reply left"}}
        status, payload = self._script.popleft()
        return (status, payload) if status != 200 else (200, _completion(model, payload))


def _completion(model: str, content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _handler_for(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if self.path not in PATHS:
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            self._send(*fake._next((body or {}).get("model", "")))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
