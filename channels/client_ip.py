"""Who is asking: the client address the gateway may believe, for per-address limits.

The socket peer is the client, unless the peer is one of the configured trusted proxies
(``ZY_GATEWAY__TRUSTED_PROXIES``); then X-Forwarded-For is read from the right, each trusted hop
vouching for the address left of it, and the first address not a trusted proxy is the client.
Everything further left was written by the client itself and proves nothing: a script that sends
``X-Forwarded-For: 1.2.3.4`` to get a fresh allowance gets its own address counted all the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Annotated

from fastapi import Depends, Request

from core.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# One subscriber gets a whole /64 (RFC 6177); counting single IPv6 addresses would let a client
# take a new address, and a new allowance, for every request.
IPV6_SUBSCRIBER_PREFIX = 64


def _address(text: str) -> Address | None:
    """The address in ``text``; an IPv4-mapped IPv6 one (a dual-stack socket's peer) as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For is believed (CIDRs; none by default)."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self._networks: tuple[Network, ...] = tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self._networks)

    def client_ip(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address given the socket ``peer`` and every X-Forwarded-For header."""
        if not self.trusts(_address(peer)):
            return peer
        client = peer
        hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # A trusted proxy would have written an address: whoever wrote this is not one,
                # and the proxy that passed it on (``client``) is as far as the chain is known.
                return client
            client = str(address)
            if not self.trusts(address):
                return client
        return client


def limit_key(address: str) -> str:
    """What a per-address limit counts: the address, or for IPv6 the subscriber's /64."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return address if parsed is None else str(parsed)


def _trusted_proxies(request: Request) -> TrustedProxies:
    state = request.app.state
    proxies: TrustedProxies | None = getattr(state, "trusted_proxies", None)
    if proxies is None:
        settings = getattr(state, "settings", None) or get_settings()
        proxies = state.trusted_proxies = TrustedProxies(settings.gateway.trusted_proxies)
    return proxies


def client_ip(request: Request) -> str:
    """The request's client address under the app's settings (``app.state.settings``, else the
    process settings); ``"unknown"`` when the server did not say who the peer is."""
    peer = request.client.host if request.client else "unknown"
    return _trusted_proxies(request).client_ip(peer, request.headers.getlist("x-forwarded-for"))


ClientIpDep = Annotated[str, Depends(client_ip)]
