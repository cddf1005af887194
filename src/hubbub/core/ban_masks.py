"""K-line masks: each one's matcher, and the index that finds the few that may cover a user.

A K-line is ``user@host``: a glob of the username, and for the host an address, a
network or a glob of addresses. A check must cost about the same with tens of thousands
of K-lines (probes 22 and 23: 3,000 of them tried in turn stalled every registration, and
20,000 user-only ones such as ``*spam123*@*`` froze the server). So each mask is filed
under one literal piece of it that any user it covers must show:

- a mask on an address or network, under that network (looked up by prefix length);
- otherwise under the longest of: the literal start of its host glob (``203.0.113.``),
  a run of its user glob between wildcards (``spam123``, ``~bot7``), or such a run of its
  host glob; a check looks up only the pieces of the user's name and host of the lengths
  in use, so a bucket holds the masks that share their piece, not all of them.

A mask with no literal piece at all (none can be set, :data:`MIN_LITERAL` in
``server_bans``; one kept by an older version could be) is tried at every check.

IPv6 host globs are matched against each way the address is commonly written: the short
form the server shows (``2001:db8::1``), each group in full without leading zeros
(``2001:db8:0:0:0:0:0:1``) and the exploded form (``2001:0db8:0000:...``), since an
operator may write a glob in any of them (probe 23: ``*@0:0:0:0:0:0:0:*`` was set and
covered no one).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections import Counter
from collections.abc import Iterator
from typing import Generic, TypeVar

from hubbub.core.modes import Glob

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


@functools.lru_cache(maxsize=4096)
def address_of(host: str) -> Address | None:
    """A user's host as an address: an IPv4 client seen through a dual-stack socket
    (``::ffff:203.0.113.9``) is the IPv4 address it is."""
    try:
        return plain(ipaddress.ip_address(host))
    except ValueError:
        return None


def plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)
def host_forms(host: str) -> tuple[str, ...]:
    """The texts a host glob is matched against: the host as shown, folded, and for an
    IPv6 address its short, full and exploded forms."""
    shown = host.lower()
    address = address_of(shown)
    if not isinstance(address, ipaddress.IPv6Address):
        return (shown,)
    exploded = address.exploded
    full = ":".join(group.lstrip("0") or "0" for group in exploded.split(":"))
    return tuple(dict.fromkeys((shown, str(address), full, exploded)))


class MaskTest:
    """A K-line's matcher, made once as the ban is held: its user glob, and its host as
    an exact address, a network or a glob of the host's forms."""

    __slots__ = ("host", "network", "user")

    def __init__(self, key: str) -> None:
        user_glob, _, host_glob = key.rpartition("@")
        self.user = Glob(user_glob)
        self.network: Network | None = None
        self.host: Glob | None = None
        if "/" in host_glob:
            self.network = ipaddress.ip_network(host_glob)
        elif "*" in host_glob or "?" in host_glob:
            self.host = Glob(host_glob)
        else:
            address = address_of(host_glob)
            if address is not None:
                self.network = ipaddress.ip_network(address)
            else:  # a mask kept before hosts had to be addresses: matched as text
                self.host = Glob(host_glob)

    def __call__(self, username: str, host: str) -> bool:
        if not self.user.fullmatch(username.lower()):
            return False
        if self.network is not None:
            address = address_of(host)
            return address is not None and address in self.network
        glob = self.host
        return glob is not None and any(glob.fullmatch(form) for form in host_forms(host))


_WILDCARD = re.compile(r"[*?]")


def _longest_run(glob: str) -> str:
    """The longest stretch of ``glob`` with no wildcard: any text it matches holds it."""
    return max(_WILDCARD.split(glob), key=len)


class _Pieces(Generic[T]):
    """Masks filed by a literal piece: at a check, every piece of the text of a length in
    use (or only its start, when ``anchored``) is looked up."""

    __slots__ = ("anchored", "by_piece", "lengths")

    def __init__(self, *, anchored: bool) -> None:
        self.anchored = anchored
        self.by_piece: dict[str, dict[str, T]] = {}
        self.lengths: Counter[int] = Counter()

    def put(self, piece: str, mask: str, value: T) -> None:
        self.by_piece.setdefault(piece, {})[mask] = value
        self.lengths[len(piece)] += 1

    def take(self, piece: str, mask: str) -> None:
        bucket = self.by_piece[piece]
        del bucket[mask]
        if not bucket:
            del self.by_piece[piece]
        self.lengths[len(piece)] -= 1
        if not self.lengths[len(piece)]:
            del self.lengths[len(piece)]

    def found(self, text: str) -> Iterator[dict[str, T]]:
        by_piece = self.by_piece
        for length in self.lengths:
            last = len(text) - length
            if last < 0:
                continue
            for start in range(1) if self.anchored else range(last + 1):
                bucket = by_piece.get(text[start : start + length])
                if bucket:
                    yield bucket


class MaskIndex(Generic[T]):
    """K-lines (by their folded mask) and a value each, found by the user they may cover.

    ``candidates`` yields a superset of the masks that match, a few buckets whatever the
    number held; each is then confirmed with its :class:`MaskTest` from ``tests``.
    """

    def __init__(self) -> None:
        self.tests: dict[str, MaskTest] = {}
        self._on_network: dict[tuple[int, int], dict[int, dict[str, T]]] = {}
        self._host_starts: _Pieces[T] = _Pieces(anchored=True)
        self._user_pieces: _Pieces[T] = _Pieces(anchored=False)
        self._host_pieces: _Pieces[T] = _Pieces(anchored=False)
        self._roaming: dict[str, T] = {}
        # Where each mask not on a network was filed, to take it out again.
        self._filed: dict[str, tuple[_Pieces[T], str] | None] = {}

    def add(self, mask: str, value: T) -> None:
        """Hold ``mask`` (replacing what it held) with ``value``."""
        if mask in self.tests:
            self.remove(mask)
        test = self.tests[mask] = MaskTest(mask)
        if test.network is not None:
            network = test.network
            within = self._on_network.setdefault((network.version, network.prefixlen), {})
            within.setdefault(int(network.network_address), {})[mask] = value
            return
        user_glob, _, host_glob = mask.rpartition("@")
        start = _WILDCARD.split(host_glob, maxsplit=1)[0]
        # The longest piece makes the smallest bucket; ties go to the host's start,
        # the cheapest to look up.
        choices = (
            (self._host_starts, start),
            (self._user_pieces, _longest_run(user_glob)),
            (self._host_pieces, _longest_run(host_glob)),
        )
        pieces, piece = max(choices, key=lambda choice: len(choice[1]))
        if not piece:
            self._roaming[mask] = value
            self._filed[mask] = None
            return
        pieces.put(piece, mask, value)
        self._filed[mask] = (pieces, piece)

    def remove(self, mask: str) -> None:
        test = self.tests.pop(mask, None)
        if test is None:
            return
        if test.network is not None:
            network = test.network
            kind = (network.version, network.prefixlen)
            within = self._on_network[kind]
            place = within[int(network.network_address)]
            del place[mask]
            if not place:
                del within[int(network.network_address)]
                if not within:
                    del self._on_network[kind]
            return
        filed = self._filed.pop(mask)
        if filed is None:
            del self._roaming[mask]
        else:
            filed[0].take(filed[1], mask)

    def candidates(self, username: str, host: str) -> Iterator[dict[str, T]]:
        """The buckets of masks that may cover this user: each covering mask is in one."""
        address = address_of(host)
        if address is not None and self._on_network:
            value, bits = int(address), address.max_prefixlen
            for (version, prefix), within in self._on_network.items():
                if version == address.version:
                    shift = bits - prefix
                    found = within.get(value >> shift << shift)
                    if found:
                        yield found
        if self._host_starts.by_piece or self._host_pieces.by_piece:
            for form in host_forms(host):
                yield from self._host_starts.found(form)
                yield from self._host_pieces.found(form)
        if self._user_pieces.by_piece:
            yield from self._user_pieces.found(username.lower())
        if self._roaming:
            yield self._roaming
