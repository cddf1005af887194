"""The live connections of a server: shutdown waits until none is left, and one sweep
runs all their timers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

from hubbub.doors.driver import Connection


class Connections:
    """The live connections of a server, and a way to wait until none is left."""

    __slots__ = ("_empty", "_live")

    def __init__(self) -> None:
        self._live: set[Connection] = set()
        self._empty: asyncio.Event | None = None

    def add(self, connection: Connection) -> None:
        self._live.add(connection)

    def discard(self, connection: Connection) -> None:
        self._live.discard(connection)
        if not self._live and self._empty is not None:
            self._empty.set()

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._live))

    def __len__(self) -> int:
        return len(self._live)

    async def wait_empty(self) -> None:
        if self._live:
            self._empty = asyncio.Event()
            await self._empty.wait()

    async def keep_time(self, interval: Callable[[], float]) -> None:
        """Run each connection's timers (registration deadline, PING, ping timeout):
        one sweep every ``interval()`` seconds instead of a timer per connection, which
        would cost every idle connection a timer handle and every registration a
        scheduling."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval())
            now = loop.time()
            for connection in list(self._live):
                if connection.deadline <= now:
                    connection.deadline_passed()
