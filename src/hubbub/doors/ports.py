"""What the driver and a door's sessions need of each other: the session's side
(:class:`Session`), the connection as a session sees it (:class:`Peer`), and the logger
that names a connection."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from hubbub.wire.errors import LineTooLong


class Session(Protocol):
    """What the driver needs of a door's session."""

    closed: bool
    keepalive: bool  # whether the dialect can answer PING (idle clients are probed)

    @property
    def registered(self) -> bool: ...

    def receive_line(self, line: bytes | LineTooLong) -> Awaitable[None] | None:
        """Handle a line; a command that must wait (for storage) returns an awaitable,
        and the driver reads nothing more from this client until it is done."""
        ...

    def connection_lost(self, reason: str) -> None: ...

    def close(self, reason: str) -> None: ...

    def ping(self) -> None: ...

    def internal_error(self) -> None: ...

    @property
    def exempt(self) -> bool:
        """Whether flood control spares this client (IRC operators)."""
        ...


class Peer(Protocol):
    """A session's view of its connection: who is on the other end, and how to close.

    :class:`LineConnection` is one, so that a connection costs no second object.
    """

    @property
    def secure(self) -> bool:
        """Whether the connection is TLS."""
        ...

    @property
    def certfp(self) -> str | None:
        """The SHA-256 fingerprint of the client's certificate, if it sent one."""
        ...

    @property
    def shown_host(self) -> str:
        """The client's address as hostmasks show it."""
        ...

    @property
    def log(self) -> ConnectionLog:
        """A logger naming the connection."""
        ...

    def close_transport(self) -> None:
        """Close once everything sent so far has been written."""
        ...


def shown_host(host: str) -> str:
    """An address as hostmasks show it: an IPv6 address like ``::1`` must not start with
    ":" or it would read as a trailing parameter, so it becomes ``0::1``."""
    return "0" + host if host.startswith(":") else host


SessionFactory = Callable[[Callable[[bytes], None], Peer], Session]


class ConnectionLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every record with the connection id."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"[{self.extra['conn'] if self.extra else '?'}] {msg}", kwargs
