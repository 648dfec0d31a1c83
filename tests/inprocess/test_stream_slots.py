"""Event streams take a slot of the process's bound; one beyond it is a 503 (no agents)."""

from dataclasses import replace

import pytest

from app.streams import limit_streams
from tests.conftest import keyed_client

SSE = "/api/v1/memory/events/sse"


@pytest.fixture
def config(config):
    return replace(config, max_streams=2)


def test_a_stream_beyond_the_limit_is_refused_until_one_ends(app):
    client = keyed_client(app)
    # Given the process's two slots taken by open streams
    first, second = (client.get(SSE, buffered=False) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    # When a third client asks for a stream
    refused = client.get(SSE)
    # Then it is refused at once, with a stable code and a time to come back
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.get_json() == {
        "error": "too_many_streams", "retry_after": 5, "details": {"limit": 2},
        "message": "this server already serves 2 event streams, its limit; reconnect later"}
    # And a slot comes back when a stream ends (closed last first: in one thread,
    # each unfinished stream holds a request context)
    second.close()
    again = client.get(SSE, buffered=False)
    assert again.status_code == 200
    for response in (again, first):
        response.close()
    assert app.extensions["stream_slots"].open == 0


def test_streams_never_take_more_than_half_the_threads(app):
    assert limit_streams(app, threads=32) == 2  # the setting is lower
    assert limit_streams(app, threads=2) == 1
    assert limit_streams(app, threads=1) == 0
