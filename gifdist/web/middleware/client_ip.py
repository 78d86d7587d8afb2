"""The client's address, believing a forwarding header only from trusted proxies.

Exactly one header is believed: the one the operator names in
``GIFDIST_CLIENT_IP_HEADER`` (``x-forwarded-for`` by default, or ``forwarded``);
the other is ignored even from a trusted proxy, so a client cannot slip its own
``Forwarded: for=…`` past a proxy that only appends to ``X-Forwarded-For``. The
header is read right to left, skipping hops that are themselves trusted proxies;
the first untrusted hop is the client. A request straight from an untrusted peer
is judged by the peer address alone. IPv4-mapped IPv6 addresses
(``::ffff:1.2.3.4``) are reported as the IPv4 address they carry.

Every place that needs the client (rate limits, reports, visitor ids, page views)
asks the one ``ClientAddresses`` built from the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

from gifdist.addresses import IPNetwork, is_trusted, normalise, parse_networks

_FORWARDED_FOR = re.compile(r'for=(?:"?\[?)([^\]";,\s]+)', re.IGNORECASE)


CLIENT_IP_HEADERS = ("x-forwarded-for", "forwarded")


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]], header: str) -> list[str]:
    """The hops named by ``header`` only (every occurrence, in order)."""
    name = header.encode()
    hops: list[str] = []
    for key, value in headers:
        if key != name:
            continue
        text = value.decode("latin-1")
        if name == b"forwarded":
            hops += _FORWARDED_FOR.findall(text)
        else:
            hops += [part for part in text.split(",") if part.strip()]
    return hops


def client_address(
    scope: MutableMapping[str, Any],
    trusted: Sequence[IPNetwork],
    header: str = "x-forwarded-for",
) -> str:
    """The best-known client address for an ASGI ``scope`` (``"unknown"`` if none),
    believing only ``header`` and only from ``trusted`` peers."""
    peer_info = scope.get("client")
    peer = normalise(str(peer_info[0])) if peer_info else None
    if peer is None:
        return "unknown"
    if not trusted or not is_trusted(peer, trusted):
        return str(peer)
    client = peer
    for hop in reversed(_forwarded_chain(scope.get("headers", ()), header)[-64:]):
        address = normalise(hop)
        if address is None:
            break
        client = address
        if not is_trusted(address, trusted):
            break
    return str(client)


class ClientAddresses:
    """The deployment's one way to tell who the client is (trusted proxies + header)."""

    def __init__(self, trusted: Sequence[IPNetwork], header: str = "x-forwarded-for") -> None:
        if header not in CLIENT_IP_HEADERS:
            raise ValueError(f"client IP header must be one of {', '.join(CLIENT_IP_HEADERS)}")
        self.trusted = tuple(trusted)
        self.header = header
        self._peers: dict[str, str] = {}  # peer as the server gave it → normalised

    @classmethod
    def from_settings(cls, trusted_proxies: Iterable[str], header: str) -> ClientAddresses:
        return cls(parse_networks(trusted_proxies), header)

    def __call__(self, scope: MutableMapping[str, Any]) -> str:
        """The client address of ``scope`` (``"unknown"`` when the server gave none)."""
        if not self.trusted:  # the common case: nothing to believe but the peer
            peer = scope.get("client")
            if not peer:
                return "unknown"
            raw = str(peer[0])
            known = self._peers.get(raw)
            if known is None:  # parsing an address costs more than the rest of a hit
                address = normalise(raw)
                known = "unknown" if address is None else str(address)
                if len(self._peers) >= 16_384:
                    self._peers.clear()
                self._peers[raw] = known
            return known
        return client_address(scope, self.trusted, self.header)
