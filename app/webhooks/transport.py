"""POST one webhook attempt to the checked address, ended at a total deadline.

requests' ``timeout`` bounds each read, so a receiver that sends a byte every few
seconds can hold a worker for ever. Here a timer shuts the socket down when the
attempt's time is up, whatever the receiver is doing (connecting, the TLS handshake,
the status line, the headers or the body).

The connection goes to ``Destination.address``, the address ``resolve_destination``
checked, never to a second DNS answer; the Host header and the TLS server name (and
certificate check) stay the URL's host.
"""

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from app.webhooks.validation import Destination


class DeadlineExceeded(Exception):
    """Raised when the receiver did not answer within the attempt's deadline."""


@dataclass(frozen=True)
class Answer:
    """The receiver's status and the first bytes of its body."""

    status: int
    excerpt: bytes


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connect to the checked address; the Host header stays the URL's host."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.address = destination.address
        self.cut = threading.Event()

    def connect(self) -> None:
        self.sock = _open(self.address, self.port, self.timeout, self.cut)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connect to the checked address; SNI and the certificate check use the URL's host."""

    def __init__(self, destination: Destination, timeout: float,
                 context: ssl.SSLContext | None = None):
        super().__init__(destination.host, destination.port, timeout=timeout,
                         context=context or ssl.create_default_context())
        self.address = destination.address
        self.cut = threading.Event()

    def connect(self) -> None:
        raw = _open(self.address, self.port, self.timeout, self.cut)
        # Handshake after self.sock is set, so that the deadline can cut a slow one.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host,
                                              do_handshake_on_connect=False)
        if self.cut.is_set():
            raise DeadlineExceeded("the deadline passed during the TLS set-up")
        self.sock.do_handshake()


def _open(address: str, port: int, timeout: float | None, cut: threading.Event):
    sock = socket.create_connection((address, port), timeout)
    if cut.is_set():  # the timer fired while connecting: it found no socket to cut
        sock.close()
        raise DeadlineExceeded("the deadline passed while connecting")
    return sock


def post(destination: Destination, body: bytes, headers: dict[str, str],
         deadline: float, excerpt_bytes: int, tls: ssl.SSLContext | None = None) -> Answer:
    """Send ``body`` and read the status and an excerpt, all within ``deadline`` seconds.

    ``tls`` replaces the default context (the system's CAs, hostname checked).

    Raises:
        DeadlineExceeded: no status line and headers within the deadline.
        OSError, http.client.HTTPException: the connection or the answer failed.
    """
    connection: _PinnedHTTPConnection | _PinnedHTTPSConnection
    if destination.scheme == "https":
        connection = _PinnedHTTPSConnection(destination, deadline, tls)
    else:
        connection = _PinnedHTTPConnection(destination, deadline)
    cut = connection.cut
    timer = threading.Timer(deadline, _cut, args=(connection, cut))
    timer.daemon = True
    timer.start()
    try:
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException):
            if cut.is_set():
                raise DeadlineExceeded(
                    f"the receiver did not answer within the {deadline:g} s deadline"
                ) from None
            raise
        try:
            excerpt = response.read(excerpt_bytes)
        except (OSError, http.client.HTTPException):
            excerpt = b""  # the status arrived in time; the body is only kept as a hint
        return Answer(response.status, excerpt)
    finally:
        timer.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """Wake any blocked read or write on the connection: the attempt's time is up."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        try:
            # socket.socket's own shutdown: SSLSocket's would unwrap under a reader's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass
