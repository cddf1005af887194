"""The write-behind keeper: the latest value per key is written, and a key the store
refuses does not hold up the others."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.storage import keeper as keeper_module
from hubbub.storage.errors import StorageError
from hubbub.storage.keeper import Keeper

WAIT = 5.0


async def test_a_refused_key_goes_to_the_back_and_the_others_are_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keeper_module, "_RETRY_DELAY", 0.01)
    written: dict[str, int] = {}
    attempts: list[str] = []
    done = asyncio.Event()

    async def write(key: str, value: int) -> None:
        attempts.append(key)
        if key == "bad":
            raise StorageError("disk full")
        written[key] = value
        if len(written) == 2:
            done.set()

    keeper: Keeper[str, int] = Keeper(write, "thing")
    keeper.put("bad", 1)
    keeper.put("good", 2)
    keeper.put("also good", 3)
    keeper.put("good", 4)  # only the latest value of a key is written
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        task = group.create_task(keeper.run())
        await done.wait()
        keeper.discard(lambda key: key == "bad")
        keeper.close()
        await task
    assert written == {"good": 4, "also good": 3}
    assert attempts.count("good") == 1
