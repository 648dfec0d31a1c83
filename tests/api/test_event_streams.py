"""Many open event streams: the API keeps answering (real sockets to the real gunicorn).

Each web process serves a bounded number of SSE streams (half its threads at most);
clients beyond it get 503 ``too_many_streams`` at once instead of a thread each.
"""

import resource
import socket
import statistics
import struct
import time

import orjson
import requests

from app.api.memory import SSE_BLOCK_MS
from tests.conftest import API_KEY, AUTH

SSE_REQUEST = (b"GET /api/v1/memory/events/sse HTTP/1.1\r\nHost: test\r\n"
               b"X-API-Key: " + API_KEY.encode() + b"\r\n\r\n")
STREAMS = 500
PER_PROCESS = 16  # AGENTFIELD_MAX_STREAMS' default, half of the 32 threads


def _open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(SSE_REQUEST)
    return sock


def _read_head(sock: socket.socket) -> bytes:
    """The status line and headers, plus whatever came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _reset(sock: socket.socket) -> None:
    # An RST, so the server's next keepalive write fails at once and frees the slot.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_500_open_streams_leave_health_and_execute_answering(stack, api):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * STREAMS:  # our 500 sockets beside the suite's own descriptors
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * STREAMS), hard))
    sockets: list[socket.socket] = []
    try:
        # Given 500 clients opening an event stream at once
        started = time.monotonic()
        sockets = [_open_stream(stack.port) for _ in range(STREAMS)]
        heads = [_read_head(sock) for sock in sockets]
        answered_in = time.monotonic() - started
        streaming = [h for h in heads if h.startswith(b"HTTP/1.1 200")]
        refused = [h for h in heads if h.startswith(b"HTTP/1.1 503")]
        # Then the processes' bound is served and every other client is refused at once
        assert len(streaming) + len(refused) == STREAMS, {h[:12] for h in heads}
        assert PER_PROCESS <= len(streaming) <= 2 * PER_PROCESS
        assert answered_in < 10, answered_in
        head, _, body = refused[0].partition(b"\r\n\r\n")
        assert b"\r\nRetry-After: 5\r\n" in head + b"\r\n"
        if body:  # the JSON body may come in the next packet
            assert orjson.loads(body)["error"] == "too_many_streams"

        # When health is asked while they stay open
        session = requests.Session()
        session.headers.update(AUTH)
        timings = []
        for _ in range(200):
            sent = time.perf_counter()
            assert session.get(stack.url + "/api/v1/health", timeout=5).ok
            timings.append(time.perf_counter() - sent)
        # Then it answers within 100 ms (p99), and a normal execute still works
        p99 = statistics.quantiles(timings, n=100)[98]
        print(f"{len(streaming)} streams open, {len(refused)} refused in {answered_in:.2f} s;"
              f" health p50 {statistics.median(timings) * 1000:.1f} ms,"
              f" p99 {p99 * 1000:.1f} ms")
        assert p99 < 0.1
        executed = api.execute("echo-agent.noop", {"value": 7})
        assert executed.status_code == 200 and executed.json()["status"] == "succeeded"
    finally:
        for sock in sockets:
            _reset(sock)
    # And the slots come back once the streams notice their clients are gone
    time.sleep(SSE_BLOCK_MS / 1000 + 1)
    again = _open_stream(stack.port)
    try:
        assert _read_head(again).startswith(b"HTTP/1.1 200")
    finally:
        _reset(again)
