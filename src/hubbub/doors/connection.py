"""The asyncio driver for line-based doors over TCP and TLS: bytes from a socket framed
into lines, lines handed to a sans-I/O session, its output written back.

It frames input with a bounded :class:`~hubbub.wire.lines.LineBuffer`; everything else a
driver owns (flood control, output coalescing, the SendQ, timers, the catch-all) is
:class:`~hubbub.doors.driver.Connection`'s, shared with the WebSocket driver.
"""

from __future__ import annotations

import asyncio
import functools

from hubbub.doors.driver import Connection
from hubbub.doors.gate import Gate
from hubbub.doors.ports import Batcher, DoorLimits, Roster, SessionFactory
from hubbub.wire.lines import LineBuffer

_TOO_MANY = b"ERROR :Too many connections from your address\r\n"
_FULL = b"ERROR :The server is full; try again later\r\n"


@functools.lru_cache(maxsize=8)
def _longest_line(limits: DoorLimits) -> int:
    """The longest line a client may send, tags included: one int for every connection
    (an int above 256 made per connection was 32 bytes each)."""
    return limits.tags_length + 2 + limits.line_length


class LineConnection(Connection):
    """One client connection carrying lines.

    Args:
        make_session: builds the door's session for this connection.
        limits: the bounds to apply (read when the connection opens).
        batcher: the server's shared output batcher.
        registry: live connections, for shutdown; the connection adds and removes itself.
        gate: admission by address, shared by the server's connections.
        partial_after: for dialects whose clients may send no newline: after this many
            seconds without more data, what was received is taken as a line (and empty
            lines count).
        nodelay: keep TCP_NODELAY (see :class:`~hubbub.doors.driver.Connection`).
    """

    __slots__ = ("_buffer", "_partial_after", "_partial_timer")

    def __init__(
        self,
        make_session: SessionFactory,
        limits: DoorLimits,
        batcher: Batcher,
        registry: Roster[Connection],
        gate: Gate,
        partial_after: float | None = None,
        nodelay: bool = True,
    ) -> None:
        super().__init__(make_session, limits, batcher, registry, gate, nodelay)
        self._partial_after = partial_after
        self._partial_timer: asyncio.TimerHandle | None = None
        self._buffer = LineBuffer(_longest_line(limits), keep_empty=partial_after is not None)

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        host = self._take_transport(transport)
        banned = self._gate.banned(host)
        if banned is not None:
            self._gate.log_refusal(host, "D-lined")
            self._dead = True
            transport.write(f"ERROR :{banned}\r\n".encode())  # type: ignore[attr-defined]
            transport.close()
            return
        if not self._admit(host):
            self._dead = True
            transport.write(_FULL if self._gate.full else _TOO_MANY)  # type: ignore[attr-defined]
            transport.close()
            return
        self._registry.add(self)
        self._begin()

    def data_received(self, data: bytes) -> None:
        session = self._session
        if session is None or self._dead:
            return
        self._last_read = self._batcher.time()
        lines = self._buffer.feed(data)
        if self._partial_after is not None:
            if self._partial_timer is not None:
                self._partial_timer.cancel()
                self._partial_timer = None
            if self._buffer.pending or self._buffer.discarding:
                self._partial_timer = asyncio.get_running_loop().call_later(
                    self._partial_after, self._take_partial
                )
        self._handle(session, lines)

    def _take_partial(self) -> None:
        """The sender paused without a newline: what it sent is a line."""
        self._partial_timer = None
        session = self._session
        line = self._buffer.take_partial()
        if session is not None and line != b"" and not self._dead:
            self._handle(session, [line])

    def connection_lost(self, exc: Exception | None) -> None:
        if self._partial_timer is not None:
            self._partial_timer.cancel()
        super().connection_lost(exc)
