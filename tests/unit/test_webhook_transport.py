"""Webhook attempts: a total deadline, and the connection pinned to the checked address.

Receivers are real sockets on loopback; the only fake is the DNS answer for a made-up
host name (``socket.getaddrinfo`` for that name alone).
"""

import datetime
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


@pytest.fixture
def dns(monkeypatch):
    """Answer made-up host names from ``answers[name]`` (one address per lookup, in turn).

    Every other name goes to the real resolver. ``lookups`` lists the names asked.
    """
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def test_the_connection_goes_to_the_address_that_was_checked(dns):
    # Given a host name whose DNS answer changes after the check (DNS rebinding): the
    # checked answer is 127.0.0.1, the next one 127.0.0.2, and both have a receiver
    answers, lookups = dns
    with Receiver() as checked, Receiver(host="127.0.0.2", port=checked.port) as rebound:
        answers["hook.rebind.test"] = ["127.0.0.1", "127.0.0.2"]
        url = f"http://hook.rebind.test:{checked.port}/hook"
        # When the attempt resolves (and would check) once, then connects
        destination = resolve_destination(url, allow_private=True)
        answer = post(destination, b"{}", {}, deadline=2, excerpt_bytes=16)
        # Then it reached the checked address, with the URL's host in the Host header
        assert answer.status == 200 and lookups == ["hook.rebind.test"]
        [request] = checked.requests
        assert request["headers"]["Host"] == f"hook.rebind.test:{checked.port}"
        assert rebound.requests == []


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver on 127.0.0.1 whose certificate names ``hook.tls.test`` only.

    Returns the receiver, a client context trusting that certificate, and the server
    names (SNI) clients asked for.
    """
    cert, key = _self_signed("hook.tls.test", tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    names: list[str | None] = []
    server.sni_callback = lambda _sock, name, _ctx: names.append(name)
    with Receiver(tls=server) as receiver:
        yield receiver, ssl.create_default_context(cafile=str(cert)), names


def test_tls_to_the_checked_address_keeps_the_hostname_for_sni_and_the_certificate(
        dns, tls_receiver):
    receiver, trust, names = tls_receiver
    answers, lookups = dns
    answers["hook.tls.test"] = ["127.0.0.1", "127.0.0.2"]
    destination = resolve_destination(f"https://hook.tls.test:{receiver.port}/hook",
                                      allow_private=True)
    answer = post(destination, b"{}", {}, deadline=3, excerpt_bytes=16, tls=trust)
    assert (answer.status, lookups, names) == (200, ["hook.tls.test"], ["hook.tls.test"])
    assert receiver.requests[0]["headers"]["Host"] == f"hook.tls.test:{receiver.port}"


def test_tls_checks_the_certificate_against_the_url_host_not_the_address(dns, tls_receiver):
    receiver, trust, names = tls_receiver
    answers, _ = dns
    answers["other.tls.test"] = ["127.0.0.1"]  # same server, a name its certificate lacks
    destination = resolve_destination(f"https://other.tls.test:{receiver.port}/hook",
                                      allow_private=True)
    with pytest.raises(ssl.SSLCertVerificationError, match="other.tls.test"):
        post(destination, b"{}", {}, deadline=3, excerpt_bytes=16, tls=trust)
    assert receiver.requests == []


def _self_signed(name: str, folder) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


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
