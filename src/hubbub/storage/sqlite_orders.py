"""The SQLite store's share of what operators order from the shell (``hubbub admin``):
server bans, and orders for registered channels that the running server carries out.
A part of :class:`~hubbub.storage.sqlite.SqliteStore`, kept apart by topic."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class SqliteOrders:
    """Server bans and channel orders on a SQLite database (mixed into the store, which
    provides the connection and the two ways of running work on its thread)."""

    _db: sqlite3.Connection

    async def _change(
        self, sql: str, parameters: Sequence[object], immediate: bool = False
    ) -> int:
        raise NotImplementedError

    async def _run(self, work: Callable[[], T]) -> T:
        raise NotImplementedError

    # -- server bans -------------------------------------------------------------------

    async def save_ban(self, kind: str, mask: str, set_at: float, data: str) -> None:
        await self._change(
            "INSERT INTO server_bans (kind, mask, set_at, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, mask) DO UPDATE "
            "SET set_at = excluded.set_at, data = excluded.data",
            (kind, mask, set_at, data),
        )

    async def delete_ban(self, kind: str, mask: str) -> bool:
        changed = await self._change(
            "DELETE FROM server_bans WHERE kind = ? AND mask = ?", (kind, mask)
        )
        return changed == 1

    async def delete_ended_ban(self, kind: str, mask: str, set_at: float) -> bool:
        """Delete the ban ``kind``/``mask`` only while it is still the one set at
        ``set_at``: one set again since (from the shell, by another node) is a new ban,
        which the ended one's clean-up must leave alone (probe 23)."""
        changed = await self._change(
            "DELETE FROM server_bans WHERE kind = ? AND mask = ? AND set_at = ?",
            (kind, mask, set_at),
        )
        return changed == 1

    async def load_bans(self) -> list[str]:
        def work() -> list[str]:
            return [row[0] for row in self._db.execute("SELECT data FROM server_bans")]

        return await self._run(work)

    async def bans_version(self) -> str:
        def work() -> str:
            rows = self._db.execute("SELECT kind, mask, data FROM server_bans ORDER BY kind, mask")
            digest = hashlib.sha256()
            for kind, mask, data in rows:
                digest.update(f"{kind} {mask} {data}\n".encode())
            return digest.hexdigest()

        return await self._run(work)

    # -- channel orders ----------------------------------------------------------------

    async def order_channel(self, key: str, order: str) -> int:
        def work() -> int:
            with self._db:
                self._db.execute("BEGIN")
                cursor = self._db.execute(
                    "INSERT INTO channel_orders (key, data) VALUES (?, ?)", (key, order)
                )
                return int(cursor.lastrowid or 0)

        return await self._run(work)

    async def channel_orders(self) -> list[tuple[int, str, str]]:
        def work() -> list[tuple[int, str, str]]:
            found = self._db.execute("SELECT id, key, data FROM channel_orders ORDER BY id")
            return [(int(row[0]), row[1], row[2]) for row in found]

        return await self._run(work)

    async def take_channel_orders(self) -> list[tuple[int, str, str]]:
        def work() -> list[tuple[int, str, str]]:
            # Taken whole in one write transaction: each order is carried out once, by
            # whichever server takes it.
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                found = self._db.execute(
                    "SELECT id, key, data FROM channel_orders ORDER BY id"
                ).fetchall()
                self._db.execute("DELETE FROM channel_orders")
            return [(int(row[0]), row[1], row[2]) for row in found]

        return await self._run(work)
