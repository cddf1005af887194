"""Ports the core declares and outer rings implement."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.events import MessagePosted
from hubbub.core.registered import RegisteredChannel


class HistorySink(Protocol):
    """Where the hub hands each channel and private message for keeping."""

    def record(self, event: MessagePosted, conversation: str) -> None:
        """Take a message; must not block (see :mod:`hubbub.storage.history`)."""
        ...

    def forget(self, msgid: str) -> None:
        """Remove a redacted message; must not block."""
        ...


class ChannelSink(Protocol):
    """Where the hub hands registered channels' state for keeping."""

    def save(self, record: RegisteredChannel) -> None:
        """Keep a channel's registration (replacing the previous one); must not block."""
        ...

    def delete(self, key: str) -> None:
        """Forget a channel's registration; must not block."""
        ...


class MarkerSink(Protocol):
    """Where the hub hands accounts' read markers for keeping."""

    def save(self, account: str, target: str, time: float) -> None:
        """Keep an account's marker of a (folded) target; must not block."""
        ...

    def forget(self, account: str, target: str) -> None:
        """Forget one of an account's markers; must not block."""
        ...

    def forget_account(self, account: str) -> None:
        """Drop what is still to be saved for an account being deleted; must not block."""
        ...

    def unsaved(self, account: str) -> list[tuple[str, float | None]]:
        """An account's markers handed over but not saved yet (None: to be forgotten)."""
        ...
