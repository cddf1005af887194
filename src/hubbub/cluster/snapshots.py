"""Snapshots of the shared state, kept in a JetStream object store beside the log.

A node starts from the newest snapshot and the log after it instead of the whole log,
which can then be purged below the snapshot before last (docs/design/cluster.md). Each
node writes its own object (``state.<node>``) at the same log sequences, so no node
waits on another, and a starting node takes the newest one it can read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from dataclasses import dataclass
from typing import Any

from nats.errors import Error as NatsError
from nats.js.api import ObjectMeta
from nats.js.client import JetStreamContext
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError
from nats.js.object_store import ObjectStore

logger = logging.getLogger(__name__)

BUCKET = "hubbub-snapshots"
_SEQUENCE = "Hubbub-Sequence"  # header: the log sequence the state is at


@dataclass(frozen=True, slots=True)
class Snapshot:
    sequence: int  # the last log sequence applied to the state
    data: dict[str, Any]


class SnapshotStore:
    """The snapshots of every node, in one object store bucket.

    Args:
        stream: the JetStream context of the node's connection.
        node: this node's name (its object's).
    """

    def __init__(self, stream: JetStreamContext, node: str) -> None:
        self._stream = stream
        self._name = f"state.{node}"
        self._bucket: ObjectStore | None = None

    async def open(self) -> None:
        """Find the bucket, or make it."""
        try:
            self._bucket = await self._stream.object_store(BUCKET)
        except NotFoundError:
            self._bucket = await self._stream.create_object_store(BUCKET)

    async def newest(self, below: int) -> Snapshot | None:
        """The newest snapshot that reads, of a sequence not above ``below`` (the log's
        last: a snapshot of a log made again since is no start for this one)."""
        bucket = self._bucket
        assert bucket is not None
        try:
            infos = await bucket.list(ignore_deletes=True)
        except NotFoundError:
            return None  # the bucket is empty
        found = sorted(
            ((_sequence(info.headers), info.name) for info in infos if info.name),
            reverse=True,
        )
        for sequence, name in found:
            if not 0 < sequence <= below:
                continue
            try:
                result = await bucket.get(name)
                data = await asyncio.to_thread(_unpack, result.data or b"")
            except (NatsError, JetStreamError, ValueError, zlib.error) as error:
                logger.error(
                    "cluster: the snapshot %s does not read (%s); trying an older one", name, error
                )
                continue
            return Snapshot(sequence, data)
        return None

    async def save(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` as this node's (replacing its last one).

        Raises:
            nats.errors.Error, nats.js.errors.Error: NATS did not take it.
        """
        bucket = self._bucket
        assert bucket is not None
        packed = await asyncio.to_thread(_pack, snapshot.data)
        meta = ObjectMeta(name=self._name, headers={_SEQUENCE: str(snapshot.sequence)})
        await bucket.put(self._name, packed, meta=meta)


def _sequence(headers: dict[str, str] | None) -> int:
    text = (headers or {}).get(_SEQUENCE, "")
    return int(text) if text.isascii() and text.isdigit() else 0


def _pack(data: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def _unpack(packed: bytes) -> dict[str, Any]:
    data = json.loads(zlib.decompress(packed))
    if not isinstance(data, dict):
        raise ValueError("not a snapshot")
    return data
