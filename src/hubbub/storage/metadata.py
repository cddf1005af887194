"""Accounts' metadata keys (draft/metadata-3) in storage: the write-behind keeper, and the
SQLite and PostgreSQL stores' share of it (mixed into each store, kept apart by topic).

Keys are kept by account id, never by name: an account dropped and registered again by
someone else starts with none. Dropping an account deletes its keys with it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hubbub.storage.errors import StorageError
from hubbub.storage.keeper import Keeper
from hubbub.storage.ports import MetadataStore
from hubbub.storage.postgres_text import get as _get
from hubbub.storage.postgres_text import put as _put

if TYPE_CHECKING:
    import asyncpg  # the postgres extra: only the PostgreSQL store runs these

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The most keys read or kept for one account. A login makes the account's keys the
# user's (at most ``metadata_keys``, see ``core.metadata.loaded``), so this is only a
# backstop: an account's rows once grew without bound, and each login read them all
# on the event loop (probe 23). It is above any sensible ``metadata_keys``.
KEPT_AT_MOST = 256


class MetadataKeeper(Keeper[tuple[str, str], str | None]):
    """Saves accounts' metadata keys (None: the key was removed); implements the core's
    ``MetadataSink``."""

    def __init__(self, store: MetadataStore) -> None:
        async def write(key: tuple[str, str], value: str | None) -> None:
            if value is None:
                await store.delete_metadata(key[0], key[1])
            else:
                await store.set_metadata(key[0], key[1], value)

        super().__init__(write, "metadata key")
        self._store = store

    def save(self, account: str, key: str, value: str | None) -> None:
        self.put((account, key), value)

    def forget_account(self, account: str) -> None:
        self.discard(lambda key: key[0] == account)

    async def kept(self, account: str) -> list[tuple[str, str]]:
        """What is stored, with the changes not written yet laid over it: a client that
        reconnects at once gets what it set last."""
        try:
            stored = dict(await self._store.metadata(account))
        except StorageError as error:
            logger.error("cannot read the metadata of account %s: %s", account, error)
            stored = {}
        for (_, key), value in self.pending(lambda key: key[0] == account):
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        return sorted(stored.items())


class SqliteMetadata:
    """Accounts' keys on a SQLite database (mixed into the store, which provides the
    connection and the two ways of running work on its thread)."""

    _db: sqlite3.Connection

    async def _change(
        self, sql: str, parameters: Sequence[object], immediate: bool = False
    ) -> int:
        raise NotImplementedError

    async def _run(self, work: Callable[[], T]) -> T:
        raise NotImplementedError

    async def set_metadata(self, account: str, key: str, value: str) -> None:
        await self._change(
            "INSERT INTO account_metadata (account, key, value) SELECT ?, ?, ? "
            "WHERE EXISTS (SELECT 1 FROM account_metadata WHERE account = ? AND key = ?) "
            "OR (SELECT count(*) FROM account_metadata WHERE account = ?) < ? "
            "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value",
            (account, key, value, account, key, account, KEPT_AT_MOST),
        )

    async def delete_metadata(self, account: str, key: str) -> None:
        await self._change(
            "DELETE FROM account_metadata WHERE account = ? AND key = ?", (account, key)
        )

    async def metadata(self, account: str) -> list[tuple[str, str]]:
        def work() -> list[tuple[str, str]]:
            found = self._db.execute(
                "SELECT key, value FROM account_metadata WHERE account = ? ORDER BY key LIMIT ?",
                (account, KEPT_AT_MOST),
            )
            return [(row[0], row[1]) for row in found]

        return await self._run(work)


class PostgresMetadata:
    """Accounts' keys on a PostgreSQL database (mixed into the store, which provides
    the pool's two ways of running a statement)."""

    async def _execute(self, query: str, *args: Any) -> str:
        raise NotImplementedError

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def set_metadata(self, account: str, key: str, value: str) -> None:
        await self._execute(
            "INSERT INTO account_metadata (account, key, value) SELECT $1, $2, $3 "
            "WHERE EXISTS (SELECT 1 FROM account_metadata WHERE account = $1 AND key = $2) "
            "OR (SELECT count(*) FROM account_metadata WHERE account = $1) < $4 "
            "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value",
            _put(account),
            _put(key),
            _put(value),
            KEPT_AT_MOST,
        )

    async def delete_metadata(self, account: str, key: str) -> None:
        await self._execute(
            "DELETE FROM account_metadata WHERE account = $1 AND key = $2",
            _put(account),
            _put(key),
        )

    async def metadata(self, account: str) -> list[tuple[str, str]]:
        found = await self._fetch(
            "SELECT key, value FROM account_metadata WHERE account = $1 ORDER BY key LIMIT $2",
            _put(account),
            KEPT_AT_MOST,
        )
        return [(_get(row["key"]), _get(row["value"])) for row in found]
