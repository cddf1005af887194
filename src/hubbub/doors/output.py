"""Write coalescing: the output of many connections, written once per loop pass; and, in
the sync history mode, held until the messages in it are stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable
from typing import Protocol

from hubbub.doors.ports import Output

logger = logging.getLogger(__name__)

# Without the tcp_nodelay setting, a connection has TCP_NODELAY while its writes fill a
# segment. Nagle's algorithm holds a write's partial last segment until what went before
# is acknowledged, which a receiver may delay 40 ms: under load every pass's output ended
# so (closed loop 2.0 -> 4.5 M deliveries/s with the push). Small writes keep Nagle, which
# joins them across passes (pushing each cost 2.5 times the CPU in the fan-out).
PUSH_AT = 1400  # bytes: about a segment (the loopback and Ethernet MSS is 1448 or less)
PUSH_UNTIL = 512  # bytes: below, Nagle again (between the two, as it was)


def pushes(size: int, pushing: bool) -> bool:
    """Whether a connection that wrote ``size`` bytes in one pass should have
    TCP_NODELAY (it has it now when ``pushing``)."""
    return size >= PUSH_AT or (pushing and size >= PUSH_UNTIL)


def set_nodelay(transport: asyncio.BaseTransport, on: bool) -> bool:
    """Turn TCP_NODELAY on (which also sends what Nagle holds) or off; returns ``on``."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # OSError: not TCP (a Unix socket); ValueError: uvloop's socket, closed already.
        with contextlib.suppress(OSError, ValueError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))
    return on


# How often a long reply waiting for its client to read checks again, in seconds.
_READ_POLL = 0.05


async def until_read(unread: Callable[[], int | None], low: int) -> None:
    """Wait until ``unread()`` (bytes sent to a client and not yet read by it) is at most
    ``low``, or None (the connection is gone). A long reply (LIST, WHO on a big server)
    goes out as the client reads it, as SAFELIST promises: all at once, it passed the
    SendQ of a client on a slow link, which was then cut off. Polled, not called back:
    the transport says nothing below its high-water mark, which is the SendQ."""
    await asyncio.sleep(0)  # this pass's output leaves first
    while (left := unread()) is not None and left > low:  # noqa: ASYNC110 (see above)
        await asyncio.sleep(_READ_POLL)


# Seconds a closed connection may take to hand its client what it still holds.
CLOSE_GRACE = 10.0


def drop_later(transport: asyncio.Transport) -> None:
    """Abort ``transport``, just closed, if it still holds output after CLOSE_GRACE: a
    client that never reads kept its socket, megabytes of kernel buffers and its place
    in the per-address count for good (a paced LIST never read, then a ping timeout).
    Aborting a transport already gone does nothing."""
    asyncio.get_running_loop().call_later(CLOSE_GRACE, transport.abort)


class Durability(Protocol):
    """How far message storage has got (:class:`hubbub.storage.history.HistoryWriter`)."""

    recorded: int
    on_progress: Callable[[int], None] | None

    def stored_through(self) -> int: ...


class OutputBatcher:
    """Writes the output queued by many connections once, at the end of a loop pass.

    Args:
        loop: the running loop.
        durability: in the sync history mode, the history writer. Each pass's output is
            then held, in order, until every message recorded before the pass ended is
            stored: a message reaches no one before it is safe from a kill. The cost is
            latency (one commit), never lost or reordered output.
        max_hold: how long output may wait for a store that does not answer; then it
            goes out unstored (logged), rather than the whole server falling silent.
    """

    __slots__ = (
        "_durability",
        "_expiry",
        "_held",
        "_loop",
        "_max_hold",
        "dirty",
        "holding",
        "scheduled",
        "time",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        durability: Durability | None = None,
        max_hold: float = 2.0,
    ) -> None:
        self._loop = loop
        self.time = loop.time
        # Public to the connections, which add themselves in their hot path.
        self.dirty: list[Output] = []
        self.scheduled = False
        self.holding = durability is not None
        self._durability = durability
        # Output waiting for storage: (message number it waits for, when it began to
        # wait, and what to write with whether to close the connection after).
        self._held: deque[tuple[int, float, list[tuple[Output, bytes, bool]]]] = deque()
        self._max_hold = max_hold
        self._expiry: asyncio.TimerHandle | None = None
        if durability is not None:
            durability.on_progress = self._release

    def schedule(self) -> None:
        """Flush at the end of this loop pass (connections add themselves to ``dirty``)."""
        self.scheduled = True
        self._loop.call_soon(self._flush)

    def close_after_output(self, connection: Output) -> None:
        """Close a connection once the output it has queued is written (held output
        included)."""
        assert self._durability is not None
        taken = [(connection, connection.take_output(), True)]
        self._hold(taken)

    def _flush(self) -> None:
        self.scheduled = False
        dirty, self.dirty = self.dirty, []
        if self._durability is None:
            for connection in dirty:
                connection.flush()
            return
        self._hold([(connection, connection.take_output(), False) for connection in dirty])

    def _hold(self, taken: list[tuple[Output, bytes, bool]]) -> None:
        assert self._durability is not None
        self._held.append((self._durability.recorded, self._loop.time(), taken))
        self._release(self._durability.stored_through())
        if self._held and self._expiry is None:
            self._expiry = self._loop.call_later(self._max_hold, self._expire)

    def _release(self, stored_through: int) -> None:
        held = self._held
        while held and held[0][0] <= stored_through:
            _, _, taken = held.popleft()
            for connection, data, close in taken:
                connection.write_now(data, close)

    def _expire(self) -> None:
        """Output held past ``max_hold``: the store is stuck, so it goes out unstored."""
        self._expiry = None
        held = self._held
        late = self._loop.time() - self._max_hold
        if held and held[0][1] <= late:
            logger.error(
                "history store has not stored messages for %.1f s: delivering them unstored",
                self._max_hold,
            )
            while held and held[0][1] <= late:
                _, _, taken = held.popleft()
                for connection, data, close in taken:
                    connection.write_now(data, close)
        if held:
            self._expiry = self._loop.call_later(
                max(0.01, held[0][1] + self._max_hold - self._loop.time()), self._expire
            )
