"""Write coalescing: the output of many connections, written once per loop pass."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubbub.doors.connection import LineConnection


class OutputBatcher:
    """Writes the output queued by many connections once, at the end of a loop pass."""

    __slots__ = ("_loop", "dirty", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # Public to the connections, which add themselves in their hot path.
        self.dirty: list[LineConnection] = []
        self.scheduled = False

    def schedule(self) -> None:
        """Flush at the end of this loop pass (connections add themselves to ``dirty``)."""
        self.scheduled = True
        self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self.scheduled = False
        dirty, self.dirty = self.dirty, []
        for connection in dirty:
            connection.flush()
