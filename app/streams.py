"""Long-lived responses (Server-Sent Events): a bounded number per web process.

A stream holds one of gunicorn's threads for as long as the client listens. Without a
bound, enough idle listeners take every thread and the API stops answering (health
checks and node lookups time out). Each web process therefore serves at most
``AGENTFIELD_MAX_STREAMS`` streams, and never more than half of its threads (gunicorn
tells it how many it has, in ``gunicorn.conf.py``); one more is refused with 503
``too_many_streams`` and ``Retry-After``, before anything is read or written.
"""

import threading
from collections.abc import Iterable

from flask import Flask, Response, current_app, stream_with_context

from app.errors import ServiceUnavailable
from app.extensions import get_config

# Set when the web worker is told to stop: every stream ends at its next read.
SHUTTING_DOWN = threading.Event()


class TooManyStreams(ServiceUnavailable):
    """Raised when this web process already serves as many streams as it may."""

    code = "too_many_streams"
    retry_after = 5


class StreamSlots:
    """Count the open streams of one process against its limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        """Take a slot for a new stream.

        Raises:
            TooManyStreams: every slot is taken.
        """
        with self._lock:
            if self.open >= self.limit:
                raise TooManyStreams(
                    f"this server already serves {self.open} event streams, its limit; "
                    "reconnect later", {"limit": self.limit})
            self.open += 1

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


def get_stream_slots() -> StreamSlots:
    """The current app's slots, made on first use from ``AGENTFIELD_MAX_STREAMS``."""
    slots = current_app.extensions.get("stream_slots")
    if slots is None:
        slots = current_app.extensions.setdefault(
            "stream_slots", StreamSlots(get_config().max_streams))
    return slots


def limit_streams(app: Flask, threads: int) -> int:
    """Keep at least half of a web process's ``threads`` for requests; return the limit.

    A process with a single thread serves no streams: that thread is for requests.
    """
    with app.app_context():
        slots = get_stream_slots()
        slots.limit = min(slots.limit, threads // 2)
        return slots.limit


def stream_response(frames: Iterable[str], **kwargs) -> Response:
    """Answer with ``frames`` as a stream that holds one slot until it ends.

    Raises:
        TooManyStreams: every slot of this process is taken.
    """
    slots = get_stream_slots()
    slots.take()
    try:
        response = Response(stream_with_context(frames), **kwargs)
    except BaseException:
        slots.give_back()
        raise
    given_back = threading.Event()

    def give_back_once() -> None:
        if not given_back.is_set():
            given_back.set()
            slots.give_back()

    # The server closes the response when the stream ends or the client is gone.
    response.call_on_close(give_back_once)
    return response
