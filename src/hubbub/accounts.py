"""Accounts: registering, logging in, changing and dropping them.

Passwords are hashed with argon2id on a worker thread (hashing is deliberately slow), and
kept beside as a SCRAM-SHA-256 verifier for clients that log in without sending them.
Failed logins are counted per account and per address; past the limit, further tries are
refused for a while without even checking the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator

import argon2

from hubbub import scram
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import Account, AccountStore, MarkerStore
from hubbub.wire.casemap import Casemap
from hubbub.wire.errors import InvalidName

logger = logging.getLogger(__name__)
MIN_PASSWORD = 8
# Long enough for any password manager; argon2 and SCRAM cost the same at any length.
MAX_PASSWORD = 1024
CERTIFICATES = 10
_FAILURES_ALLOWED = 5
_FAILURE_WINDOW = 60.0
# OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class AccountError(Exception):
    """A refused account operation; ``code`` is the IRCv3 FAIL code that says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Accounts:
    """Account operations over a store.

    Args:
        store: where accounts are kept.
        casemap: account names are folded and validated like nicks.
        clock: a monotonic clock, for throttling.
        markers: where accounts' read markers are kept.
        certificates: the most client certificates one account may have.
    """

    def __init__(
        self,
        store: AccountStore,
        casemap: Casemap,
        clock: Callable[[], float] = time.monotonic,
        password_min: int = MIN_PASSWORD,
        markers: MarkerStore | None = None,
        certificates: int = CERTIFICATES,
    ) -> None:
        self._store = store
        self._markers = markers
        self.password_min = password_min
        self.certificates_allowed = certificates
        self._casemap = casemap
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        # Folded names of all accounts: a registered nick is owned (see is_registered).
        self.names: set[str] = set()
        # Keys the SCRAM decoys of names without an account (see verifier).
        self._secret = secrets.token_bytes(32)

    async def load(self) -> None:
        """Learn the existing accounts' names (at start).

        Raises:
            StorageError: the store cannot be read.
        """
        self.names = set(await self._store.account_keys())

    def fold(self, name: str) -> str:
        """An account name folded as the store keys it."""
        return self._casemap.fold(name)

    def is_registered(self, nick: str) -> bool:
        return self._casemap.fold(nick) in self.names

    async def find(self, name: str) -> Account | None:
        key = self._casemap.fold(name)
        with _unavailable():
            account = await self._store.get_account(key)
        # `hubbub account` may have made or dropped it beside the running server.
        if account is None:
            self.names.discard(key)
        else:
            self.names.add(key)
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
        check_password(password, self.password_min)
        hashed, verifier = await asyncio.to_thread(_credentials, password)
        account = Account(
            self._casemap.fold(name), name, hashed, email[:200], time.time(), verifier
        )
        with _unavailable():
            created = await self._store.create_account(account)
        if not created:
            raise AccountError("ACCOUNT_EXISTS", f"The account {name} already exists")
        self.names.add(account.key)
        return account

    async def authenticate(self, name: str, password: str, address: str) -> Account:
        """The account, if the password is right.

        Raises:
            AccountError: INVALID_CREDENTIALS, RATE_LIMITED or TEMPORARILY_UNAVAILABLE.
        """
        key = self._casemap.fold(name)
        self.check_throttle(name, address)
        account = await self.find(name)
        valid = account is not None and 0 < len(password) <= MAX_PASSWORD
        if valid and account is not None:
            valid = await asyncio.to_thread(_verify, account.password, password)
        elif 0 < len(password) <= MAX_PASSWORD:
            # As slow for a name without an account: the time taken must not tell.
            await asyncio.to_thread(_verify, _decoy_hash(), password)
        if not valid or account is None:
            self._fail(key)
            self._fail(address)
            raise AccountError("INVALID_CREDENTIALS", "Invalid account name or password")
        if not account.scram:
            # Accounts made before SCRAM was offered learn their verifier at a login
            # that shows the password.
            verifier = await asyncio.to_thread(lambda: scram.make_verifier(password).encode())
            with contextlib.suppress(StorageError):
                await self._store.set_scram(account.key, verifier)
        return account

    def check_throttle(self, name: str, address: str) -> None:
        """Raises AccountError RATE_LIMITED when an account or an address has failed to
        log in too often lately."""
        if self._throttled(self._casemap.fold(name)) or self._throttled(address):
            raise AccountError("RATE_LIMITED", "Too many failed logins; try again later")

    def failed(self, name: str, address: str) -> None:
        """Count a failed login that was checked elsewhere (a SCRAM proof)."""
        self._fail(self._casemap.fold(name))
        self._fail(address)

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
            return await self._store.account_by_certificate(fingerprint)

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
        self.names.discard(account.key)

    def _throttled(self, who: str) -> bool:
        failures = self._failures.get(who)
        if not failures:
            return False
        now = self._clock()
        while failures and failures[0] < now - _FAILURE_WINDOW:
            failures.popleft()
        if not failures:
            del self._failures[who]
            return False
        return len(failures) >= _FAILURES_ALLOWED

    def _fail(self, who: str) -> None:
        failures = self._failures[who]
        failures.append(self._clock())
        while len(failures) > _FAILURES_ALLOWED:
            failures.popleft()


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
