"""Write-behind for small state (registered channels, read markers): the hub hands over
changes synchronously, one task writes them, and several changes to one key are written
once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from hubbub.storage.errors import StorageError

logger = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")
_RETRY_DELAY = 1.0


class Keeper(Generic[K, V]):
    """Writes the latest value of each changed key with ``write``, from :meth:`run`.

    A failed write is logged and tried again a second later, with the newest value;
    after :meth:`close`, what is pending is written once more and then left.

    Args:
        write: stores one key's value.
        what: names the state in log messages.
    """

    def __init__(self, write: Callable[[K, V], Awaitable[None]], what: str) -> None:
        self._write = write
        self._what = what
        self._pending: dict[K, V] = {}
        self._wake = asyncio.Event()
        self._closing = False

    def put(self, key: K, value: V) -> None:
        self._pending[key] = value
        self._wake.set()

    def pending(self, wanted: Callable[[K], bool]) -> list[tuple[K, V]]:
        """The changes not written yet of the keys ``wanted`` picks."""
        return [(key, value) for key, value in self._pending.items() if wanted(key)]

    def discard(self, unwanted: Callable[[K], bool]) -> None:
        """Drop the pending changes of the keys ``unwanted`` picks."""
        for key in [key for key in self._pending if unwanted(key)]:
            del self._pending[key]

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                key, value = next(iter(self._pending.items()))
                try:
                    await self._write(key, value)
                except StorageError as error:
                    logger.error("cannot save %s %s: %s", self._what, key, error)
                    if self._closing:
                        return
                    # To the back of the line: one key the store refuses must not keep
                    # every other change from being saved.
                    if self._pending.get(key, value) is value:
                        del self._pending[key]
                        self._pending[key] = value
                    await asyncio.sleep(_RETRY_DELAY)
                    continue
                # Unless it changed again meanwhile, this change is stored.
                if self._pending.get(key, value) is value:
                    self._pending.pop(key, None)
            if self._closing:
                return

    def close(self) -> None:
        self._closing = True
        self._wake.set()
