"""What the accounts ring needs of a store, as ports, and the account value they
exchange. The stores in ``storage/`` implement them."""

from __future__ import annotations

import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol


def new_account_id() -> str:
    """A new account's id. The ``~`` keeps it apart from the folded names that older
    accounts have as their ids (no nick has one)."""
    return "~" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account: ``key`` is the folded name, ``password`` an argon2id hash,
    ``scram`` the SCRAM-SHA-256 verifier (see :mod:`hubbub.accounts.scram`; empty until known).
    ``uid`` is its stable id: what the account owns is kept under it, never under the
    name, which someone else may register once the account is dropped."""

    key: str
    name: str
    password: str
    email: str
    created: float
    scram: str = ""
    uid: str = field(default_factory=new_account_id)


class AccountStore(Protocol):
    """Where accounts are kept. Every method may raise StorageError."""

    async def create_account(self, account: Account) -> bool:
        """Add an account; False if one with that key exists."""
        ...

    def registering(self) -> AbstractAsyncContextManager[None]:
        """Held while an account is checked against the others and made: one
        registration at a time among every server on the database (look-alike names
        made on two nodes at once were both kept, probe 21)."""
        ...

    async def get_account(self, key: str) -> Account | None: ...

    async def channel_orders(self) -> list[tuple[int, str, str]]:
        """The orders from the shell a running server has not taken yet, as (number,
        channel key, JSON order); an account dropped from the shell is one (``{
        "account_dropped": ID, "name": NAME}``), and its name is not free until taken."""
        ...

    async def account_names(self) -> dict[str, str]:
        """Every account's name as registered, by folded name (loaded at start for
        nick ownership: look-alikes are judged by the spelling too)."""
        ...

    async def set_password(self, uid: str, password: str, scram: str) -> None:
        """Replace the password hash and SCRAM verifier of the account with id ``uid``
        (by id, not by name: a name may be dropped and registered again meanwhile)."""
        ...

    async def set_scram(self, uid: str, scram: str) -> None:
        """Give an account its SCRAM verifier, unless it has one (a password changed
        meanwhile must not be undone)."""
        ...

    async def delete_account(self, key: str) -> None:
        """Forget an account with what it owned: its certificates, read markers, private
        history and the registrations of the channels it founded."""
        ...

    async def add_certificate(self, uid: str, fingerprint: str) -> bool:
        """Let a TLS client certificate (SHA-256 hex, lower case) log in to the account
        with id ``uid``; False if that certificate belongs to an account already, or the
        account is gone. Certificates are kept under the account's id, in one statement
        with the check that it exists: one added as the account is dropped must never
        log in to whoever registers the name next."""
        ...

    async def remove_certificate(self, uid: str, fingerprint: str) -> bool:
        """False if the account had no such certificate."""
        ...

    async def certificates(self, uid: str) -> list[str]:
        """An account's certificate fingerprints, in the order they were added."""
        ...

    async def account_by_certificate(self, fingerprint: str) -> Account | None: ...


class MarkerStore(Protocol):
    """Where accounts' read markers (draft/read-marker) are kept, by account id
    (:attr:`Account.uid`)."""

    async def set_marker(self, account: str, target: str, time: float) -> None:
        """Remember the time an account has read a conversation up to (``target`` is the
        folded channel name or nick)."""
        ...

    async def forget_marker(self, account: str, target: str) -> None:
        """Forget one marker (the account keeps too many)."""
        ...

    async def markers(self, account: str) -> list[tuple[str, float]]:
        """All of an account's markers, as (target, time)."""
        ...
