"""The client's address: the peer's, or the one trusted proxies report in X-Forwarded-For.

Only peers listed in FORWARDED_ALLOW_IPS are believed (default: none), and only about the
hops they appended: the walk goes from the right, past every trusted proxy, and stops at
the first address no trusted proxy could have made up. A value that is not an IP address
stops the walk too, and the peer's own address is used: junk never becomes a new client
(nor a new rate-limit bucket).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address


def _parse(text: str) -> IPAddress | None:
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # one client, one spelling
    return address


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        entries = tuple(entries)
        self._everyone = "*" in entries
        self._networks = tuple(ip_network(entry, strict=False) for entry in entries if entry != "*")

    def __bool__(self) -> bool:
        return self._everyone or bool(self._networks)

    def trusts(self, address: IPAddress) -> bool:
        return self._everyone or any(address in network for network in self._networks)

    def client_address(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """`peer` unless it is a trusted proxy; then the rightmost untrusted X-Forwarded-For
        hop (all trusted: the leftmost one). `forwarded_for`: the header's values in order."""
        peer_address = _parse(peer)
        if peer_address is None or not self.trusts(peer_address):
            return peer if peer_address is None else str(peer_address)
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        client = peer_address
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                return str(peer_address)
            client = address
            if not self.trusts(address):
                break
        return str(client)
