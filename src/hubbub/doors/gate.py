"""Admission: open connections in all, connections per IP, and networks trusted to skip
the per-IP limit."""

from __future__ import annotations

import functools
import ipaddress
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable

from hubbub.core.server_bans import ServerBans
from hubbub.doors.tally import DoorTally

if sys.platform != "win32":
    import resource

logger = logging.getLogger(__name__)

_VERDICTS = 4096
# Files kept for what is not a connection: listeners, the database, logs, the web
# client's files being read.
_RESERVED_FILES = 64
# Seconds between two lines about refusals of one address.
_REFUSALS_LOGGED_EVERY = 60.0
_CONNECTIONS_LOGGED = 20  # an address's connections logged in a minute
# Seconds after which another node's count of an address, not heard again, no longer
# counts (nodes tell theirs again every SHARED_AGAIN seconds).
_SHARED_LASTS = 45.0
SHARED_AGAIN = 15.0
# Where the hard limit of open files is unlimited, the soft one is raised this far (the
# kernel's usual fs.nr_open).
_MOST_FILES = 1 << 20


def connection_ceiling(configured: int) -> int:
    """The most connections to admit in all: ``configured`` (``max_connections``), or
    when that is 0, what the process's limit of open files leaves for them.

    The soft limit is raised to the hard one first, as Go's runtime does for its
    servers: 1024, the usual soft default, is far below what a chat server holds.
    """
    if sys.platform == "win32":
        return configured
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _MOST_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as error:
            logger.warning("cannot raise the limit of open files to %d: %s", wanted, error)
    if soft == resource.RLIM_INFINITY:
        soft = _MOST_FILES
    files = max(soft - _RESERVED_FILES, 1)
    if configured and configured <= files:
        return configured
    if configured:
        logger.warning(
            "max_connections=%d is more than %d open files allow: %d it is",
            configured,
            soft,
            files,
        )
    return files


class Gate:
    """Admission by address: connections per IP, and networks trusted to skip limits.

    Args:
        trusted: addresses or networks (``127.0.0.0/8``) free of flood control and the
            per-IP limit.
        per_ip: the most connections from one address; 0 for no limit.
        most: the most open connections in all, trusted ones too (each is a file
            descriptor: past the process's limit, no door could accept anyone and
            nothing could be opened); 0 for no limit.
    """

    def __init__(self, trusted: tuple[str, ...] = (), per_ip: int = 0, most: int = 0) -> None:
        self.configure(trusted, per_ip, most)
        self._counts: Counter[str] = Counter()
        # By address: refusals not logged yet, and when one last was (see log_refusal).
        self._refusals: dict[str, list[float]] = {}
        # By address: connections logged and unlogged this minute, and when it began.
        self._logged: dict[str, list[float]] = {}
        self.open = 0
        self.refused_full = 0
        # The server's bans (the wiring hands its own): D-lines refuse at the door.
        self.bans = ServerBans()
        # Counted by every connection that passes here (the wiring hands it to the doors).
        self.tally = DoorTally()
        # In a cluster: the other nodes' connections by address block, as each told its
        # count (by node run: the count and when it was heard), and how this node tells
        # its own (the cluster link's, None on one server).
        self._elsewhere: dict[str, dict[str, tuple[int, float]]] = {}
        self.share: Callable[[str, int], None] | None = None

    def configure(self, trusted: tuple[str, ...], per_ip: int, most: int = 0) -> None:
        self._trusted = [ipaddress.ip_network(n, strict=False) for n in trusted]
        # Verdicts by address: parsing an address costs more than the rest of accepting
        # a connection from it. Bounded: cleared when it grows past _VERDICTS.
        self._verdicts: dict[str, bool] = {}
        self.per_ip = per_ip
        self.most = most

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
        if self.most and self.open >= self.most:
            self.refused_full += 1
            if self.refused_full in (1, 10, 100) or self.refused_full % 10_000 == 0:
                logger.warning(
                    "refusing connections: %d are open, the most allowed (max_connections)"
                    " (%d refused)",
                    self.open,
                    self.refused_full,
                )
            return False
        block = _block(host)
        if self.per_ip and not trusted:
            here = self._counts[block]
            if here >= self.per_ip or (
                self._elsewhere and here + self._counted_elsewhere(block) >= self.per_ip
            ):
                return False
        self._counts[block] += 1
        self.open += 1
        return True

    def tell(self, host: str | None) -> None:
        """A connection from ``host`` became a chat session: the other nodes of a
        cluster are told this address's count. Only then: a web page's request or a
        metrics scrape, opened and closed at once, would cost the network's log two
        facts each."""
        if host is None or self.share is None or not self.per_ip or self.is_trusted(host):
            return
        block = _block(host)
        self.share(block, self._counts[block])

    def _counted_elsewhere(self, block: str) -> int:
        counts = self._elsewhere.get(block)
        if not counts:
            return 0
        fresh = time.time() - _SHARED_LASTS
        return sum(count for count, heard in counts.values() if heard >= fresh)

    def heard(self, node: str, block: str, count: int, when: float) -> None:
        """Another node's count of connections from ``block`` (see AddressCounted)."""
        counts = self._elsewhere.setdefault(block, {})
        if count > 0:
            counts[node] = (count, when)
        else:
            counts.pop(node, None)
            if not counts:
                del self._elsewhere[block]

    def lost(self, node: str) -> None:
        """A node run is gone (NodeLost): its connections went with it."""
        for block in list(self._elsewhere):
            counts = self._elsewhere[block]
            counts.pop(node, None)
            if not counts:
                del self._elsewhere[block]

    def shared_counts(self) -> list[tuple[str, int]]:
        """This node's counts, told again now and then (untrusted blocks only)."""
        if not self.per_ip:
            return []
        return [(block, count) for block, count in self._counts.items() if count > 0]

    def banned(self, host: str) -> str | None:
        """The refusal of a D-lined address, in words for the client; None if it may
        connect."""
        ban = self.bans.address_ban(host)
        return None if ban is None else f"You are banned from this server: {ban.reason}"

    @property
    def full(self) -> bool:
        """Whether ``max_connections`` are open (every door refuses, whoever asks)."""
        return bool(self.most) and self.open >= self.most

    def log_refusal(self, host: str, why: str | None = None) -> None:
        """Log that a connection from ``host`` was refused: the first refusal of its
        address in a minute, with how many went unlogged before it. One address that
        connects thousands of times a second must not fill the log (probe 13)."""
        now = time.monotonic()
        block = _block(host)
        entry = self._refusals.get(block)
        if entry is not None and now - entry[1] < _REFUSALS_LOGGED_EVERY:
            entry[0] += 1
            return
        unlogged = entry[0] if entry is not None else 0
        if len(self._refusals) >= _VERDICTS:
            self._refusals.clear()
        self._refusals[block] = [0, now]
        if why is None:
            why = (
                "the server is full (max_connections)"
                if self.full
                else "too many connections from it"
            )
        logger.info(
            "refused %s: %s%s",
            host,
            why,
            f" ({unlogged} more in the last minute)" if unlogged else "",
        )

    def log_connection(self, host: str) -> bool:
        """Whether to log an admitted connection from ``host`` (its coming and going, and
        what it does at INFO): the first :data:`_CONNECTIONS_LOGGED` of its address in a
        minute, and a line when the rest of that minute's go unlogged, with how many
        did once it is over. An address that connects thousands of times a minute must
        not fill the log (probe 14)."""
        now = time.monotonic()
        block = _block(host)
        entry = self._logged.get(block)
        if entry is None or now - entry[1] >= _REFUSALS_LOGGED_EVERY:
            if entry is not None and entry[2]:
                logger.info("%d connections from %s went unlogged in a minute", entry[2], host)
            if len(self._logged) >= _VERDICTS:
                self._logged.clear()
            entry = self._logged[block] = [0, now, 0]
        if entry[0] < _CONNECTIONS_LOGGED:
            entry[0] += 1
            return True
        if not entry[2]:
            logger.info("more connections from %s this minute go unlogged", host)
        entry[2] += 1
        return False

    def release(self, host: str, told: bool = False) -> None:
        """A connection from ``host`` closed; ``told``: the other nodes were told of it
        (:meth:`tell`), and are told it is gone."""
        self.open -= 1
        block = _block(host)
        self._counts[block] -= 1
        left = self._counts[block]
        if left <= 0:
            del self._counts[block]
        if told and self.share is not None and self.per_ip and not self.is_trusted(host):
            self.share(block, max(left, 0))


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
