"""What the server needs of a store, as ports (``typing.Protocol``) and the values they
exchange. :mod:`hubbub.storage.sqlite` and :mod:`hubbub.storage.postgres` implement
them; :func:`hubbub.storage.backends.open_store` picks one."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class HistoryLimits:
    """Bounds on what is kept and how long the server waits for the store, with their
    defaults; each is a ``[limits]`` setting."""

    history_days: float = 365.0  # message history older than this is forgotten
    history_per_conversation: int = 100_000  # and all but this many per channel or chat
    history_flush: float = 0.05  # seconds messages gather before one commit (kill loses ≤)
    history_sync_wait: float = 2.0  # sync mode: seconds output waits for a stuck store
    history_read_wait: float = 2.0  # seconds a history read waits for what was just said
    database_timeout: float = 30.0  # seconds a PostgreSQL query may take before it fails


class StoredMessage(NamedTuple):
    """One message as history keeps it.

    A named tuple rather than a frozen dataclass: reads make one per message read, and a
    frozen dataclass takes four times as long to build (2.9 against 0.7 µs measured
    here). Messages on their way to a store are plain tuples (:data:`NewMessage`).

    Attributes:
        conversation: the folded channel name; a private message is kept twice, once for
            each side, as ``"<owner> <other party's folded nick>"`` where the owner is
            an account (``a:name``) or, for a user not logged in, that one session, so
            that whoever takes a nick later cannot read its conversations.
        target: the target as the sender wrote it (channel name or recipient nick).
        sender: the sender's ``nick!user@host``.
        kind: ``PRIVMSG`` or ``NOTICE``.
        tags: the sender's client-only tags.
        lines: the lines of a multi-line message, else empty.
    """

    msgid: str
    time: float
    conversation: str
    target: str
    sender: str
    kind: str
    text: str
    tags: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()
    # The order of storing, which breaks ties between equal times; not part of a
    # message's identity (a message read back equals the one written).
    seq: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredMessage):
            return NotImplemented
        return self[:_IDENTITY] == other[:_IDENTITY]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self[:_IDENTITY])


_IDENTITY = 9  # the fields before seq

# A message on its way to a store: StoredMessage's fields in order, as a plain tuple (a
# StoredMessage is one; seq is the store's to assign, and ignored). The history writer
# makes one for every message said, on the fan-out's thread, where a named tuple took
# 0.8 µs to build and a plain one takes 0.1.
NewMessage = tuple[
    str, float, str, str, str, str, str, tuple[tuple[str, str], ...], tuple[str, ...], int
]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation with activity, for CHATHISTORY TARGETS, named by its latest
    message's target and sender."""

    conversation: str
    target: str
    sender: str
    time: float


def new_account_id() -> str:
    """A new account's id. The ``~`` keeps it apart from the folded names that older
    accounts have as their ids (no nick has one)."""
    return "~" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account: ``key`` is the folded name, ``password`` an argon2id hash,
    ``scram`` the SCRAM-SHA-256 verifier (see :mod:`hubbub.scram`; empty until known).
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

    async def get_account(self, key: str) -> Account | None: ...

    async def account_keys(self) -> list[str]:
        """The folded names of all accounts (loaded at start for nick ownership)."""
        ...

    async def set_password(self, key: str, password: str, scram: str) -> None:
        """Replace an account's password hash and SCRAM verifier."""
        ...

    async def set_scram(self, key: str, scram: str) -> None:
        """Give an account its SCRAM verifier, unless it has one (a password changed
        meanwhile must not be undone)."""
        ...

    async def delete_account(self, key: str) -> None:
        """Forget an account with what it owned: its certificates, read markers, private
        history and the registrations of the channels it founded."""
        ...

    async def add_certificate(self, key: str, fingerprint: str) -> bool:
        """Let a TLS client certificate (SHA-256 hex, lower case) log in to an account;
        False if that certificate belongs to an account already."""
        ...

    async def remove_certificate(self, key: str, fingerprint: str) -> bool:
        """False if the account had no such certificate."""
        ...

    async def certificates(self, key: str) -> list[str]:
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


class ChannelStore(Protocol):
    """Where registered channels are kept, as JSON documents by folded name."""

    async def save_channel(self, key: str, data: str) -> None: ...

    async def delete_channel(self, key: str) -> None: ...

    async def load_channels(self) -> list[tuple[str, str]]: ...


class HistoryStore(Protocol):
    """Where messages are kept. Every method may raise StorageError."""

    async def append(self, messages: Sequence[NewMessage]) -> None:
        """Store messages, in one transaction."""
        ...

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        """The latest ``limit`` messages before a point, oldest first.

        Times compare to the millisecond (as server-time shows them). The point is
        ``time`` itself, or with ``seq`` the message stored with that sequence number
        (messages of the same millisecond are ordered by ``seq``).
        """
        ...

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        """The first ``limit`` messages after a point (see :meth:`before`), oldest first."""
        ...

    async def delete(self, msgids: Sequence[str]) -> None:
        """Forget messages (redacted ones)."""
        ...

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        """A message of a conversation by its id."""
        ...

    async def conversations(
        self, keys: Sequence[str], owner: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        """Conversations whose latest message lies between two times, with that time,
        oldest first: of the given ``keys``, and the private conversations kept for
        ``owner`` (keys ``"<owner> <other party>"``)."""
        ...

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        """Forget messages older than a time, and all but the newest of each
        conversation; return how many were removed."""
        ...

    async def close(self) -> None: ...


class Store(HistoryStore, AccountStore, MarkerStore, ChannelStore, Protocol):
    """Everything the server keeps: one database behind all four ports."""
