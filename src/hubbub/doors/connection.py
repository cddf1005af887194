"""The one asyncio driver for line-based doors: bytes in from a socket, bytes out to it.

It frames input with a bounded :class:`~hubbub.wire.lines.LineBuffer`, hands each line
to a sans-I/O session, and owns what only I/O can own: write coalescing, the SendQ,
timers, and the single catch-all that keeps one connection's failure from reaching the
rest of the server.

Output: the first line sent to a connection in an event-loop pass is written at once
(no added latency when idle); later lines in the same pass are queued and written with
one system call by :class:`OutputBatcher` at the end of the pass.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

from hubbub.settings import Limits
from hubbub.wire.errors import LineTooLong
from hubbub.wire.lines import LineBuffer

logger = logging.getLogger(__name__)
_ids = itertools.count(1)


class Session(Protocol):
    """What the driver needs of a door's session."""

    closed: bool

    @property
    def registered(self) -> bool: ...

    def receive_line(self, line: bytes | LineTooLong) -> None: ...

    def connection_lost(self, reason: str) -> None: ...

    def close(self, reason: str) -> None: ...

    def ping(self) -> None: ...

    def internal_error(self) -> None: ...


SessionFactory = Callable[
    [Callable[[bytes], None], Callable[[], None], str, logging.LoggerAdapter[logging.Logger]],
    Session,
]


class ConnectionLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every record with the connection id."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"[{self.extra['conn'] if self.extra else '?'}] {msg}", kwargs


class OutputBatcher:
    """Writes the output queued by many connections once, at the end of a loop pass."""

    __slots__ = ("_dirty", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[LineConnection] = []
        self._scheduled = False

    def add(self, connection: LineConnection) -> None:
        self._dirty.append(connection)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        dirty, self._dirty = self._dirty, []
        for connection in dirty:
            connection.flush()


class LineConnection(asyncio.Protocol):
    """One client connection carrying lines.

    Args:
        make_session: builds the door's session for this connection.
        limits: the bounds to apply (read when the connection opens).
        batcher: the server's shared output batcher.
        registry: live connections, for shutdown; the connection adds and removes itself.
    """

    def __init__(
        self,
        make_session: SessionFactory,
        limits: Limits,
        batcher: OutputBatcher,
        registry: set[LineConnection],
    ) -> None:
        self._make_session = make_session
        self._limits = limits
        self._batcher = batcher
        self._registry = registry
        self._buffer = LineBuffer(limits.tags_length + 2 + limits.line_length)
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        self._queued: list[bytes] = []
        self._queued_size = 0
        self._in_pass = False
        self._dead = False
        self._timer: asyncio.TimerHandle | None = None
        self._opened_at = 0.0
        self._last_read = 0.0
        self._pinged_at: float | None = None
        self._close_reason: str | None = None
        self.id = next(_ids)
        self.log = ConnectionLog(logger, {"conn": self.id})
        self.closed = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) else "unknown"
        self.log.info("connected from %s", host)
        self._registry.add(self)
        loop = asyncio.get_running_loop()
        self._opened_at = self._last_read = loop.time()
        self._session = self._make_session(self.send, self.close_transport, host, self.log)
        self._schedule(min(self._limits.registration_timeout, self._limits.ping_interval))

    def data_received(self, data: bytes) -> None:
        session = self._session
        if session is None or self._dead:
            return
        self._last_read = asyncio.get_running_loop().time()
        for line in self._buffer.feed(data):
            if session.closed or self._dead:
                break
            try:
                session.receive_line(line)
            except Exception:
                # The one catch-all of a connection: a bug in a handler costs its
                # sender one reply, never the server or anybody else.
                self.log.exception("connection handler failed")
                if not session.closed:
                    session.internal_error()

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._dead = True
        if self._timer is not None:
            self._timer.cancel()
        self._registry.discard(self)
        reason = self._close_reason or (
            "Connection closed" if exc is None else f"Connection error: {exc}"
        )
        if self._session is not None:
            self._session.connection_lost(reason)
        self.log.info("disconnected (%s)", reason)
        if not self.closed.done():
            self.closed.set_result(None)

    # -- output ------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes for the client; a client over its SendQ is cut off."""
        transport = self._transport
        if self._dead or transport is None:
            return
        if not self._in_pass:
            self._in_pass = True
            self._batcher.add(self)
            transport.write(data)
        else:
            self._queued.append(data)
            self._queued_size += len(data)
        if transport.get_write_buffer_size() + self._queued_size > self._limits.sendq:
            self._cut_off("SendQ exceeded")

    def flush(self) -> None:
        """Write what was queued during this loop pass (called by the batcher)."""
        self._in_pass = False
        if self._queued and not self._dead and self._transport is not None:
            self._transport.write(b"".join(self._queued))
        self._queued.clear()
        self._queued_size = 0

    def close_transport(self) -> None:
        """Close once everything sent so far has been written."""
        if self._transport is None or self._transport.is_closing():
            return
        self.flush()
        self._transport.close()

    def _cut_off(self, reason: str) -> None:
        """Drop a client that cannot keep up, without waiting for it.

        This runs in the middle of someone else's fan-out; ``abort`` calls
        :meth:`connection_lost` on a later loop pass, so the quit is announced then,
        never while the hub is iterating a channel.
        """
        self._dead = True
        self._close_reason = reason
        self._queued.clear()
        self._queued_size = 0
        self.log.warning("cut off: %s", reason)
        assert self._transport is not None
        self._transport.abort()

    # -- timers ------------------------------------------------------------------------

    def _schedule(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(delay, 0.5), self._tick)

    def _tick(self) -> None:
        """Registration deadline, then PING after idleness and a deadline for any reply."""
        session = self._session
        if session is None or self._dead or session.closed:
            return
        limits = self._limits
        now = asyncio.get_running_loop().time()
        if not session.registered:
            left = self._opened_at + limits.registration_timeout - now
            if left <= 0:
                session.close("Registration timeout")
                return
            self._schedule(left)
            return
        if self._pinged_at is not None and self._last_read > self._pinged_at:
            self._pinged_at = None
        if self._pinged_at is None:
            idle = now - self._last_read
            if idle >= limits.ping_interval:
                session.ping()
                self._pinged_at = now
                self._schedule(limits.ping_timeout)
            else:
                self._schedule(limits.ping_interval - idle)
            return
        waited = now - self._pinged_at
        if waited >= limits.ping_timeout:
            session.close(f"Ping timeout: {int(now - self._last_read)} seconds")
            return
        self._schedule(limits.ping_timeout - waited)

    def abort(self) -> None:
        """Close at once, dropping unsent output."""
        if self._transport is not None:
            self._transport.abort()

    def shutdown(self, reason: str) -> None:
        """Close for a server shutdown: the session says goodbye in its dialect."""
        if self._session is not None and not self._session.closed:
            self._session.close(reason)
        elif self._transport is not None:
            self._transport.close()
