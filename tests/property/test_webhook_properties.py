"""Webhooks: the URL checker refuses with its own errors and lets no private address
through, and the README's receiver check accepts exactly what we sign."""

import ipaddress
import re
import time
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.provisional import urls

from app.webhooks.signing import SIGNATURE_V2, signature_headers
from app.webhooks.validation import (
    InvalidWebhook,
    UnsafeDestination,
    check_destination,
    parse_webhook,
)
from tests.property.strategies import JSON, TEXT

ROOT = Path(__file__).resolve().parents[2]
ADDRESSES = st.ip_addresses(v=4) | st.ip_addresses(v=6)
HEADER_NAMES = st.from_regex(r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}\Z") | TEXT


_EMBEDDING = [  # (IPv6 prefix, how to read the IPv4 address it carries)
    (ipaddress.ip_network("::ffff:0:0/96"), lambda n: n & 0xFFFFFFFF),  # mapped
    (ipaddress.ip_network("::/96"), lambda n: n & 0xFFFFFFFF),  # compatible (deprecated)
    (ipaddress.ip_network("64:ff9b::/96"), lambda n: n & 0xFFFFFFFF),  # NAT64, RFC 6052
    (ipaddress.ip_network("2002::/16"), lambda n: (n >> 80) & 0xFFFFFFFF),  # 6to4
]
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use only


def _not_public(address) -> bool:
    """Loopback, private, link-local, reserved, unspecified or multicast; an IPv6 form
    that carries an IPv4 address (mapped, NAT64, 6to4) is judged by that address."""
    if address.version == 6:
        if address in _NAT64_LOCAL:
            return True
        for prefix, embedded in _EMBEDDING:
            if address in prefix:
                address = ipaddress.IPv4Address(embedded(int(address)))
                break
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_reserved or address.is_unspecified or address.is_multicast
            or not address.is_global)


@st.composite
def literal_urls(draw, addresses=ADDRESSES) -> tuple[str, ipaddress._BaseAddress]:
    """A URL whose host is an address literal, in any spelling the resolver accepts."""
    address = draw(addresses)
    if address.version == 4:
        number = int(address)
        host = draw(st.sampled_from([str(address), str(number), hex(number),
                                     f"[::ffff:{address}]"]))
    else:
        host = f"[{address}]"
    port = draw(st.none() | st.integers(1, 65535))
    path = draw(st.sampled_from(["", "/", "/hook", "/a/b?x=1"]))
    scheme = draw(st.sampled_from(["http", "https"]))
    return f"{scheme}://{host}{f':{port}' if port else ''}{path}", address


@given(literal_urls())
def test_no_url_that_resolves_to_a_non_public_address_passes(drawn):
    url, address = drawn
    try:
        check_destination(url)
    except UnsafeDestination:
        refused = True
    else:
        refused = False

    assert refused == _not_public(address), url


@given(literal_urls(), st.none() | TEXT, st.none() | st.dictionaries(HEADER_NAMES, TEXT))
def test_with_the_guard_on_a_private_url_is_refused_at_registration(drawn, secret, headers):
    url, address = drawn
    assume(_not_public(address))
    raw = {"url": url, "secret": secret, "headers": headers}

    try:
        parse_webhook(raw, allow_private=False)
    except InvalidWebhook:
        return
    raise AssertionError(f"{url} was accepted with the guard on")


@given(JSON | st.fixed_dictionaries({}, optional={
    "url": urls() | TEXT | JSON, "secret": TEXT | JSON,
    "headers": st.dictionaries(HEADER_NAMES, TEXT | JSON, max_size=25) | JSON}))
def test_any_webhook_object_is_accepted_or_refused_with_invalid_webhook(raw):
    try:
        webhook = parse_webhook(raw, allow_private=True)  # no DNS: the guard is off
    except InvalidWebhook:
        return
    assert webhook.url.startswith(("http://", "https://"))
    assert all(isinstance(v, str) and "\n" not in v for v in webhook.headers.values())
    assert not any(name.lower().startswith("x-agentfield-") for name in webhook.headers)


def _readme_verifier():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return namespace["verify_webhook"]


VERIFY = _readme_verifier()
SECRETS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=64)
AGES = st.integers(-250, 250)  # well inside the receiver's 300 s tolerance


@given(SECRETS, st.binary(max_size=2048), AGES)
def test_the_readme_receiver_accepts_our_signature_for_any_body(secret, body, age):
    headers = signature_headers(secret, int(time.time()) - age, body)

    assert VERIFY(secret, body, headers)


@given(SECRETS, st.binary(min_size=1, max_size=2048), AGES, st.data())
def test_the_readme_receiver_rejects_any_one_byte_change(secret, body, age, data):
    headers = signature_headers(secret, int(time.time()) - age, body)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1:]

    assert not VERIFY(secret, changed, headers)
    assert not VERIFY(secret + "x", body, headers)  # nor another secret
    tampered = {**headers, SIGNATURE_V2: headers[SIGNATURE_V2][:-1] + (
        "0" if headers[SIGNATURE_V2][-1] != "0" else "1")}
    assert not VERIFY(secret, body, tampered)


@given(SECRETS, st.binary(max_size=256), st.integers(301, 10**9) | st.integers(-10**9, -301))
def test_the_readme_receiver_rejects_a_timestamp_outside_its_tolerance(secret, body, age):
    headers = signature_headers(secret, int(time.time()) - age, body)

    assert not VERIFY(secret, body, headers)
