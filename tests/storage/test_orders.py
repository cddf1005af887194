"""Orders given from the shell, taken by a running server: a stop that comes while they
are being taken does not lose them (probe 30)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hubbub.core.modes import ModeChange
from hubbub.storage.sqlite import SqliteStore
from hubbub.upkeep import carry_out_channel_orders
from tests.core.world import World


class HeldTake:
    """The real store, its take of orders held until the test lets it go on."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def order_channel(self, key: str, order: str) -> int:
        return await self.store.order_channel(key, order)

    async def channel_orders(self) -> list[tuple[int, str, str]]:
        return await self.store.channel_orders()

    async def take_channel_orders(self) -> list[tuple[int, str, str]]:
        self.started.set()
        await self.go_on.wait()
        return await self.store.take_channel_orders()


async def test_orders_taken_as_the_server_stops_are_carried_out_first(tmp_path: Path) -> None:
    world = World()
    op, _ = world.add("op", "#c")
    world.modes(op, "#c", ModeChange(True, "i"), ModeChange(True, "I", "a:gone"))
    store = await SqliteStore.open(tmp_path / "hubbub.sqlite3")
    try:
        held = HeldTake(store)
        await held.order_channel("", json.dumps({"account_dropped": "gone-id", "name": "gone"}))
        taking = asyncio.create_task(carry_out_channel_orders(world.hub, held))
        await held.started.wait()
        taking.cancel()  # the server stops while the orders are being taken
        held.go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await taking
        # Taken from the store, and carried out: the entry that named the account is gone.
        assert await store.channel_orders() == []
        assert not world.channel("#c").lists["I"]
    finally:
        await store.close()
