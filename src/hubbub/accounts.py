"""Accounts: registering, logging in, changing and dropping them.

Passwords are hashed with argon2id on a worker thread (hashing is deliberately slow), and
kept beside as a SCRAM-SHA-256 verifier for clients that log in without sending them.

Account names collide as nicks do, by skeleton (:meth:`Casemap.skeleton`): no account is
registered whose name looks like another account's or a service's (``c0c0``, or ``coco``
spelt in Cyrillic letters, beside ``coco``), and a nick that looks like an account's name
belongs to that account (see :meth:`Accounts.owner`).

Failed logins (NickServ IDENTIFY and DROP, SASL PLAIN, SCRAM-SHA-256 and EXTERNAL) are
throttled by :class:`LoginThrottle`, with this rule:

- Failures are counted per (account, address) pair. Each attempt counts as a failure
  from the moment it starts, so attempts made at once on many connections are counted
  too; an attempt that succeeds clears its pair. A pair's first 3 failures cost nothing
  (typos); after that, each attempt must wait twice as long after the pair's last
  failure as the one before: 2 s, 4 s, 8 s … up to 15 minutes. A pair is forgotten a
  day after its last failure.
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
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, KeysView
from dataclasses import dataclass
from typing import Generic, TypeVar

import argon2

from hubbub import scram
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import Account, AccountStore, MarkerStore
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.errors import InvalidName

logger = logging.getLogger(__name__)
MIN_PASSWORD = 8
# Long enough for any password manager; argon2 and SCRAM cost the same at any length.
MAX_PASSWORD = 1024
CERTIFICATES = 10
# The built-in services' nicks (NICKSERV, CHANSERV in doors/irc/commands): no account
# may take them, or a look-alike.
SERVICE_NICKS = ("NickServ", "ChanServ")
# OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class AccountLimits:
    """Bounds on accounts, with their defaults; each is a ``[limits]`` setting."""

    password_min: int = MIN_PASSWORD  # shortest account password
    certificates: int = CERTIFICATES  # client certificates one account may have (EXTERNAL)


class AccountError(Exception):
    """A refused account operation; ``code`` is the IRCv3 FAIL code that says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


K = TypeVar("K", bound=Hashable)


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

    def wait(self, key: K, now: float) -> float:
        """Seconds before ``key`` may try again; 0 when it may now."""
        self._expire(now)
        failures = self._failures.get(key)
        if failures is None or failures.count < self.free:
            return 0.0
        # Capped exponent: the count of a key that keeps failing must not overflow a float.
        doubling = min(failures.count - self.free, 32)
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


class LoginThrottle:
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
        size: int = 10_000,
    ) -> None:
        self.clock = clock
        self.accounts_per_address = accounts_per_address
        self.spray_window = spray_window
        self.known_for = known_for
        self.size = size
        self._pairs: Backoff[tuple[str, str]] = Backoff(free, first, longest, forget, size)
        # Address block → account → its latest failure, for the bound on accounts.
        self._tried: OrderedDict[str, dict[str, float]] = OrderedDict()
        # (account, address block) → when it last logged in; oldest first.
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()

    def entries(self) -> int:
        """How many entries the tables hold (they are bounded)."""
        return len(self._pairs) + len(self._known) + sum(map(len, self._tried.values()))

    def begin(self, account: str, address: str) -> None:
        """Count an attempt to log in to ``account`` (a folded name) from ``address``,
        before its credentials are checked.

        Raises:
            AccountError: RATE_LIMITED, and nothing is counted.
        """
        now = self.clock()
        block = address_block(address)
        pair = (account, block)
        wait = self._pairs.wait(pair, now)
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
            tried[account] = now
            self._tried.move_to_end(block)
            if len(self._tried) > self.size:
                self._tried.popitem(last=False)
        self._pairs.fail(pair, now)

    def succeed(self, account: str, address: str) -> None:
        """The attempt :meth:`begin` counted logged in: forget the pair's failures."""
        block = address_block(address)
        pair = (account, block)
        self._pairs.forgive(pair)
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


class Accounts:
    """Account operations over a store.

    Args:
        store: where accounts are kept.
        casemap: account names are folded and validated like nicks.
        clock: a monotonic clock, for throttling.
        markers: where accounts' read markers are kept.
        certificates: the most client certificates one account may have.
        reserved: names no account may have, nor one that looks like them.
    """

    def __init__(
        self,
        store: AccountStore,
        casemap: Casemap,
        clock: Callable[[], float] = time.monotonic,
        password_min: int = MIN_PASSWORD,
        markers: MarkerStore | None = None,
        certificates: int = CERTIFICATES,
        reserved: Iterable[str] = SERVICE_NICKS,
    ) -> None:
        self._store = store
        self._markers = markers
        self.password_min = password_min
        self.certificates_allowed = certificates
        self._casemap = casemap
        self.throttle = LoginThrottle(clock)
        self._reserved = frozenset(casemap.skeleton(name) for name in reserved)
        # Folded names of all accounts, each with its skeleton, and the other way round:
        # a nick that is, or looks like, an account's name is owned (see owner).
        self._skeletons: dict[str, Key] = {}
        self._by_skeleton: dict[Key, set[str]] = {}
        # One registration at a time checks for look-alikes and creates its account.
        self._registering = asyncio.Lock()
        # Keys the SCRAM decoys of names without an account (see verifier).
        self._secret = secrets.token_bytes(32)

    @property
    def names(self) -> KeysView[str]:
        """The folded names of the accounts known."""
        return self._skeletons.keys()

    async def load(self) -> None:
        """Learn the existing accounts' names (at start, and before a registration).

        Raises:
            StorageError: the store cannot be read.
        """
        keys = await self._store.account_keys()
        self._skeletons.clear()
        self._by_skeleton.clear()
        for key in keys:
            self._remember(key)

    def fold(self, name: str) -> str:
        """An account name folded as the store keys it."""
        return self._casemap.fold(name)

    def is_registered(self, nick: str) -> bool:
        """Whether ``nick`` is an account's name or looks like one."""
        return self._casemap.skeleton(nick) in self._by_skeleton

    def owner(self, nick: str) -> str | None:
        """The folded name of the account that owns ``nick``: the account of that name,
        or else the one whose name ``nick`` looks like. None for no account, or for
        several look-alike accounts made before look-alikes were refused (each keeps
        its own name only)."""
        key = self._casemap.fold(nick)
        if key in self._skeletons:
            return key
        keys = self._by_skeleton.get(self._casemap.skeleton(nick), set())
        return next(iter(keys)) if len(keys) == 1 else None

    def owns(self, account: str, nick: str) -> bool:
        """Whether the account named ``account`` owns ``nick`` (see :meth:`owner`)."""
        key = self._casemap.fold(account)
        return key == self._casemap.fold(nick) or key == self.owner(nick)

    async def find(self, name: str) -> Account | None:
        key = self._casemap.fold(name)
        with _unavailable():
            account = await self._store.get_account(key)
        # `hubbub account` may have made or dropped it beside the running server.
        if account is None:
            self._forget(key)
        else:
            self._remember(key)
        return account

    async def register(self, name: str, password: str, email: str = "") -> Account:
        """Create an account.

        Raises:
            AccountError: BAD_ACCOUNT_NAME, WEAK_PASSWORD, ACCOUNT_EXISTS or
                TEMPORARILY_UNAVAILABLE.
        """
        try:
            name = self._casemap.check_nick(name)
        except InvalidName as error:
            raise AccountError("BAD_ACCOUNT_NAME", f"Invalid account name: {error}") from None
        try:
            self._check_unlike_others(name)
        except AccountError:
            # What this process has seen may be stale: `hubbub account drop` may have
            # freed the name. The store decides before a name is refused.
            with _unavailable():
                await self.load()
            self._check_unlike_others(name)
        check_password(password, self.password_min)
        hashed, verifier = await asyncio.to_thread(_credentials, password)
        account = Account(
            self._casemap.fold(name), name, hashed, email[:200], time.time(), verifier
        )
        async with self._registering:
            with _unavailable():
                # The store, not what this process has seen, says which accounts exist:
                # `hubbub account` and a running server make them side by side.
                await self.load()
            self._check_unlike_others(name)
            with _unavailable():
                created = await self._store.create_account(account)
            if not created:
                raise AccountError("ACCOUNT_EXISTS", f"The account {name} already exists")
            self._remember(account.key)
        return account

    async def authenticate(self, name: str, password: str, address: str) -> Account:
        """The account, if the password is right.

        Raises:
            AccountError: INVALID_CREDENTIALS, RATE_LIMITED or TEMPORARILY_UNAVAILABLE.
        """
        self.begin_login(name, address)
        account = await self.find(name)
        valid = account is not None and 0 < len(password) <= MAX_PASSWORD
        if valid and account is not None:
            valid = await asyncio.to_thread(_verify, account.password, password)
        elif 0 < len(password) <= MAX_PASSWORD:
            # As slow for a name without an account: the time taken must not tell.
            await asyncio.to_thread(_verify, _decoy_hash(), password)
        if not valid or account is None:
            raise AccountError("INVALID_CREDENTIALS", "Invalid account name or password")
        self.login_succeeded(name, address)
        if not account.scram:
            # Accounts made before SCRAM was offered learn their verifier at a login
            # that shows the password.
            verifier = await asyncio.to_thread(lambda: scram.make_verifier(password).encode())
            with contextlib.suppress(StorageError):
                await self._store.set_scram(account.key, verifier)
        return account

    def begin_login(self, name: str, address: str) -> None:
        """Count an attempt to log in to ``name`` from ``address``, before checking its
        credentials; it stays a failure unless :meth:`login_succeeded` follows.

        Raises:
            AccountError: RATE_LIMITED.
        """
        self.throttle.begin(self._throttle_key(name), address)

    def login_succeeded(self, name: str, address: str) -> None:
        self.throttle.succeed(self._throttle_key(name), address)

    def _throttle_key(self, name: str) -> str:
        # No account has a name past nicklen: all longer ones are one key, of bounded size.
        return self._casemap.fold(name[: self._casemap.nicklen + 1])

    async def verifier(self, name: str) -> tuple[Account | None, scram.Verifier]:
        """An account and its SCRAM verifier; for a name without one (no account, or
        an account that has not logged in since SCRAM came), a decoy that no proof
        matches, so that the exchange does not tell which names exist.

        Raises:
            AccountError: TEMPORARILY_UNAVAILABLE.
        """
        account = await self.find(name)
        if account is not None and account.scram:
            with contextlib.suppress(ValueError):
                return account, scram.Verifier.decode(account.scram)
        return None, scram.decoy_verifier(self._casemap.fold(name), self._secret)

    async def markers(self, account: Account) -> list[tuple[str, float]]:
        """An account's read markers; none if they cannot be read now."""
        if self._markers is None:
            return []
        try:
            return await self._markers.markers(account.uid)
        except StorageError as error:
            logger.error("cannot read the read markers of %s: %s", account.key, error)
            return []

    async def by_certificate(self, fingerprint: str) -> Account | None:
        """The account a client certificate logs in to."""
        with _unavailable():
            account = await self._store.account_by_certificate(fingerprint)
        if account is not None:
            self._remember(account.key)
        return account

    async def certificates(self, account: Account) -> list[str]:
        with _unavailable():
            return await self._store.certificates(account.key)

    async def add_certificate(self, account: Account, fingerprint: str) -> None:
        """Raises AccountError: BAD_FINGERPRINT, CERTIFICATE_TAKEN, TOO_MANY_CERTIFICATES
        or TEMPORARILY_UNAVAILABLE."""
        fingerprint = fingerprint.lower().replace(":", "")
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise AccountError(
                "BAD_FINGERPRINT", "A fingerprint is the certificate's SHA-256, in hex"
            )
        with _unavailable():
            limit = self.certificates_allowed
            if len(await self._store.certificates(account.key)) >= limit:
                raise AccountError(
                    "TOO_MANY_CERTIFICATES",
                    f"An account has at most {limit} certificates",
                )
            added = await self._store.add_certificate(account.key, fingerprint)
        if not added:
            raise AccountError("CERTIFICATE_TAKEN", "That certificate is already in use")

    async def remove_certificate(self, account: Account, fingerprint: str) -> None:
        fingerprint = fingerprint.lower().replace(":", "")
        with _unavailable():
            removed = await self._store.remove_certificate(account.key, fingerprint)
        if not removed:
            raise AccountError("NO_SUCH_CERTIFICATE", "That certificate is not on the account")

    async def change_password(self, account: Account, password: str) -> None:
        check_password(password, self.password_min)
        hashed, verifier = await asyncio.to_thread(_credentials, password)
        with _unavailable():
            await self._store.set_password(account.key, hashed, verifier)

    async def drop(self, account: Account) -> None:
        with _unavailable():
            await self._store.delete_account(account.key)
        self._forget(account.key)

    def _remember(self, key: str) -> None:
        skeleton = self._casemap.skeleton(key)
        self._skeletons[key] = skeleton
        self._by_skeleton.setdefault(skeleton, set()).add(key)

    def _forget(self, key: str) -> None:
        skeleton = self._skeletons.pop(key, None)
        if skeleton is None:
            return
        keys = self._by_skeleton[skeleton]
        keys.discard(key)
        if not keys:
            del self._by_skeleton[skeleton]

    def _check_unlike_others(self, name: str) -> None:
        """Raises AccountError ACCOUNT_EXISTS for a name that is, or looks like, an
        account's or a service's."""
        skeleton = self._casemap.skeleton(name)
        if skeleton in self._reserved:
            raise AccountError("ACCOUNT_EXISTS", f"The name {name} is reserved for a service")
        if skeleton in self._by_skeleton:
            raise AccountError(
                "ACCOUNT_EXISTS",
                f"The account {name} already exists, or one whose name looks the same",
            )


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    """A store that fails makes accounts TEMPORARILY_UNAVAILABLE, whatever was asked."""
    try:
        yield
    except StorageError as error:
        raise AccountError("TEMPORARILY_UNAVAILABLE", "Accounts are unavailable") from error


def check_password(password: str, shortest: int = MIN_PASSWORD) -> None:
    """Raises AccountError WEAK_PASSWORD for a password too short or too long."""
    if not shortest <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            "WEAK_PASSWORD", f"Passwords have {shortest} to {MAX_PASSWORD} characters"
        )


def _credentials(password: str) -> tuple[str, str]:
    """A password's argon2id hash and SCRAM-SHA-256 verifier."""
    return _HASHER.hash(password), scram.make_verifier(password).encode()


@functools.cache
def _decoy_hash() -> str:
    return _HASHER.hash(secrets.token_hex(16))


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(hashed, password))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
