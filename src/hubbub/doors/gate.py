"""Admission by address: connections per IP, and networks trusted to skip the limits."""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter

_VERDICTS = 4096


class Gate:
    """Admission by address: connections per IP, and networks trusted to skip limits.

    Args:
        trusted: addresses or networks (``127.0.0.0/8``) free of flood control and limits.
        per_ip: the most connections from one address; 0 for no limit.
    """

    def __init__(self, trusted: tuple[str, ...] = (), per_ip: int = 0) -> None:
        self.configure(trusted, per_ip)
        self._counts: Counter[str] = Counter()

    def configure(self, trusted: tuple[str, ...], per_ip: int) -> None:
        self._trusted = [ipaddress.ip_network(n, strict=False) for n in trusted]
        # Verdicts by address: parsing an address costs more than the rest of accepting
        # a connection from it. Bounded: cleared when it grows past _VERDICTS.
        self._verdicts: dict[str, bool] = {}
        self.per_ip = per_ip

    def is_trusted(self, host: str) -> bool:
        if not self._trusted:
            return False
        verdict = self._verdicts.get(host)
        if verdict is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                verdict = False
            else:
                verdict = any(address in network for network in self._trusted)
            if len(self._verdicts) >= _VERDICTS:
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return verdict

    def admit(self, host: str, trusted: bool) -> bool:
        """Count a new connection from ``host``; False if it is one too many."""
        block = _block(host)
        if self.per_ip and not trusted and self._counts[block] >= self.per_ip:
            return False
        self._counts[block] += 1
        return True

    def release(self, host: str) -> None:
        block = _block(host)
        self._counts[block] -= 1
        if self._counts[block] <= 0:
            del self._counts[block]


def _block(host: str) -> str:
    """What connections are counted by: an IPv4 address itself, an IPv6 address by its
    /64 (a subscriber has a whole /64 to connect from; the account throttles count the
    same way)."""
    if ":" not in host:
        return host
    return _ipv6_block(host)


@functools.lru_cache(maxsize=_VERDICTS)
def _ipv6_block(host: str) -> str:
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host
