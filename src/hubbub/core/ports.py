"""Ports the core declares and outer rings implement."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.events import MessagePosted


class HistorySink(Protocol):
    """Where the hub hands each channel and private message for keeping."""

    def record(self, event: MessagePosted, conversation: str) -> None:
        """Take a message; must not block (see :mod:`hubbub.storage.history`)."""
        ...

    def forget(self, msgid: str) -> None:
        """Remove a redacted message; must not block."""
        ...
