"""Registered channels and read markers in storage: the channels' JSON form, and the
write-behind keepers of both."""

from __future__ import annotations

import json
from typing import Any

from hubbub.accounts.ports import MarkerStore
from hubbub.core.model import ListEntry, Topic
from hubbub.core.registered import RegisteredChannel
from hubbub.storage.keeper import Keeper
from hubbub.storage.ports import ChannelStore
from hubbub.wire.casemap import Key


def to_json(record: RegisteredChannel) -> str:
    topic = record.topic
    return json.dumps(
        {
            "name": record.name,
            "founder": record.founder,
            "created": record.created,
            "topic": [topic.text, topic.setter, topic.time] if topic else None,
            "flags": record.flags,
            "password": record.password,
            "limit": record.limit,
            "lists": [[m, e.mask, e.setter, e.time, e.folded] for m, e in record.lists],
            "access": record.access,
            "names": record.names,
            "incarnation": record.incarnation,
        }
    )


def from_json(key: str, text: str) -> RegisteredChannel:
    data: dict[str, Any] = json.loads(text)
    topic = data.get("topic")
    return RegisteredChannel(
        Key(key),
        str(data["name"]),
        str(data["founder"]),
        float(data["created"]),
        Topic(str(topic[0]), str(topic[1]), float(topic[2])) if topic else None,
        str(data.get("flags", "")),
        data.get("password"),
        data.get("limit"),
        tuple(
            (str(m), ListEntry(str(mask), str(setter), float(t), str(folded)))
            for m, mask, setter, t, folded in data.get("lists", [])
        ),
        {str(k): str(v) for k, v in data.get("access", {}).items()},
        {str(k): str(v) for k, v in data.get("names", {}).items()},
        str(data.get("incarnation", "")),
    )


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
