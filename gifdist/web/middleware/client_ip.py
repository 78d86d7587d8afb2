"""The client's address, believing forwarding headers only from trusted proxies.

``X-Forwarded-For`` and ``Forwarded`` are read right to left, skipping hops that are
themselves trusted proxies; the first untrusted hop is the client. A request
straight from an untrusted peer is judged by the peer address alone, so a client
cannot spoof its address by sending the header itself. IPv4-mapped IPv6
addresses (``::ffff:1.2.3.4``) are reported as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_FORWARDED_FOR = re.compile(r'for=(?:"?\[?)([^\]";,\s]+)', re.IGNORECASE)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Trusted proxy addresses or CIDR ranges; raises ``ValueError`` on a bad entry."""
    return tuple(
        ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()
    )


def normalise(address: str) -> IPAddress | None:
    """An address object (IPv4-mapped IPv6 unwrapped, ports stripped), or None."""
    text = address.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        parsed = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    for key, value in headers:
        if key == b"forwarded":
            forwarded += _FORWARDED_FOR.findall(value.decode("latin-1"))
        elif key == b"x-forwarded-for":
            x_forwarded += [part for part in value.decode("latin-1").split(",") if part.strip()]
    return forwarded or x_forwarded


def client_address(scope: MutableMapping[str, Any], trusted: Sequence[IPNetwork]) -> str:
    """The best-known client address for an ASGI ``scope`` (``"unknown"`` if none)."""
    peer_info = scope.get("client")
    peer = normalise(str(peer_info[0])) if peer_info else None
    if peer is None:
        return "unknown"
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    client = peer
    for hop in reversed(_forwarded_chain(scope.get("headers", ()))[:64]):
        address = normalise(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)
