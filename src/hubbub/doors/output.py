"""Write coalescing: the output of many connections, written once per loop pass; and, in
the sync history mode, held until the messages in it are stored."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from hubbub.doors.ports import Output

logger = logging.getLogger(__name__)


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
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        durability: Durability | None = None,
        max_hold: float = 2.0,
    ) -> None:
        self._loop = loop
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
