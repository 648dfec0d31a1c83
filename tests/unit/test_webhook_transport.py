"""Webhook attempts: a total deadline, and the connection pinned to the checked address.

Receivers are real sockets on loopback; the only fake is the DNS answer for a made-up
host name (``socket.getaddrinfo`` for that name alone).
"""

import socket
import threading
import time

import pytest

from app.webhooks.transport import DeadlineExceeded, post
from app.webhooks.validation import resolve_destination
from tests.webhook_receiver import Receiver


def test_a_slow_drip_receiver_is_cut_at_the_deadline():
    # Given a receiver that answers one byte every 0.3 s (each read is quick)
    with Receiver(drip_seconds=0.3) as receiver:
        destination = resolve_destination(receiver.url + "/hook", allow_private=True)
        started = time.monotonic()
        # When an attempt has 1.5 s in total
        with pytest.raises(DeadlineExceeded, match="1.5 s deadline"):
            post(destination, b"{}", {}, deadline=1.5, excerpt_bytes=1024)
        # Then it ends at the deadline, not when the receiver is done
        assert 1.4 < time.monotonic() - started < 2.0
        assert receiver.requests  # it did reach the receiver


def test_a_prompt_receiver_answers_within_the_deadline():
    with Receiver() as receiver:
        destination = resolve_destination(receiver.url + "/hook?x=1", allow_private=True)
        answer = post(destination, b'{"a":1}', {"X-Team": "t"}, deadline=2, excerpt_bytes=4)
        assert (answer.status, answer.excerpt) == (200, b'{"ok')
        [request] = receiver.requests
        assert (request["path"], request["body"], request["headers"]["X-Team"]) == (
            "/hook?x=1", b'{"a":1}', "t")


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    # Given a host name whose DNS answer changes after the check (DNS rebinding): the
    # checked answer is 127.0.0.1, the next one 127.0.0.2, and both have a receiver
    with Receiver() as checked, Receiver(host="127.0.0.2", port=checked.port) as rebound:
        answers = iter(["127.0.0.1", "127.0.0.2"])
        lookups = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host != "hook.rebind.test":
                return real(host, port, *args, **kwargs)
            lookups.append(host)
            address = next(answers, "127.0.0.2")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        url = f"http://hook.rebind.test:{checked.port}/hook"
        # When the attempt resolves (and would check) once, then connects
        destination = resolve_destination(url, allow_private=True)
        answer = post(destination, b"{}", {}, deadline=2, excerpt_bytes=16)
        # Then it reached the checked address, with the URL's host in the Host header
        assert answer.status == 200 and lookups == ["hook.rebind.test"]
        [request] = checked.requests
        assert request["headers"]["Host"] == f"hook.rebind.test:{checked.port}"
        assert rebound.requests == []


def test_a_receiver_that_never_accepts_the_body_is_cut_too():
    # A listener that accepts and never reads: the attempt still ends at the deadline.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        held = []
        threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
        destination = resolve_destination(
            f"http://127.0.0.1:{server.getsockname()[1]}/hook", allow_private=True)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            post(destination, b"x" * 8_000_000, {}, deadline=1, excerpt_bytes=16)
        assert time.monotonic() - started < 1.5
        for conn, _ in held:
            conn.close()
