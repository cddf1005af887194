"""A database of either backend as the storage tests see it: opened through its store,
and read, marked or damaged behind the store's back with the backend's own client, so
that one test can state a refusal for both backends."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path
from typing import Protocol

import asyncpg

from hubbub.storage import postgres, postgres_text, sqlite
from hubbub.storage.ports import Store


class Database(Protocol):
    """A database the tests open, inspect and damage."""

    @property
    def where(self) -> str:
        """How the store names the database in its errors."""
        ...

    @property
    def latest(self) -> int:
        """The newest schema version this hubbub ships for the backend."""
        ...

    async def open(self) -> Store:
        """The store on this database, its schema brought up to date."""
        ...

    async def count_rows(self) -> int:
        """How many rows the messages table holds."""
        ...

    async def versions(self) -> list[int]:
        """The schema versions the database holds, oldest first."""
        ...

    async def mark_newer(self, version: int) -> None:
        """Make it a database that a newer hubbub, at schema ``version``, wrote."""
        ...

    async def fill_with_garbage(self) -> None:
        """Put something that is not a hubbub database where the store looks for one."""
        ...

    async def damage(self) -> None:
        """Damage a database the store has used, in the part it reads first."""
        ...

    async def open_without_tables(self) -> Store:
        """A store on a database whose schema is marked current but whose tables are
        gone."""
        ...

    async def certificates_by_name(self, rows: list[tuple[str, str]]) -> None:
        """Make it a database from before certificates were kept by account id, holding
        ``rows`` of (fingerprint, account name)."""
        ...


def read_pragma(path: Path, name: str) -> object:
    with contextlib.closing(sqlite3.connect(path)) as db:
        (value,) = db.execute(f"PRAGMA {name}").fetchone()
    return value


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class SqliteDatabase:
    """A SQLite file, read with the sqlite3 module."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def latest(self) -> int:
        return sqlite.migrations()[-1][0]

    async def open(self) -> Store:
        return await sqlite.SqliteStore.open(self.path)

    async def count_rows(self) -> int:
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            (count,) = db.execute("SELECT count(*) FROM messages").fetchone()
        assert isinstance(count, int)
        return count

    async def versions(self) -> list[int]:
        # user_version is the last migration applied; the ones before it are implied.
        last = read_pragma(self.path, "user_version")
        assert isinstance(last, int)
        return list(range(1, last + 1))

    async def mark_newer(self, version: int) -> None:
        self.path.parent.mkdir(parents=True)
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute("CREATE TABLE future (x)")
            db.execute(f"PRAGMA user_version = {version:d}")
            db.commit()

    async def fill_with_garbage(self) -> None:
        write_bytes(self.path, random.Random(7).randbytes(64 * 1024))

    async def damage(self) -> None:
        data = bytearray(self.path.read_bytes())
        data[0:16] = b"not sqlite at al"
        self.path.write_bytes(bytes(data))

    async def open_without_tables(self) -> Store:
        self.path.parent.mkdir(parents=True)
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute(f"PRAGMA user_version = {self.latest:d}")
            db.commit()
        return await self.open()

    async def certificates_by_name(self, rows: list[tuple[str, str]]) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute("DELETE FROM certificates")
            db.executemany(
                "INSERT INTO certificates (fingerprint, account, added) VALUES (?, ?, 0)", rows
            )
            db.execute("PRAGMA user_version = 8")
            db.commit()


async def query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """Run SQL with the driver directly, behind the store's back."""
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


class PostgresDatabase:
    """A database of its own on the test PostgreSQL server, read with asyncpg."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def where(self) -> str:
        return postgres_text.describe(self.url)

    @property
    def latest(self) -> int:
        return postgres.migrations()[-1][0]

    async def open(self) -> Store:
        return await postgres.PostgresStore.open(self.url)

    async def count_rows(self) -> int:
        ((count,),) = await query(self.url, "SELECT count(*) FROM messages")
        assert isinstance(count, int)
        return count

    async def versions(self) -> list[int]:
        found = await query(self.url, "SELECT version FROM schema_version")
        return [row["version"] for row in found]

    async def mark_newer(self, version: int) -> None:
        await (await self.open()).close()
        await query(self.url, "INSERT INTO schema_version (version) VALUES ($1)", version)

    async def fill_with_garbage(self) -> None:
        # Another program's database, with a table where the first migration puts one.
        await query(self.url, "CREATE TABLE messages (subject TEXT, body TEXT)")

    async def damage(self) -> None:
        await query(self.url, "ALTER TABLE schema_version RENAME COLUMN version TO damaged")

    async def open_without_tables(self) -> Store:
        store = await self.open()
        await query(self.url, "DROP TABLE messages, accounts, channels CASCADE")
        return store

    async def certificates_by_name(self, rows: list[tuple[str, str]]) -> None:
        await query(self.url, "ALTER TABLE certificates DROP CONSTRAINT certificates_account_fkey")
        await query(self.url, "DELETE FROM certificates")
        for fingerprint, name in rows:
            await query(
                self.url,
                "INSERT INTO certificates (fingerprint, account, added) VALUES ($1, $2, 0)",
                fingerprint,
                name,
            )
        await query(self.url, "DELETE FROM schema_version WHERE version >= 4")
