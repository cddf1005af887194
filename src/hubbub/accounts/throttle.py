"""Throttling failed logins (NickServ IDENTIFY and DROP, SASL PLAIN, SCRAM-SHA-256 and
EXTERNAL, OPER) by :class:`LoginThrottle`, and account registrations by
:class:`RegistrationThrottle`. Failed logins follow this rule:

- Failures are counted per (account, address) pair. Each attempt counts as a failure
  from the moment it starts, so attempts made at once on many connections are counted
  too; an attempt that succeeds clears its pair. A pair's first 3 failures cost nothing
  (typos); after that, each attempt must wait twice as long after the pair's last
  failure as the one before: 2 s, 4 s, 8 s … up to 15 minutes. A pair is forgotten a
  day after its last failure.
- Attempts still under way are not yet failures for the wait: up to 8 of a pair, begun
  within the last 30 s, neither succeeded nor failed, are left out of its count. The
  devices of one account behind one address (a home's NAT) that log in together after
  a blip or a restart are not refused for each other; an attacker gains those 8 guesses
  once (on each node it reaches at the same instant), then waits for them all. An
  attempt left unfinished counts in full after 30 s.
- Nothing is counted per account alone, and nothing locks: wrong passwords from one
  address never keep the account's owner from logging in from another.
- Against one password sprayed over many accounts, an address may have failures
  outstanding (not yet made good by a login) on at most 20 accounts in the last hour;
  past that, it may try no further account, but for those that have logged in from it
  in the last 30 days. Typos of a few users behind one shared address stay far below
  this, and a user who has logged in from there before is never kept out by it.
- An address is an IPv4 address or an IPv6 /64, since one subscriber has a whole /64.
- Each table keeps at most 10 000 entries, the least recent forgotten first: an attack
  with endless names or addresses costs a fixed amount of memory, and can at most make
  old failures be forgotten early.

In a cluster every node counts what every other counted (:class:`Shared`): an address
gets one allowance from the network, not one from each node, but for attempts that reach
several nodes at the same instant, before their counts are shared: each gets the
allowance of the node it reaches (free and under way), and then every node waits as one.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from hubbub.accounts.errors import AccountError

K = TypeVar("K", bound=Hashable)
# Told each step a throttle counted here, with its keys (see Shared).
Share = Callable[[str, tuple[str, ...]], None]


class Shared:
    """A throttle whose counts the nodes of a cluster share: the cluster sets ``share``,
    which is then told each step counted here, and hands each step another node counted
    to :meth:`count_shared`. On one server ``share`` stays None and costs nothing."""

    share: Share | None = None

    def _tell(self, step: str, *keys: str) -> None:
        if self.share is not None:
            self.share(step, keys)

    def count_shared(self, step: str, keys: tuple[str, ...]) -> None:
        """Count a step another node counted (never refused: it was counted there)."""
        raise NotImplementedError


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class Backoff(Generic[K]):
    """Failures by key; past the first few, each doubles the wait before the next try.

    Args:
        free: failures that cost no wait.
        first: the wait after the first failure past those, in seconds.
        longest: the longest wait.
        forget: seconds after its last failure when a key is forgotten.
        size: the most keys kept; the one that failed least recently goes first.
    """

    def __init__(self, free: int, first: float, longest: float, forget: float, size: int) -> None:
        self.free = free
        self.first = first
        self.longest = longest
        self.forget = forget
        self.size = size
        # Oldest failure first (``now`` never goes back), so expiry looks at the front only.
        self._failures: OrderedDict[K, _Failures] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def wait(self, key: K, now: float, unsettled: int = 0) -> float:
        """Seconds before ``key`` may try again; 0 when it may now. ``unsettled`` of its
        failures are left out of the count (attempts still under way)."""
        self._expire(now)
        failures = self._failures.get(key)
        if failures is None or failures.count - unsettled < self.free:
            return 0.0
        # Capped exponent: the count of a key that keeps failing must not overflow a float.
        doubling = min(failures.count - unsettled - self.free, 32)
        delay = min(self.longest, self.first * 2.0**doubling)
        return max(0.0, failures.last + delay - now)

    def fail(self, key: K, now: float) -> int:
        """Count a failure of ``key``; how many it has had."""
        failures = self._failures.pop(key, None) or _Failures(0, now)
        failures.count += 1
        failures.last = now
        self._failures[key] = failures
        if len(self._failures) > self.size:
            self._failures.popitem(last=False)
        return failures.count

    def forgive(self, key: K) -> None:
        self._failures.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._failures:
            key, failures = next(iter(self._failures.items()))
            if failures.last > now - self.forget:
                return
            del self._failures[key]


def seconds(wait: float) -> str:
    """A wait as a user reads it: whole seconds, rounded up."""
    whole = math.ceil(wait)
    return f"{whole} second" if whole == 1 else f"{whole} seconds"


def address_block(address: str) -> str:
    """What an address is throttled as: itself for IPv4, its /64 for IPv6 (a subscriber
    has a whole /64 to pick addresses from)."""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle(Shared):
    """Failed logins by (account, address), by the rule in the module docstring.

    Args:
        clock: a monotonic clock.
        free: failures of one pair that cost no wait.
        first: the wait after the first failure past those.
        longest: the longest wait.
        forget: seconds after its last failure when a pair is forgotten.
        accounts_per_address: accounts an address may have failures outstanding on.
        spray_window: seconds those failures are remembered for that bound.
        known_for: seconds a login exempts its pair from that bound.
        parallel: attempts of a pair under way that are not yet failures for its wait.
        settle_within: seconds after which an attempt under way counts in full.
        size: the most entries of each table.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        free: int = 3,
        first: float = 2.0,
        longest: float = 900.0,
        forget: float = 86_400.0,
        accounts_per_address: int = 20,
        spray_window: float = 3600.0,
        known_for: float = 30 * 86_400.0,
        parallel: int = 8,
        settle_within: float = 30.0,
        size: int = 10_000,
    ) -> None:
        self.clock = clock
        self.accounts_per_address = accounts_per_address
        self.spray_window = spray_window
        self.known_for = known_for
        self.parallel = parallel
        self.settle_within = settle_within
        self.size = size
        self._pairs: Backoff[tuple[str, str]] = Backoff(free, first, longest, forget, size)
        # Address block → account → its latest failure, for the bound on accounts.
        self._tried: OrderedDict[str, dict[str, float]] = OrderedDict()
        # (account, address block) → when it last logged in; oldest first.
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        # (account, address block) → when its attempts under way began, oldest first.
        self._under_way: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def entries(self) -> int:
        """How many entries the tables hold (they are bounded)."""
        tried = sum(map(len, self._tried.values()))
        return len(self._pairs) + len(self._known) + tried + len(self._under_way)

    def begin(self, account: str, address: str) -> None:
        """Count an attempt to log in to ``account`` (a folded name) from ``address``,
        before its credentials are checked.

        Raises:
            AccountError: RATE_LIMITED, and nothing is counted.
        """
        now = self.clock()
        block = address_block(address)
        pair = (account, block)
        wait = self._pairs.wait(pair, now, self._unsettled(pair, now))
        if wait > 0:
            raise AccountError(
                "RATE_LIMITED", f"Too many failed logins; try again in {seconds(wait)}"
            )
        if not self._is_known(pair, now):
            tried = self._tried_from(block, now)
            if account not in tried and len(tried) >= self.accounts_per_address:
                raise AccountError(
                    "RATE_LIMITED",
                    "Too many failed logins to different accounts from your address; "
                    "try again later",
                )
        self._fail(account, block, now)
        under_way = self._under_way.pop(pair, None) or deque()
        under_way.append(now)
        self._under_way[pair] = under_way
        if len(self._under_way) > self.size:
            self._under_way.popitem(last=False)
        self._tell("fail", account, block)

    def failed(self, account: str, address: str) -> None:
        """An attempt :meth:`begin` counted was refused: it is no longer under way (its
        failure stays counted)."""
        pair = (account, address_block(address))
        under_way = self._under_way.get(pair)
        if under_way:
            under_way.popleft()
            if not under_way:
                del self._under_way[pair]

    def _unsettled(self, pair: tuple[str, str], now: float) -> int:
        """How many of the pair's attempts under way are left out of its wait."""
        under_way = self._under_way.get(pair)
        if under_way is None:
            return 0
        while under_way and under_way[0] <= now - self.settle_within:
            under_way.popleft()
        if not under_way:
            del self._under_way[pair]
            return 0
        return min(len(under_way), self.parallel)

    def _fail(self, account: str, block: str, now: float) -> None:
        pair = (account, block)
        if not self._is_known(pair, now):
            tried = self._tried_from(block, now)
            tried[account] = now
            self._tried.move_to_end(block)
            if len(self._tried) > self.size:
                self._tried.popitem(last=False)
        self._pairs.fail(pair, now)

    def succeed(self, account: str, address: str) -> None:
        """The attempt :meth:`begin` counted logged in: forget the pair's failures."""
        block = address_block(address)
        self._succeed(account, block)
        self._tell("succeed", account, block)

    def count_shared(self, step: str, keys: tuple[str, ...]) -> None:
        if len(keys) != 2:
            return
        account, block = keys
        if step == "fail":
            self._fail(account, block, self.clock())
        elif step == "succeed":
            self._succeed(account, block)

    def _succeed(self, account: str, block: str) -> None:
        pair = (account, block)
        self._pairs.forgive(pair)
        self._under_way.pop(pair, None)
        tried = self._tried.get(block)
        if tried is not None:
            tried.pop(account, None)
            if not tried:
                del self._tried[block]
        self._known.pop(pair, None)
        self._known[pair] = self.clock()
        if len(self._known) > self.size:
            self._known.popitem(last=False)

    def _is_known(self, pair: tuple[str, str], now: float) -> bool:
        while self._known:
            oldest, when = next(iter(self._known.items()))
            if when > now - self.known_for:
                break
            del self._known[oldest]
        return pair in self._known

    def _tried_from(self, block: str, now: float) -> dict[str, float]:
        """The accounts ``block`` has failures outstanding on, within the window."""
        since = now - self.spray_window
        while self._tried:
            oldest, accounts = next(iter(self._tried.items()))
            if max(accounts.values(), default=since) > since:
                break
            del self._tried[oldest]
        tried = self._tried.setdefault(block, {})
        for account in [a for a, when in tried.items() if when <= since]:
            del tried[account]
        return tried


class RegistrationThrottle(Shared):
    """Account registrations (REGISTER, NickServ REGISTER) by address: at most
    ``per_address`` attempts from one address (an IPv6 /64) in any ``window`` seconds.

    An attempt counts when it begins, before its password is hashed, whatever its
    answer: a name taken or a password too short is counted as a success is, since each
    may have cost a hash or a look at the store. An attempt this throttle refuses costs
    nothing and is not counted, so an address may register again once its oldest
    attempt is ``window`` old, however often it asked meanwhile.

    Args:
        per_address: attempts an address may make within ``window``; 0 for no limit.
        window: seconds an attempt is counted for.
        clock: a monotonic clock.
        size: the most addresses kept; the one that tried least recently goes first.
    """

    def __init__(
        self,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        size: int = 10_000,
        refusal: tuple[str, str] = (
            "TEMPORARILY_UNAVAILABLE",
            "Too many accounts registered from your address; wait {wait} before "
            "registering another",
        ),
    ) -> None:
        self.refusal = refusal
        self.per_address = per_address
        self.window = window
        self.clock = clock
        self.size = size
        # Address block → the times of its attempts within the window, oldest first; the
        # block whose latest attempt is oldest first, so expiry looks at the front only.
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._attempts)

    def begin(self, address: str) -> None:
        """Count an attempt to register an account from ``address``.

        Raises:
            AccountError: TEMPORARILY_UNAVAILABLE, and nothing is counted.
        """
        if self.per_address == 0:
            return
        now = self.clock()
        block = address_block(address)
        self._expire(now)
        attempts = self._attempts.setdefault(block, deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if len(attempts) >= self.per_address:
            wait = attempts[0] + self.window - now
            code, text = self.refusal
            raise AccountError(code, text.format(wait=seconds(wait)))
        self._count(block, now)
        self._tell("count", block)

    def count_shared(self, step: str, keys: tuple[str, ...]) -> None:
        if step == "count" and len(keys) == 1 and self.per_address:
            now = self.clock()
            self._expire(now)
            self._count(keys[0], now)

    def _count(self, block: str, now: float) -> None:
        attempts = self._attempts.setdefault(block, deque())
        attempts.append(now)
        # Counts from other nodes are not refused: the oldest of them make way (the
        # wait only grows).
        while len(attempts) > self.per_address:
            attempts.popleft()
        self._attempts.move_to_end(block)
        if len(self._attempts) > self.size:
            self._attempts.popitem(last=False)

    def _expire(self, now: float) -> None:
        """Forget the addresses whose latest attempt is out of the window."""
        while self._attempts:
            block, attempts = next(iter(self._attempts.items()))
            if attempts and attempts[-1] > now - self.window:
                return
            del self._attempts[block]
