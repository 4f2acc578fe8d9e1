"""Which address the per-address limits count: the peer, or X-Forwarded-For only via a trusted proxy."""

from __future__ import annotations

import pytest

from channels.client_ip import TrustedProxies, limit_key

NGINX = TrustedProxies(["127.0.0.1/32"])


def test_a_forged_header_from_an_untrusted_peer_is_ignored() -> None:
    assert NGINX.client_ip("203.0.113.7", ["198.51.100.1"]) == "203.0.113.7"
    assert TrustedProxies([]).client_ip("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client() -> None:
    assert NGINX.client_ip("127.0.0.1", ["198.51.100.1"]) == "198.51.100.1"
    # The client wrote the first two itself; nginx appended the address it saw.
    assert NGINX.client_ip("127.0.0.1", ["6.6.6.6, 7.7.7.7, 198.51.100.1"]) == "198.51.100.1"
    assert NGINX.client_ip("127.0.0.1", ["6.6.6.6", "198.51.100.1"]) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    chain = TrustedProxies(["127.0.0.1/32", "10.0.0.0/8"])
    assert chain.client_ip("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"]) == "198.51.100.1"
    # Nothing but proxies: the left-most proxy is as far as anyone vouches.
    assert chain.client_ip("127.0.0.1", ["10.9.9.9, 10.1.2.3"]) == "10.9.9.9"
    assert chain.client_ip("127.0.0.1", []) == "127.0.0.1"


def test_an_entry_that_is_not_an_address_stops_the_walk_at_the_proxy_that_passed_it() -> None:
    assert NGINX.client_ip("127.0.0.1", ["unknown"]) == "127.0.0.1"
    chain = TrustedProxies(["127.0.0.1/32", "10.0.0.0/8"])
    assert chain.client_ip("127.0.0.1", ["<script>, 10.1.2.3"]) == "10.1.2.3"


def test_a_dual_stack_peer_is_matched_as_ipv4() -> None:
    assert NGINX.client_ip("::ffff:127.0.0.1", ["198.51.100.1"]) == "198.51.100.1"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_subscriber_is_counted_by_its_64(address: str, key: str) -> None:
    assert limit_key(address) == key
