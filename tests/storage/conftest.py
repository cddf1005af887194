"""Fixtures for the storage tests: a real store on each backend, a SQLite file under
``tmp_path`` and a database of its own on the test PostgreSQL server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hubbub.storage.ports import Store
from tests.storage.databases import Database, PostgresDatabase, SqliteDatabase

CountRows = Callable[[], Awaitable[int]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hubbub.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, db_path: Path) -> Database:
    """Where a ``store`` test keeps its data: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return SqliteDatabase(db_path)
    url: str = request.getfixturevalue("postgres_url")
    return PostgresDatabase(url)


@pytest.fixture
async def store(database: Database) -> AsyncIterator[Store]:
    opened = await database.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def count_rows(database: Database) -> CountRows:
    """Counts the messages table's rows behind the store's back, with the backend's own
    client: proof that the table is still there and holds nothing more."""
    return database.count_rows
