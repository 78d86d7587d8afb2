"""Client addresses and trusted networks, read one way everywhere.

The web front resolves a request's client through trusted proxies
(``gifdist.web.middleware.client_ip``); the caching proxy's log lines name clients and
come from senders (``gifdist.analytics.edge``). Both read addresses and networks here,
so a client is the same visitor whichever of them saw it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    return parse_address(text)


def parse_address(text: str) -> IPAddress | None:
    """``text`` as exactly one address (a ``%scope`` dropped, IPv4-mapped IPv6
    unwrapped), or None: no port, brackets or quotes, as a socket reports a peer."""
    try:
        parsed = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def is_trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)
