"""Fixtures for the storage tests: a real store on each backend, a SQLite file under
``tmp_path`` and a database of its own on the test PostgreSQL server."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from hubbub.storage.ports import Store
from hubbub.storage.postgres import PostgresStore
from hubbub.storage.sqlite import SqliteStore

CountRows = Callable[[], Awaitable[int]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hubbub.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """Where a ``store`` test keeps its data: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return db_path
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[Store]:
    opened: Store
    if isinstance(database, Path):
        opened = await SqliteStore.open(database)
    else:
        opened = await PostgresStore.open(database)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def count_rows(database: Path | str) -> CountRows:
    """Counts the messages table's rows behind the store's back, with the backend's own
    client: proof that the table is still there and holds nothing more."""

    async def count() -> int:
        if isinstance(database, Path):
            with contextlib.closing(sqlite3.connect(database)) as db:
                (rows,) = db.execute("SELECT count(*) FROM messages").fetchone()
        else:
            connection = await asyncpg.connect(database)
            try:
                rows = await connection.fetchval("SELECT count(*) FROM messages")
            finally:
                await connection.close()
        assert isinstance(rows, int)
        return rows

    return count
