"""Registered channels and read markers in storage: the write-behind keepers of both
(a channel is kept in its JSON form, :func:`hubbub.core.registered.to_json`)."""

from __future__ import annotations

from hubbub.accounts.ports import MarkerStore
from hubbub.core.registered import RegisteredChannel, to_json
from hubbub.storage.keeper import Keeper
from hubbub.storage.ports import ChannelStore


class ChannelKeeper(Keeper[str, RegisteredChannel | None]):
    """Saves registered channels' changes (None: the registration was dropped)."""

    def __init__(self, store: ChannelStore) -> None:
        async def write(key: str, record: RegisteredChannel | None) -> None:
            if record is None:
                await store.delete_channel(key)
            else:
                await store.save_channel(key, to_json(record))

        super().__init__(write, "channel")

    def save(self, record: RegisteredChannel) -> None:
        self.put(record.key, record)

    def delete(self, key: str) -> None:
        self.put(key, None)


class MarkerKeeper(Keeper[tuple[str, str], float | None]):
    """Saves accounts' read markers (None: the marker was forgotten)."""

    def __init__(self, store: MarkerStore) -> None:
        async def write(key: tuple[str, str], time: float | None) -> None:
            if time is None:
                await store.forget_marker(key[0], key[1])
            else:
                await store.set_marker(key[0], key[1], time)

        super().__init__(write, "read marker")

    def save(self, account: str, target: str, time: float) -> None:
        self.put((account, target), time)

    def forget(self, account: str, target: str) -> None:
        self.put((account, target), None)

    def forget_account(self, account: str) -> None:
        self.discard(lambda key: key[0] == account)

    def unsaved(self, account: str) -> list[tuple[str, float | None]]:
        return [(key[1], time) for key, time in self.pending(lambda key: key[0] == account)]
