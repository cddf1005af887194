"""Which store the server gets: the one place that names the storage backends."""

from __future__ import annotations

from pathlib import Path

from hubbub.storage.errors import StorageError
from hubbub.storage.ports import Store

SQLITE_FILE = "hubbub.sqlite3"


async def open_store(
    data_dir: Path, database_url: str | None = None, query_timeout: float = 30.0
) -> Store:
    """The PostgreSQL database at ``database_url`` when one is given, else the SQLite
    file in the data folder; either with its schema brought up to date. ``query_timeout``
    bounds each PostgreSQL query (a stuck one fails rather than hang the server).

    Raises:
        SchemaTooNew: the database was written by a newer hubbub.
        StorageError: the database cannot be opened, or the PostgreSQL driver is missing.
    """
    if database_url is None:
        from hubbub.storage.sqlite import SqliteStore

        return await SqliteStore.open(data_dir / SQLITE_FILE)
    try:
        from hubbub.storage.postgres import PostgresStore
    except ImportError as error:
        if error.name != "asyncpg":
            raise
        raise StorageError(
            "a PostgreSQL database is configured but its driver is not installed: "
            "pip install 'hubbub[postgres]'"
        ) from None
    return await PostgresStore.open(database_url, command_timeout=query_timeout)
