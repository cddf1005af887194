"""What the driver and the pieces around it need of each other: the session's side
(:class:`Session`), the connection as a session sees it (:class:`Peer`), the logger that
names a connection; and, so that the driver imports none of the modules that use it, what
it needs of the server's output batcher (:class:`Batcher`), of its set of live connections
(:class:`Roster`), the limits doors are held to (:class:`DoorLimits`), with what the batcher needs
of a connection (:class:`Output`); and what a door reads of the message history
(:class:`RecentHistory`), so that no door imports a storage module for it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hubbub.core.server_bans import BanKind, ServerBan, ServerBans
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

    @property
    def outbox(self) -> Outbox | None:
        """What the connection writes at the end of this loop pass (None: no batcher;
        everything goes through the session's ``send``)."""
        ...

    @property
    def frames(self) -> Callable[[bytes], bytes] | None:
        """How the connection frames a session's output (WebSocket), or None when the
        bytes go as they are."""
        ...

    @property
    def debug(self) -> bool:
        """Whether its traffic is logged (then every line goes through ``send``)."""
        ...

    def close_transport(self) -> None:
        """Close once everything sent so far has been written."""
        ...

    def spend(self, cost: int) -> None:
        """Take ``cost`` lines more from flood control, for a command that costs more
        than a line to answer; the client's next lines wait for them."""
        ...

    async def drained(self) -> None:
        """Return once the client has read most of what was sent to it, so that a long
        reply never passes its SendQ (SAFELIST)."""
        ...


def shown_host(host: str) -> str:
    """An address as hostmasks show it: an IPv6 address like ``::1`` must not start with
    ":" or it would read as a trailing parameter, so it becomes ``0::1``."""
    return "0" + host if host.startswith(":") else host


SessionFactory = Callable[[Callable[[bytes], None], Peer], Session]


class ConnectionLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every record with the connection id; ``quiet``, it keeps warnings and
    errors only (a connection past its address's share of the log, see
    :meth:`~hubbub.doors.gate.Gate.log_connection`)."""

    def __init__(
        self, logger: logging.Logger, extra: Mapping[str, object], quiet: bool = False
    ) -> None:
        super().__init__(logger, extra)
        self.quiet = quiet

    def isEnabledFor(self, level: int) -> bool:
        if self.quiet and level < logging.WARNING:
            return False
        return super().isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        conn = self.extra["conn"] if self.extra else "?"
        # Also a field of the record, for the JSON log (hubbub.logs).
        kwargs["extra"] = {**kwargs.get("extra", {}), "conn": conn}
        return f"[{conn}] {msg}", kwargs


class Outbox(list[bytes]):
    """A connection's output of this loop pass, written at its end.

    Whoever appends to an empty outbox enters its ``owner`` in the batcher's ``dirty``
    list (and schedules the batcher): the connection's :meth:`send` does, and so does a
    channel message's fan-out, which appends the same bytes to many outboxes without a
    call per recipient. Whoever appends counts the bytes in ``size`` too, and past
    ``limit`` (the SendQ) calls the owner's ``overflow``: a pass's output never waits
    here beyond the SendQ, whatever the client does.
    """

    __slots__ = ("limit", "owner", "size")

    def __init__(self, owner: Output, limit: int) -> None:
        super().__init__()
        self.owner = owner
        self.limit = limit
        self.size = 0

    def take(self) -> bytes:
        """Everything appended, as one bytes (the one item itself: no copy); empties it."""
        data = b"" if not self else self[0] if len(self) == 1 else b"".join(self)
        self.clear()
        self.size = 0
        return data


class Output(Protocol):
    """What the output batcher needs of a connection
    (:class:`~hubbub.doors.connection.LineConnection` is one)."""

    def flush(self) -> None:
        """Write what was queued during this loop pass."""
        ...

    def take_output(self) -> bytes:
        """Take what was queued during this loop pass, to write later."""
        ...

    def overflow(self) -> None:
        """More than the SendQ waits in the outbox: write it now, or cut the client off."""
        ...

    def write_now(self, data: bytes, close: bool = False) -> None:
        """Write output taken earlier, and close after it if asked."""
        ...


class Batcher(Protocol):
    """What a connection needs of the server's output batcher
    (:class:`~hubbub.doors.output.OutputBatcher` is one).

    Attributes, not methods, where a connection touches them for every line it sends.
    """

    dirty: list[Output]  # connections with output queued in this loop pass
    scheduled: bool  # whether the end-of-pass flush is scheduled
    holding: bool  # whether output waits for storage (the sync history mode)
    # The loop's clock: asyncio.get_running_loop() makes a getpid system call each time,
    # 1.4 % of the server's CPU when every line read asked for it.
    time: Callable[[], float]

    def schedule(self) -> None:
        """Flush at the end of this loop pass."""
        ...

    def close_after_output(self, connection: Output) -> None:
        """Close ``connection`` once its held output is written."""
        ...


_Member = TypeVar("_Member", contravariant=True)


class Roster(Protocol[_Member]):
    """Where a connection enters itself while it is open, so that shutdown can find it
    and its timers run (:class:`~hubbub.doors.registry.Connections` is one)."""

    def add(self, connection: _Member) -> None: ...

    def discard(self, connection: _Member) -> None: ...


@dataclass(frozen=True)
class DoorLimits:
    """The bounds every door's connections are held to, with their defaults; each is a
    ``[limits]`` setting (:class:`hubbub.settings.Limits` is made of these and the other
    rings' limits)."""

    line_length: int = 512  # bytes of a line without tags, CRLF included (RFC 1459)
    tags_length: int = 4094  # bytes of a client's tags, without "@" and " " (message-tags)
    sendq: int = 1_048_576  # bytes queued for a client before it is cut off
    registration_timeout: float = 60.0  # seconds to finish registering before the cut-off
    ping_interval: float = 120.0  # idle seconds before the server sends PING
    ping_timeout: float = 60.0  # seconds after that PING before the client is cut off
    connections_per_ip: int = 50  # 0: no limit
    flood_burst: int = 40  # lines a client may send at once before it is slowed down
    flood_rate: float = 10.0  # lines per second after the burst; 0: no flood control
    plain_pause: float = 0.25  # plain door: seconds of silence that end a line sent without \n
    plain_backlog: int = 10  # plain door: lines of a room's history shown on joining
    web_request_bytes: int = 32768  # web listener: bytes of an HTTP request's head
    web_request_timeout: float = 10.0  # web listener: seconds to send a request, read an answer
    tls_handshake_timeout: float = 10.0  # seconds a client has to finish its TLS handshake
    max_connections: int = 0  # open connections on every door; 0: as many as files allow


def flood_cost(line: bytes | LineTooLong | int) -> int:
    """Flood control's price of a line: one per 512 bytes begun (tags may make it 4 KiB),
    or what a connection's ``charge`` asks for input that made no line."""
    if isinstance(line, int):
        return line
    return (len(line) + 511) // 512 if isinstance(line, bytes) and len(line) > 512 else 1


class StoredLine(Protocol):
    """A message as the history keeps it, as far as a door shows it
    (:class:`hubbub.storage.ports.StoredMessage` is one)."""

    @property
    def msgid(self) -> str: ...

    @property
    def sender(self) -> str:
        """The sender's ``nick!user@host``."""
        ...

    @property
    def kind(self) -> str:
        """``PRIVMSG`` or ``NOTICE``."""
        ...

    @property
    def text(self) -> str: ...

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines of a multi-line message, else empty."""
        ...


class RecentHistory(Protocol):
    """What a door reads of the message history
    (:class:`hubbub.storage.ports.HistoryStore` is one). It may raise
    :class:`~hubbub.core.ports.StoreUnavailable`."""

    async def before(self, conversation: str, time: float, limit: int) -> Sequence[StoredLine]:
        """The latest ``limit`` messages of a conversation before ``time``, oldest first."""
        ...


class BanBook(Protocol):
    """Where KLINE, DLINE and their undoing change the server's bans: kept in the store
    (when there is one), held by :attr:`bans`, and enforced on the users they cover."""

    @property
    def bans(self) -> ServerBans: ...

    @property
    def kept(self) -> bool:
        """Whether bans are stored (survive a restart, reach the other nodes)."""
        ...

    async def add(self, ban: ServerBan) -> int:
        """Set ``ban`` (replacing one of the same kind and key); return how many users
        it disconnected.

        Raises:
            StoreUnavailable: it could not be kept (nothing changed).
        """
        ...

    async def remove(self, kind: BanKind, mask: str) -> ServerBan | None:
        """Lift a ban; the one lifted, or None if there was none.

        Raises:
            StoreUnavailable: it could not be forgotten (nothing changed).
        """
        ...
