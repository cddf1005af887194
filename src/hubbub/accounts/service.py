"""Accounts: registering, logging in, changing and dropping them.

Passwords are hashed with argon2id on a worker thread (hashing is deliberately slow), and
kept beside as a SCRAM-SHA-256 verifier for clients that log in without sending them.

Account names collide as nicks do, by skeleton (:meth:`Casemap.skeleton`): no account is
registered whose name looks like another account's or a service's (``c0c0``, or ``coco``
spelt in Cyrillic letters, beside ``coco``), and a nick that looks like an account's name
belongs to that account (see :meth:`Accounts.owner`).

Failed logins are throttled (:mod:`hubbub.accounts.throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, KeysView
from dataclasses import dataclass

import argon2

from hubbub.accounts import scram
from hubbub.accounts.errors import AccountError
from hubbub.accounts.ports import Account, AccountStore, MarkerStore
from hubbub.accounts.throttle import LoginThrottle, RegistrationThrottle
from hubbub.core.events import AccountDropped, AccountRegistered, Fact
from hubbub.core.ports import StoreUnavailable
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.errors import InvalidName

logger = logging.getLogger(__name__)
MIN_PASSWORD = 8
# Long enough for any password manager; argon2 and SCRAM cost the same at any length.
MAX_PASSWORD = 1024
CERTIFICATES = 10
# Passwords checked or set from one address (an IPv6 /64) in a minute: one a second
# goes on for a whole office reconnecting behind one address, and costs the server
# a few per cent of a core at most.
HASHES_PER_ADDRESS = 60
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
    # Seconds between looks for accounts dropped from the shell while logged in to: their
    # connections keep their rights no longer than this.
    dropped_account_check: float = 30.0
    # Account registrations (REGISTER, NickServ REGISTER) one address (an IPv6 /64) may
    # attempt in register_window seconds, counted before any hashing and whatever
    # their answers; 0: no limit. Attempts, not accounts: a person registers one account,
    # perhaps after a few names taken or a password too short, and ten an hour leave
    # room for that and for a few people behind one shared address; a script gets 240
    # a day from an address, not 75 a second (each an argon2 hash of 19 MiB and tens of
    # milliseconds, and a row kept for good). A classroom registering at once behind
    # one address wants it raised.
    register_per_address: int = 10
    register_window: float = 3600.0


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
        # Every password checked or set costs an argon2 hash (19 MiB, tens of ms of
        # CPU); right ones too, which the login throttle does not slow down: logged-in
        # clients repeating NickServ PASSWORD or IDENTIFY kept both cores busy.
        self.hashing = RegistrationThrottle(
            HASHES_PER_ADDRESS,
            60.0,
            clock,
            refusal=("RATE_LIMITED", "Too many password checks from your address; wait {wait}"),
        )
        self._reserved = frozenset(casemap.skeleton(name) for name in reserved)
        # For the metrics: logins refused for their credentials, and refused unchecked by
        # a throttle (the doors count a refused SCRAM proof or certificate here too).
        self.login_failures = 0
        self.logins_throttled = 0
        # Folded names of all accounts, each with its skeletons (the folded name's, and
        # its spelling's when that differs: Casemap.spelled_skeleton), and the other way
        # round: a nick that is, or looks like, an account's name is owned (see owner).
        self._skeletons: dict[str, tuple[Key, ...]] = {}
        self._by_skeleton: dict[Key, set[str]] = {}
        # Each account's drawn key (Casemap.drawn_skeleton: mcintyre spelt McIntyre is
        # mdntyre): a name registered later may not be it, nor the other way round; it
        # owns no nick (cian's would have taken "dan" from everyone, probe 19).
        self._drawn: dict[str, Key] = {}
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

        The index is brought up to date, not made again: only names new since the last
        look have their skeletons made, and names gone are forgotten, so a registration
        costs the store's list of names, not a skeleton for every account.

        Raises:
            StorageError: the store cannot be read.
        """
        names = await self._store.account_names()
        for key in self._skeletons.keys() - names.keys():
            self._forget(key)
        for key in names.keys() - self._skeletons.keys():
            self._remember(key, names[key])

    def follow(self, fact: Fact) -> None:
        """Learn from the network's facts the accounts made and dropped on other nodes
        (a node knew only its own, and did not guard a name registered elsewhere, probe
        15). Subscribed to the bus only in a cluster."""
        if type(fact) is AccountRegistered:
            self._remember(self.fold(fact.name), fact.name)
        elif type(fact) is AccountDropped and fact.name:
            self._forget(fact.name)

    def fold(self, name: str) -> str:
        """An account name folded as the store keys it."""
        return self._casemap.fold(name)

    def is_registered(self, nick: str) -> bool:
        """Whether ``nick`` is an account's name or looks like one (as folded, or as
        spelt: ``cIaire`` for ``claire``)."""
        return not self._skeletons_of(nick).isdisjoint(self._by_skeleton)

    def _skeletons_of(self, name: str) -> set[Key]:
        """The skeletons a name is checked by: its own, its spelling's, and its folded
        form's (a capital may be drawn unlike the small letter it folds to: ``Əli`` is
        ``əli``, probe 21)."""
        casemap = self._casemap
        found = {casemap.skeleton(name), casemap.spelled_skeleton(name)}
        if not name.isascii():
            found.add(casemap.skeleton(casemap.fold(name)))
        return found

    def owner(self, nick: str) -> str | None:
        """The folded name of the account that owns ``nick``: the one whose name ``nick``
        is drawn like as spelt (``cIaire`` is claire's, even beside an account
        ``ciaire``, probe 17), else the account of that name, else the one whose name
        ``nick`` looks like. None for no account, or for several look-alike accounts
        made before look-alikes were refused (each keeps its own name only)."""
        casemap = self._casemap
        key = casemap.fold(nick)
        if casemap.looks_spelt(nick):
            drawn = self._by_skeleton.get(casemap.spelled_skeleton(nick), set()) - {key}
            if len(drawn) == 1:
                return next(iter(drawn))
        if key in self._skeletons:
            return key
        keys = self._by_skeleton.get(casemap.skeleton(nick)) or self._by_skeleton.get(
            casemap.spelled_skeleton(nick), set()
        )
        return next(iter(keys)) if len(keys) == 1 else None

    def owns(self, account: str, nick: str) -> bool:
        """Whether the account named ``account`` owns ``nick`` (see :meth:`owner`)."""
        key, owner = self._casemap.fold(account), self.owner(nick)
        return key == owner if owner is not None else key == self._casemap.fold(nick)

    async def find(self, name: str) -> Account | None:
        key = self._casemap.fold(name)
        with _unavailable():
            account = await self._store.get_account(key)
        # `hubbub account` may have made or dropped it beside the running server.
        if account is None:
            self._forget(key)
        else:
            self._remember(key, account.name)
        return account

    async def register(self, name: str, password: str, email: str = "") -> Account:
        """Create an account.

        Raises:
            AccountError: BAD_ACCOUNT_NAME, WEAK_PASSWORD, INVALID_EMAIL, ACCOUNT_EXISTS
                or TEMPORARILY_UNAVAILABLE.
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
        check_email(email)
        hashed, verifier = await asyncio.to_thread(_credentials, password)
        account = Account(self._casemap.fold(name), name, hashed, email, time.time(), verifier)
        async with self._registering:
            with _unavailable():
                async with self._store.registering():
                    # The store, not what this process has seen, says which accounts
                    # exist: `hubbub account`, a running server and other nodes make
                    # them side by side.
                    await self.load()
                    self._check_unlike_others(name)
                    await self._check_not_being_dropped(name)
                    created = await self._store.create_account(account)
            if not created:
                raise AccountError("ACCOUNT_EXISTS", f"The account {name} already exists")
            self._remember(account.key, account.name)
        return account

    async def _check_not_being_dropped(self, name: str) -> None:
        """Raises AccountError ACCOUNT_EXISTS while the drop of an account of that name
        (or a look-alike) waits for a server: entries naming it count until then."""
        for dropped in (_dropped_name(text) for _, _, text in await self._store.channel_orders()):
            if dropped and not self._skeletons_of(name).isdisjoint(self._skeletons_of(dropped)):
                why = f"The account {dropped} is being dropped; its name is free soon"
                raise AccountError("ACCOUNT_EXISTS", why)

    async def authenticate(self, name: str, password: str, address: str) -> Account:
        """The account, if the password is right.

        Raises:
            AccountError: INVALID_CREDENTIALS, RATE_LIMITED or TEMPORARILY_UNAVAILABLE.
        """
        self.begin_login(name, address)
        try:
            self.hashing.begin(address)
        except AccountError:
            self.logins_throttled += 1
            raise
        account = await self.find(name)
        valid = account is not None and 0 < len(password) <= MAX_PASSWORD
        if valid and account is not None:
            valid = await asyncio.to_thread(_verify, account.password, password)
        elif 0 < len(password) <= MAX_PASSWORD:
            # As slow for a name without an account: the time taken must not tell.
            await asyncio.to_thread(_verify, _decoy_hash(), password)
        if not valid or account is None:
            self.login_failed(name, address)
            raise AccountError("INVALID_CREDENTIALS", "Invalid account name or password")
        self.login_succeeded(name, address)
        if not account.scram:
            # Accounts made before SCRAM was offered learn their verifier at a login
            # that shows the password.
            verifier = await asyncio.to_thread(lambda: scram.make_verifier(password).encode())
            with contextlib.suppress(StoreUnavailable):
                await self._store.set_scram(account.uid, verifier)
        return account

    def begin_login(self, name: str, address: str) -> None:
        """Count an attempt to log in to ``name`` from ``address``, before checking its
        credentials; it stays a failure unless :meth:`login_succeeded` follows.

        Raises:
            AccountError: RATE_LIMITED.
        """
        try:
            self.throttle.begin(self._throttle_key(name), address)
        except AccountError:
            self.logins_throttled += 1
            raise

    def login_succeeded(self, name: str, address: str) -> None:
        self.throttle.succeed(self._throttle_key(name), address)

    def login_failed(self, name: str, address: str) -> None:
        """The attempt :meth:`begin_login` counted was refused (a wrong password)."""
        self.login_failures += 1
        self.throttle.failed(self._throttle_key(name), address)

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
        except StoreUnavailable as error:
            logger.error("cannot read the read markers of %s: %s", account.key, error)
            return []

    async def by_certificate(self, fingerprint: str) -> Account | None:
        """The account a client certificate logs in to."""
        with _unavailable():
            account = await self._store.account_by_certificate(fingerprint)
        if account is not None:
            self._remember(account.key, account.name)
        return account

    async def certificates(self, account: Account) -> list[str]:
        with _unavailable():
            return await self._store.certificates(account.uid)

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
            if len(await self._store.certificates(account.uid)) >= limit:
                raise AccountError(
                    "TOO_MANY_CERTIFICATES",
                    f"An account has at most {limit} certificates",
                )
            added = await self._store.add_certificate(account.uid, fingerprint)
        if not added:
            raise AccountError("CERTIFICATE_TAKEN", "That certificate is already in use")

    async def remove_certificate(self, account: Account, fingerprint: str) -> None:
        fingerprint = fingerprint.lower().replace(":", "")
        with _unavailable():
            removed = await self._store.remove_certificate(account.uid, fingerprint)
        if not removed:
            raise AccountError("NO_SUCH_CERTIFICATE", "That certificate is not on the account")

    async def change_password(
        self, account: Account, password: str, address: str | None = None
    ) -> None:
        """Set a new password; ``address`` is the client's, when one asks (not an
        operator at the command line).

        Raises:
            AccountError: WEAK_PASSWORD, RATE_LIMITED or TEMPORARILY_UNAVAILABLE.
        """
        check_password(password, self.password_min)
        if address is not None:
            self.hashing.begin(address)
        hashed, verifier = await asyncio.to_thread(_credentials, password)
        with _unavailable():
            await self._store.set_password(account.uid, hashed, verifier)

    async def drop(self, account: Account) -> None:
        with _unavailable():
            await self._store.delete_account(account.key)
        self._forget(account.key)

    def _remember(self, key: str, name: str) -> None:
        self._forget(key)
        casemap = self._casemap
        skeletons: tuple[Key, ...] = (casemap.skeleton(key),)
        spelled = casemap.spelled_skeleton(name)
        if spelled not in skeletons:
            skeletons += (spelled,)
        self._skeletons[key] = skeletons
        drawn = casemap.drawn_skeleton(key)
        if drawn != skeletons[0]:  # most names: kept in _by_skeleton already
            self._drawn[key] = drawn
        for skeleton in skeletons:
            self._by_skeleton.setdefault(skeleton, set()).add(key)

    def _forget(self, key: str) -> None:
        self._drawn.pop(key, None)
        for skeleton in self._skeletons.pop(key, ()):
            keys = self._by_skeleton[skeleton]
            keys.discard(key)
            if not keys:
                del self._by_skeleton[skeleton]

    def _check_unlike_others(self, name: str) -> None:
        """Raises AccountError ACCOUNT_EXISTS for a name that is, or looks like, an
        account's or a service's."""
        casemap = self._casemap
        skeletons = self._skeletons_of(name)
        if not skeletons.isdisjoint(self._reserved):
            raise AccountError("ACCOUNT_EXISTS", f"The name {name} is reserved for a service")
        drawn = casemap.drawn_skeleton(name)
        if (
            not skeletons.isdisjoint(self._by_skeleton)
            or drawn in self._by_skeleton
            or not skeletons.isdisjoint(self._drawn.values())
        ):
            raise AccountError(
                "ACCOUNT_EXISTS",
                f"The account {name} already exists, or one whose name looks the same",
            )


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    """A store that fails makes accounts TEMPORARILY_UNAVAILABLE, whatever was asked."""
    try:
        yield
    except StoreUnavailable as error:
        raise AccountError("TEMPORARILY_UNAVAILABLE", "Accounts are unavailable") from error


MAX_EMAIL = 200


def check_email(email: str) -> None:
    """Raises AccountError INVALID_EMAIL for an address an operator's terminal or a
    mail server should not be handed: not ``local@domain``, over 200 characters, or with
    a space, a control or format character (probe 21: escapes in ``hubbub account
    list``). An empty one is none given."""
    if not email:
        return
    local, at, domain = email.rpartition("@")
    if (
        not (at and local and "." in domain)
        or len(email) > MAX_EMAIL
        or not email.isprintable()
        or any(c.isspace() for c in email)
    ):
        raise AccountError("INVALID_EMAIL", "That is not an email address")


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


def _dropped_name(order: str) -> str | None:
    """The name of the account an order from the shell drops, if it is such an order."""
    with contextlib.suppress(ValueError):
        found = json.loads(order)
        if isinstance(found, dict) and isinstance(found.get("name"), str):
            return found["name"] if "account_dropped" in found else None
    return None
