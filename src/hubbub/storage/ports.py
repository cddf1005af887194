"""What the server needs of a store, as ports (``typing.Protocol``) and the values they
exchange. :mod:`hubbub.storage.sqlite` and :mod:`hubbub.storage.postgres` implement
them; :func:`hubbub.storage.backends.open_store` picks one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hubbub.accounts.ports import AccountStore, MarkerStore
from hubbub.core.history import HistoryReader, NewMessage
from hubbub.storage.timing import Latency


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


class ChannelStore(Protocol):
    """Where registered channels are kept, as JSON documents by folded name."""

    async def save_channel(self, key: str, data: str) -> None: ...

    async def delete_channel(self, key: str) -> None: ...

    async def load_channels(self) -> list[tuple[str, str]]: ...


class BanStore(Protocol):
    """Where server bans are kept, as JSON documents by kind and key
    (:mod:`hubbub.core.server_bans`)."""

    async def save_ban(self, kind: str, mask: str, set_at: float, data: str) -> None: ...

    async def delete_ban(self, kind: str, mask: str) -> bool: ...

    async def delete_ended_ban(self, kind: str, mask: str, set_at: float) -> bool:
        """Delete the ban ``kind``/``mask`` only while it is still the one set at
        ``set_at``: one set again since (from the shell, by another node) is a new ban,
        which the ended one's clean-up must leave alone (probe 23)."""
        ...

    async def load_bans(self) -> list[str]: ...

    async def bans_version(self) -> str:
        """A digest of every ban as kept: it changes whenever the list does, whatever
        the change (a running server polls it to see what ``hubbub admin`` or another
        node did; a count and the newest time missed a ban set and lifted in one poll,
        probe 22)."""
        ...


class ChannelOrders(Protocol):
    """Orders for registered channels given from the shell (``hubbub admin channels``),
    as JSON documents (``{"drop": true}``, ``{"founder": ID, "name": NAME}``), waiting
    for a running server to carry them out."""

    async def order_channel(self, key: str, order: str) -> int:
        """Queue an order; its number."""
        ...

    async def channel_orders(self) -> list[tuple[int, str, str]]:
        """The orders waiting, as (number, channel key, order), oldest first."""
        ...

    async def take_channel_orders(self) -> list[tuple[int, str, str]]:
        """Take every waiting order (each is taken by one server only)."""
        ...


class HistoryStore(HistoryReader, Protocol):
    """Where messages are kept: read as :class:`HistoryReader` says, and written.
    Every method may raise StorageError."""

    async def append(self, messages: Sequence[NewMessage]) -> None:
        """Store messages, in one transaction."""
        ...

    async def delete(self, msgids: Sequence[str]) -> None:
        """Forget messages (redacted ones)."""
        ...

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        """Forget messages older than a time, and all but the newest of each
        conversation; return how many were removed."""
        ...

    async def close(self) -> None: ...


class MetadataStore(Protocol):
    """Where accounts' metadata keys are kept, by account id."""

    async def set_metadata(self, account: str, key: str, value: str) -> None: ...

    async def delete_metadata(self, account: str, key: str) -> None: ...

    async def metadata(self, account: str) -> list[tuple[str, str]]:
        """All of an account's keys, as (key, value), sorted."""
        ...


class PresenceStore(Protocol):
    """Always-on users, accounts' choices and devices' read positions, by account id
    (:mod:`hubbub.storage.presences`)."""

    async def set_account_setting(self, account: str, key: str, value: str | None) -> None: ...

    async def account_settings(self, account: str) -> dict[str, str]: ...

    async def set_device_seen(self, account: str, device: str, seen: float) -> None: ...

    async def devices_seen(self, account: str) -> dict[str, float]: ...

    async def save_always_on(self, account: str, record: str | None, node: str = "") -> None:
        """Keep (None: forget) an account's always-on user, kept by ``node``."""
        ...

    async def always_on_records(self) -> list[tuple[str, str, str]]:
        """Each always-on user kept: account id, record, and the node keeping it."""
        ...


class Store(
    HistoryStore,
    AccountStore,
    MarkerStore,
    MetadataStore,
    PresenceStore,
    ChannelStore,
    BanStore,
    ChannelOrders,
    Protocol,
):
    """Everything the server keeps: one database behind all eight ports."""

    # How long each of its calls to the database took (waiting for it included).
    latency: Latency

    async def ping(self) -> None:
        """Ask the database something small (readiness, /readyz).

        Raises:
            StorageError: it cannot be reached.
        """
        ...
