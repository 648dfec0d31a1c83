"""Webhook requests and destinations: what is refused and why (no services needed)."""

import pytest

from app.webhooks.validation import (
    InvalidWebhook,
    UnsafeDestination,
    check_destination,
    parse_webhook,
)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.1.2.3/x",
    "http://192.168.0.10/x", "http://172.16.5.4/x", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x", "http://100.64.0.1/x",
    "http://[fe80::1]/x", "http://224.0.0.1/x",
])
def test_non_public_destinations_are_refused(url):
    with pytest.raises(UnsafeDestination, match="not a public address"):
        check_destination(url)
    with pytest.raises(InvalidWebhook, match="ALLOW_PRIVATE"):
        parse_webhook({"url": url}, allow_private=False)


def test_public_addresses_pass_and_private_ones_pass_when_allowed():
    check_destination("https://93.184.215.14/hook")  # an IP literal: no DNS needed
    request = parse_webhook({"url": "http://127.0.0.1:9/hook#frag", "secret": "s",
                             "headers": {"X-Team": "a"}}, allow_private=True)
    assert request.url == "http://127.0.0.1:9/hook"  # the fragment is not sent
    assert (request.secret, request.headers) == ("s", {"X-Team": "a"})


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeDestination, match="does not resolve"):
        check_destination("https://no-such-host.invalid/hook")


def test_a_bad_port_is_an_invalid_webhook():
    with pytest.raises(InvalidWebhook, match="not valid"):
        parse_webhook({"url": "http://example.com:99999/x"}, allow_private=True)


@pytest.mark.parametrize("address", [
    "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",  # NAT64 of 10/8, 127/8, 169.254
    "2002:a00:1::1", "2002:7f00:1::1", "2002:c0a8:1::1",  # 6to4 of 10/8, 127/8, 192.168/16
    "64:ff9b:1::808:808",  # RFC 8215 local-use NAT64: never a public destination
    "::a00:1",  # deprecated IPv4-compatible form
])
def test_private_ipv4_inside_nat64_and_6to4_is_refused(address):
    with pytest.raises(UnsafeDestination, match="not a public address"):
        check_destination(f"http://[{address}]/hook")


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1"])
def test_public_ipv4_inside_nat64_and_6to4_passes(address):
    check_destination(f"http://[{address}]/hook")
