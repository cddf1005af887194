"""Registered channels in storage: their JSON form, and the write-behind keeper."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from hubbub.core.model import ListEntry, Topic
from hubbub.core.registered import RegisteredChannel
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import ChannelStore
from hubbub.wire.casemap import Key

logger = logging.getLogger(__name__)
_RETRY_DELAY = 1.0


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
    )


class ChannelKeeper:
    """Saves registered channels' changes from one task; the hub hands them over
    synchronously, and several changes to one channel are written once."""

    def __init__(self, store: ChannelStore) -> None:
        self._store = store
        self._pending: dict[str, RegisteredChannel | None] = {}
        self._wake = asyncio.Event()
        self._closing = False

    def save(self, record: RegisteredChannel) -> None:
        self._pending[record.key] = record
        self._wake.set()

    def delete(self, key: str) -> None:
        self._pending[key] = None
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                key, record = next(iter(self._pending.items()))
                try:
                    if record is None:
                        await self._store.delete_channel(key)
                    else:
                        await self._store.save_channel(key, to_json(record))
                except StorageError as error:
                    logger.error("cannot save channel %s: %s", key, error)
                    if self._closing:
                        return
                    await asyncio.sleep(_RETRY_DELAY)
                    continue
                # Unless it changed again meanwhile, this change is stored.
                if self._pending.get(key, record) is record:
                    self._pending.pop(key, None)
            if self._closing:
                return

    def close(self) -> None:
        self._closing = True
        self._wake.set()
