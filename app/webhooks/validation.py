"""Check a webhook request and the address it points at before anything is sent there."""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
MAX_HEADERS = 20
MAX_HEADER_LENGTH = 512
MAX_SECRET_LENGTH = 4096
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Headers the control plane sets itself, or that would break the request if overridden.
_RESERVED = {"host", "content-length", "content-type", "transfer-encoding", "connection",
             "user-agent"}


class InvalidWebhook(ValueError):
    """Raised when a webhook request cannot be registered; the message says why."""


class UnsafeDestination(ValueError):
    """Raised when a webhook URL resolves to an address we refuse to call."""


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    secret: str | None
    headers: dict[str, str]


def parse_webhook(raw, allow_private: bool) -> WebhookRequest:
    """Turn the body's ``webhook`` object into a WebhookRequest.

    Raises:
        InvalidWebhook: the object, its URL, secret or headers are not acceptable.
    """
    if not isinstance(raw, dict):
        raise InvalidWebhook("'webhook' must be an object with a 'url'")
    url = _parse_url(raw.get("url"))
    secret = raw.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise InvalidWebhook("webhook secret must be a string")
    if secret is not None and len(secret) > MAX_SECRET_LENGTH:
        raise InvalidWebhook(f"webhook secret is longer than {MAX_SECRET_LENGTH} characters")
    headers = _parse_headers(raw.get("headers"))
    if not allow_private:
        try:
            check_destination(url)
        except UnsafeDestination as exc:
            raise InvalidWebhook(str(exc)) from None
    return WebhookRequest(url=url, secret=secret or None, headers=headers)


def _parse_url(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidWebhook("webhook url is required")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"webhook url is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidWebhook(f"webhook url is not valid: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhook("webhook url must use http or https")
    if not parts.hostname:
        raise InvalidWebhook("webhook url must include a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook("webhook url must not contain credentials; use headers or a secret")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _parse_headers(raw) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidWebhook("webhook headers must be an object of strings")
    if len(raw) > MAX_HEADERS:
        raise InvalidWebhook(f"webhook has more than {MAX_HEADERS} headers")
    headers = {}
    for name, value in raw.items():
        if not isinstance(value, str):
            raise InvalidWebhook(f"webhook header {name!r} must have a string value")
        if len(name) > MAX_HEADER_LENGTH or len(value) > MAX_HEADER_LENGTH:
            raise InvalidWebhook(f"webhook header {name[:40]!r} is longer than "
                                 f"{MAX_HEADER_LENGTH} characters")
        if not _TOKEN.match(name):
            raise InvalidWebhook(f"webhook header name {name[:40]!r} is not a valid token")
        if "\r" in value or "\n" in value:
            raise InvalidWebhook(f"webhook header {name!r} must not contain line breaks")
        lowered = name.lower()
        if lowered in _RESERVED or lowered.startswith("x-agentfield-"):
            raise InvalidWebhook(f"webhook header {name!r} is set by the control plane")
        headers[name] = value
    return headers


@dataclass(frozen=True)
class Destination:
    """Where an attempt goes: the URL's host (for Host and TLS) and the address checked."""

    scheme: str
    host: str
    port: int
    address: str
    target: str  # the path and query sent in the request line


def resolve_destination(url: str, allow_private: bool = False) -> Destination:
    """Resolve the URL's host once, check every address, and pin the first one.

    The attempt connects to ``address`` (never resolving again), so a DNS answer that
    changes between the check and the connection cannot redirect it (DNS rebinding).

    Raises:
        UnsafeDestination: the host does not resolve, or (unless ``allow_private``) an
            address is loopback, private, link-local, reserved or multicast.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"webhook host {host!r} does not resolve: {exc}") from None
    addresses = [info[4][0].split("%")[0] for info in infos]
    if not addresses:
        raise UnsafeDestination(f"webhook host {host!r} does not resolve")
    for raw in addresses if not allow_private else ():
        address = ipaddress.ip_address(raw)
        if _is_blocked(address):
            raise UnsafeDestination(
                f"webhook host {host!r} resolves to {address}, which is not a public "
                "address (set AGENTFIELD_WEBHOOK_ALLOW_PRIVATE=1 to allow it)")
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Destination(parts.scheme, host, port, addresses[0], target)


def check_destination(url: str) -> None:
    """Refuse a URL whose host is, or resolves to, a non-public address.

    Called at registration; each attempt checks again through ``resolve_destination``.

    Raises:
        UnsafeDestination: an address is loopback, private, link-local, reserved or
            multicast, or the host does not resolve.
    """
    resolve_destination(url)


# IPv6 forms that carry an IPv4 address, which is what the packet finally reaches.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local use: never public
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def _is_blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return True
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and (address in _NAT64 or address in _IPV4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    # is_global alone lets IETF-reserved ranges through (::/8 holds ::2).
    return not address.is_global or address.is_multicast or address.is_reserved
