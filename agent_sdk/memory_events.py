"""Follow the control plane's memory change events (SSE) and call the matching handlers.

One daemon thread holds ``GET /api/v1/memory/events/sse``. It remembers the id of the last
event it handled and, after an error, a dropped stream or a control-plane restart,
reconnects with backoff (0.5 s doubling to 10 s) sending ``Last-Event-ID``, so the server
replays every event it still retains that came in between.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

import requests

from agent_sdk.client import ControlPlaneClient

log = logging.getLogger(__name__)

SSE_PATH = "/api/v1/memory/events/sse"
EVENT_TYPES = {"memory_change", "message"}
FIRST_DELAY, MAX_DELAY = 0.5, 10.0


@dataclass(frozen=True)
class Subscription:
    """One handler and the events it wants: key globs (empty: all), scope and scope id."""

    handler: Callable
    patterns: tuple[str, ...] = ()
    scope: str | None = None
    scope_id: str | None = None

    def matches(self, event: dict) -> bool:
        """Return whether event is in this subscription's scope and fits one of its globs."""
        if self.scope is not None and event.get("scope") != self.scope:
            return False
        if self.scope_id is not None and event.get("scope_id") != self.scope_id:
            return False
        key = event.get("key") or ""
        return not self.patterns or any(fnmatchcase(key, p) for p in self.patterns)


class MemoryEventListener:
    """The event stream of one agent and the handlers it feeds, on one daemon thread."""

    def __init__(self, client: ControlPlaneClient, *, read_timeout: float = 60.0,
                 name: str = "memory-events"):
        self._client = client
        self.read_timeout = read_timeout  # longer than the server's keepalive interval
        self.name = name
        self.last_event_id: str | None = None
        self.connected = threading.Event()  # set while a stream is open
        self.connections = 0  # streams opened so far
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: requests.Response | None = None
        self._query_in_use: dict | None = None
        self._pause: float | None = None  # set by reconnect_now(): a deliberate drop
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, subscription: Subscription) -> None:
        """Add a handler; start the thread, or widen the server-side filter if needed."""
        thread = None
        with self._lock:
            self._subscriptions.append(subscription)
            if self._thread is None:
                thread = self._thread = threading.Thread(target=self._run, name=self.name,
                                                         daemon=True)
        if thread is not None:
            thread.start()
        elif self._query() != self._query_in_use:
            self.reconnect_now()  # resumes from last_event_id with the new filter

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following the stream and wait for the thread to end."""
        self._stop.set()
        self._drop_connection()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def reconnect_now(self, pause: float = 0.0) -> None:
        """Drop the current stream; reconnect (resuming) after ``pause`` seconds."""
        self._pause = pause
        self._drop_connection()

    def _query(self) -> dict:
        """The server-side filter: what every handler agrees on, patterns united."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        query = {}
        for field in ("scope", "scope_id"):
            values = {getattr(s, field) for s in subscriptions}
            if len(values) == 1 and None not in values:
                query[field] = values.pop()
        patterns = sorted({p for s in subscriptions for p in s.patterns})
        if patterns and all(s.patterns for s in subscriptions) and not any(
                "," in p for p in patterns):
            query["patterns"] = ",".join(patterns)
        return query

    def _run(self) -> None:
        delay = FIRST_DELAY
        while not self._stop.is_set():
            try:
                if self._follow():
                    delay = FIRST_DELAY  # it was connected: start the backoff over
            except Exception as exc:  # network, HTTP status, server restart...
                if self._stop.is_set():
                    break
                if self._pause is None:
                    log.warning("memory event stream failed (%s); reconnecting in %.1fs",
                                exc, delay)
            finally:
                self.connected.clear()
            wait = delay if self._pause is None else self._pause
            self._pause = None
            if self._stop.wait(wait):
                break
            if wait == delay:
                delay = min(delay * 2, MAX_DELAY)
        if self._loop is not None:
            self._loop.close()

    def _follow(self) -> bool:
        """Hold one stream until it ends; return whether it ever delivered anything."""
        query = self._query()
        headers = {"Accept": "text/event-stream", "User-Agent": "agentfield-celery-sdk/0.1"}
        if self._client.api_key:
            headers["X-API-Key"] = self._client.api_key
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        response = requests.get(self._client.base_url + SSE_PATH, params=query,
                                headers=headers, stream=True,
                                timeout=(5.0, self.read_timeout))
        self._response, self._query_in_use = response, query
        try:
            if self._stop.is_set() or self._pause is not None:
                return False  # stopped or told to reconnect while connecting
            response.raise_for_status()
            self.connections += 1
            delivered = False
            for frame in _frames(_lines(response)):
                delivered = True
                self.connected.set()
                if frame is not None:
                    self._handle(frame)
            return delivered
        finally:
            self._response = None
            response.close()

    def _handle(self, frame: dict) -> None:
        if frame.get("event", "message") not in EVENT_TYPES or not frame.get("data"):
            return
        try:
            event = json.loads(frame["data"])
        except ValueError:
            log.warning("ignoring a memory event that is not JSON: %.200s", frame["data"])
            return
        self._dispatch(event)
        self.last_event_id = frame.get("id") or event.get("id") or self.last_event_id

    def _dispatch(self, event: dict) -> None:
        with self._lock:
            subscriptions = [s for s in self._subscriptions if s.matches(event)]
        for subscription in subscriptions:
            try:
                result = subscription.handler(event)
                if inspect.isawaitable(result):
                    if self._loop is None:
                        self._loop = asyncio.new_event_loop()
                    self._loop.run_until_complete(result)
            except Exception:  # one handler's failure must not stop the others
                log.exception("memory change handler %s failed on %s",
                              getattr(subscription.handler, "__name__", subscription.handler),
                              event.get("key"))

    def _drop_connection(self) -> None:
        """Close the open stream from any thread, waking a reader blocked on it."""
        response = self._response
        if response is None:
            return
        sock = getattr(getattr(response.raw, "connection", None), "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _lines(response: requests.Response) -> Iterator[str]:
    """Yield the stream's lines as they arrive (without their line endings)."""
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    buffer = b""
    # A chunked stream yields each chunk as it arrives; otherwise read byte by byte.
    for chunk in response.iter_content(chunk_size=None if chunked else 1):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")


def _frames(lines: Iterator[str]) -> Iterator[dict | None]:
    """Yield each SSE frame as ``{"id", "event", "data"}``; None for a comment-only block."""
    frame: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                frame["data"] = "\n".join(data)
                yield frame
            else:
                yield None  # heartbeat: the connection is alive
            frame, data = {}, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field in ("id", "event"):
                frame[field] = value
