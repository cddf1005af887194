"""Server bans: K-lines (``user@host`` masks), D-lines (addresses and networks) and bans
of accounts, each with its reason, who set it and when it ends.

The list is kept by the wiring (``moderation.py``: loaded from the store, saved to it,
polled for what ``hubbub admin`` changed); the doors ask it whether a connection, a user
completing registration or a login is banned, and :func:`ban_facts` turns a new ban
into the facts that disconnect whoever it matches.

Bans name what cannot be taken over later: an address, a mask of user and host, or an
account by its stable id (a dropped account's name, registered again, is not banned).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

from hubbub.core.ban_masks import MaskIndex, MaskTest, address_of, plain
from hubbub.core.events import Banned, Event, Quit
from hubbub.core.model import User

# The narrowest networks a D-line (or a K-line's host) may cover: wider ones are too
# easy to set by mistake and shut out whole providers (solanum's defaults).
MIN_PREFIX_V4 = 16
MIN_PREFIX_V6 = 48
# A K-line mask must have this many characters that are not wildcards or separators,
# so that ``*@*`` and the like cannot ban everyone.
MIN_LITERAL = 4
MAX_MINUTES = 10 * 365 * 24 * 60
MAX_REASON = 300
MAX_MASK = 200
ACCOUNT_PREFIX = "$a:"


class BanKind(enum.StrEnum):
    MASK = "K"  # user@host
    ADDRESS = "D"  # an address or network
    ACCOUNT = "A"  # an account, by id


# What users see as the quit of someone a ban disconnected (the reason is theirs only).
QUIT_MESSAGES = {BanKind.MASK: "K-Lined", BanKind.ADDRESS: "D-Lined", BanKind.ACCOUNT: "Banned"}


class BadBan(ValueError):
    """A ban that cannot be set, with what is wrong in words for the operator."""


@dataclass(frozen=True, slots=True)
class ServerBan:
    """One ban.

    ``mask`` is its key within its kind: the folded ``user@host`` mask, the network in
    its normal form (``10.0.0.0/16``, ``2001:db8::1/128``), or the account's id; ``label``
    is what operators see (the mask as set, the account's name)."""

    kind: BanKind
    mask: str
    label: str
    reason: str
    set_by: str
    set_at: float
    expires: float | None = None

    def active(self, now: float) -> bool:
        return self.expires is None or now < self.expires

    def describe(self, now: float) -> str:
        """``*@10.0.0.5 (58 minutes left): spam`` — for replies and listings."""
        if self.expires is None:
            left = "permanent"
        else:
            minutes = max(0, round((self.expires - now) / 60))
            left = f"{minutes} minute{'' if minutes == 1 else 's'} left"
        return f"{self.label} ({left}, by {self.set_by}): {self.reason}"


def to_json(ban: ServerBan) -> str:
    return json.dumps(asdict(ban), ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> ServerBan:
    """Raises:
    ValueError: not a ban this code wrote."""
    data = json.loads(text)
    return ServerBan(
        BanKind(data["kind"]),
        str(data["mask"]),
        str(data["label"]),
        str(data["reason"]),
        str(data["set_by"]),
        float(data["set_at"]),
        None if data["expires"] is None else float(data["expires"]),
    )


def expiry(minutes: int | None, now: float) -> float | None:
    """When a ban of ``minutes`` set at ``now`` ends (None: never).

    Raises:
        BadBan: not between 1 and MAX_MINUTES.
    """
    if minutes is None:
        return None
    if not 1 <= minutes <= MAX_MINUTES:
        raise BadBan(f"the duration must be 1 to {MAX_MINUTES} minutes (or none: permanent)")
    return now + minutes * 60


def reason_of(text: str) -> str:
    # Control and format characters (an escape sequence) would reach the banned user's
    # client, the log and an operator's terminal as they are (probe 22).
    text = "".join(c for c in text if c.isprintable() or c.isspace())
    text = " ".join(text.split())
    return text[:MAX_REASON] or "No reason"


# What a K-line's host may hold besides wildcards: users' hosts are addresses (hubbub
# looks up no host names), so a mask of names would match no one, silently.
_ADDRESS_CHARACTERS = frozenset("0123456789abcdef.:*?")


def mask_key(mask: str) -> tuple[str, str]:
    """A K-line's mask as (key, label): ``user@host``, user and host folded to lower case,
    the host an address, a network (in their normal forms), or a wildcard of addresses.

    Raises:
        BadBan: not ``user@host``, a host name, too broad or too long.
    """
    mask = mask.strip()
    if len(mask) > MAX_MASK:
        raise BadBan(f"the mask is longer than {MAX_MASK} characters")
    user, at, host = mask.rpartition("@")
    if not at:
        user, host = "*", mask  # a bare host bans every user of it
    if not user or not host or not user.isprintable() or any(c in user for c in "@ ,!"):
        raise BadBan("the mask must be user@host, like *@203.0.113.7 or *@203.0.113.0/24")
    if "/" in host:
        host = str(network_of(host))
    elif not set(host.lower()) <= _ADDRESS_CHARACTERS:
        raise BadBan(
            "hosts are addresses here (no host names are looked up): ban *@203.0.113.7, "
            "a network *@203.0.113.0/24 or a wildcard *@203.0.113.*"
        )
    elif "*" not in host and "?" not in host:
        address = address_of(host)
        if address is None:
            raise BadBan(f"{host[:60]!r} is not an address")
        host = str(plain(address))
    if sum(c not in "*?.:@" for c in user + host) < MIN_LITERAL:
        raise BadBan(f"the mask is too broad: it needs {MIN_LITERAL} characters not wildcards")
    label = f"{user}@{host}"
    return label.lower(), label


def network_of(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or network for a D-line, no wider than the narrowest allowed; an IPv4
    network written as IPv6 (``::ffff:203.0.113.0/120``) is the IPv4 one.

    Raises:
        BadBan: not an address or network, or too wide.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise BadBan(f"{text[:60]!r} is not an address or a network like 203.0.113.0/24") from None
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        # Checked as the IPv4 network it is: ::ffff:0:0/96 would be every IPv4 client.
        mapped = ipaddress.IPv4Address(int(network.network_address) & 0xFFFFFFFF)
        network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    least = MIN_PREFIX_V4 if network.version == 4 else MIN_PREFIX_V6
    if network.prefixlen < least:
        raise BadBan(f"the network is too wide: /{least} at most for IPv{network.version}")
    return network


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class ServerBans:
    """The bans in force, asked at every connection, registration and login.

    Each check costs the same whatever the number of bans: D-lines are found by lookups
    (by each prefix length in use), K-lines by the pieces of them a user must show
    (``ban_masks.MaskIndex``), each with a matcher made once (probe 22: a shared cache
    of compiled masks thrashed past 1,024 of them, and 3,000 K-lines stalled the server
    at every registration).

    Args:
        clock: the time now, in epoch seconds (tests move it to see bans end).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._bans: dict[tuple[BanKind, str], ServerBan] = {}
        # D-lines by (IP version, prefix length), then by the network's first address.
        self._networks: dict[tuple[int, int], dict[int, ServerBan]] = {}
        # K-lines, filed by a piece every user they cover shows (``ban_masks``).
        self._masks: MaskIndex[ServerBan] = MaskIndex()

    def __len__(self) -> int:
        return len(self._bans)

    def __iter__(self) -> Iterator[ServerBan]:
        return iter(
            sorted(self._bans.values(), key=lambda b: (list(BanKind).index(b.kind), b.set_at))
        )

    def get(self, kind: BanKind, mask: str) -> ServerBan | None:
        return self._bans.get((kind, mask))

    def replace(self, bans: Iterable[ServerBan]) -> list[ServerBan]:
        """Hold exactly ``bans``; return those that are new or changed (to enforce)."""
        new = {(ban.kind, ban.mask): ban for ban in bans}
        for key in [key for key in self._bans if key not in new]:
            self.remove(*key)
        changed = [ban for key, ban in new.items() if self._bans.get(key) != ban]
        for ban in changed:
            self.add(ban)
        return changed

    def add(self, ban: ServerBan) -> None:
        self.remove(ban.kind, ban.mask)
        self._bans[ban.kind, ban.mask] = ban
        if ban.kind is BanKind.ADDRESS:
            network = ipaddress.ip_network(ban.mask)
            within = self._networks.setdefault((network.version, network.prefixlen), {})
            within[int(network.network_address)] = ban
        elif ban.kind is BanKind.MASK:
            self._masks.add(ban.mask, ban)

    def remove(self, kind: BanKind, mask: str) -> ServerBan | None:
        ban = self._bans.pop((kind, mask), None)
        if ban is None:
            return None
        if kind is BanKind.ADDRESS:
            network = ipaddress.ip_network(mask)
            within = self._networks.get((network.version, network.prefixlen), {})
            within.pop(int(network.network_address), None)
            if not within:
                self._networks.pop((network.version, network.prefixlen), None)
        elif kind is BanKind.MASK:
            self._masks.remove(mask)
        return ban

    def expired(self) -> list[ServerBan]:
        now = self.clock()
        return [ban for ban in self._bans.values() if not ban.active(now)]

    def address_ban(self, host: str) -> ServerBan | None:
        """The D-line an address is under, if any (checked as a connection is accepted)."""
        if not self._networks:
            return None
        address = address_of(host)
        if address is None:
            return None
        value, bits, now = int(address), address.max_prefixlen, self.clock()
        for (version, prefix), within in self._networks.items():
            if version != address.version:
                continue
            shift = bits - prefix
            ban = within.get(value >> shift << shift)
            if ban is not None and ban.active(now):
                return ban
        return None

    def user_ban(self, username: str, host: str, account_id: str | None) -> ServerBan | None:
        """The ban, of any kind, a user with these is under, if any."""
        if not self._bans:
            return None
        found = self.address_ban(host)
        if found is not None:
            return found
        now = self.clock()
        if account_id is not None:
            ban = self._bans.get((BanKind.ACCOUNT, account_id))
            if ban is not None and ban.active(now):
                return ban
        tests = self._masks.tests
        for bans in self._masks.candidates(username, host):
            for mask, ban in bans.items():
                if ban.active(now) and tests[mask](username, host):
                    return ban
        return None

    def account_ban(self, account_id: str) -> ServerBan | None:
        ban = self._bans.get((BanKind.ACCOUNT, account_id))
        return ban if ban is not None and ban.active(self.clock()) else None


def matches(ban: ServerBan, user: User) -> bool:
    """Whether ``ban`` covers ``user`` (as it stands now)."""
    return covers(ban, user.username, user.host, user.account_id)


def covers(ban: ServerBan, username: str, host: str, account_id: str | None) -> bool:
    """Whether ``ban`` covers a connection with these (a user's, or one of its devices')."""
    match ban.kind:
        case BanKind.ACCOUNT:
            return account_id == ban.mask
        case BanKind.ADDRESS:
            address = address_of(host)
            return address is not None and address in ipaddress.ip_network(ban.mask)
    return MaskTest(ban.mask)(username, host)


def unidented_form(ban: ServerBan, users: Iterable[User]) -> str | None:
    """For a K-line that covers no one, the mask that would cover someone if the
    operator forgot the ``~`` the server puts before an unidented user's name: the
    common mistake of ``KLINE mal@host`` for ``~mal``."""
    user_glob, _, host_glob = ban.mask.rpartition("@")
    if ban.kind is not BanKind.MASK or user_glob.startswith(("~", "*", "?")):
        return None
    test = MaskTest(f"~{user_glob}@{host_glob}")
    if any(test(u.username, u.host) for u in users):
        shown_user, _, shown_host = ban.label.rpartition("@")
        return f"*{shown_user}@{shown_host}"
    return None


def ban_facts(ban: ServerBan, users: Iterable[User]) -> list[Event]:
    """The facts that disconnect every one of ``users`` the ban covers: each is told why
    (465), then quits with the ban's kind as its message."""
    facts: list[Event] = []
    test = MaskTest(ban.mask) if ban.kind is BanKind.MASK else None
    for user in users:
        if test(user.username, user.host) if test is not None else matches(ban, user):
            facts.append(Banned(user.id, ban.reason))
            facts.append(Quit(user.actor, QUIT_MESSAGES[ban.kind], forced=True))
    return facts
