"""Admission by address: connections per IP, and networks trusted to skip the limits."""

from __future__ import annotations

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
        if self.per_ip and not trusted and self._counts[host] >= self.per_ip:
            return False
        self._counts[host] += 1
        return True

    def release(self, host: str) -> None:
        self._counts[host] -= 1
        if self._counts[host] <= 0:
            del self._counts[host]
