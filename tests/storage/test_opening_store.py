"""Opening a store, once over both backends: every migration applied once, also when
several open a new database at once; the data kept; and the refusals of a database
from a newer hubbub, of something that is not a hubbub database, of a damaged one and
of one without its tables. What only one backend can meet (a folder in place of the
file, a server that refuses the login, ...) is in its own test module."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

import pytest

from hubbub.storage import postgres, sqlite
from hubbub.storage.errors import SchemaTooNew, StorageError
from tests.storage.databases import Database
from tests.storage.samples import CHAN, T0, message, texts


@pytest.mark.parametrize(
    "migrations", [sqlite.migrations, postgres.migrations], ids=["sqlite", "postgres"]
)
def test_migrations_are_numbered_from_1_without_gaps(
    migrations: Callable[[], list[tuple[int, str]]],
) -> None:
    versions = [version for version, _ in migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert all(script.strip() for _, script in migrations())


async def test_open_applies_every_migration_once_and_reopening_keeps_the_data(
    database: Database,
) -> None:
    every = list(range(1, database.latest + 1))
    store = await database.open()
    try:
        await store.append([message(1), message(2)])
    finally:
        await store.close()
    assert await database.versions() == every

    again = await database.open()
    try:
        assert texts(await again.before(CHAN, math.inf, 10)) == ["message 1", "message 2"]
        await again.append([message(3)])
    finally:
        await again.close()
    assert await database.versions() == every
    assert await database.count_rows() == 3


async def test_stores_opening_one_new_database_at_once_migrate_it_once(
    database: Database,
) -> None:
    # A server and `hubbub account`, or servers of a cluster, started together: the
    # migrations race for real (SQLite: a thread per store; PostgreSQL: a pool each).
    stores = await asyncio.gather(*(database.open() for _ in range(6)))
    try:
        await asyncio.gather(*(s.append([message(n)]) for n, s in enumerate(stores)))
        every = [message(n).msgid for n in range(len(stores))]
        for each in stores:
            assert [m.msgid for m in await each.before(CHAN, 1e12, 10)] == every
            assert len(await each.after(CHAN, -math.inf, 10)) == len(stores)
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert await database.versions() == list(range(1, database.latest + 1))


async def test_a_database_from_a_newer_hubbub_is_refused_with_schema_too_new(
    database: Database,
) -> None:
    newer = database.latest + 1
    await database.mark_newer(newer)

    with pytest.raises(SchemaTooNew) as refused:
        await database.open()

    assert isinstance(refused.value, StorageError)
    text = str(refused.value)
    assert database.where in text
    assert f"schema version {newer}" in text
    assert f"({database.latest})" in text
    assert "newer" in text
    # Refused, not touched: the newer schema is still there for the newer hubbub.
    assert await database.versions() == [*range(1, database.latest + 1), newer]


async def test_what_is_not_a_hubbub_database_raises_storage_error_naming_it(
    database: Database,
) -> None:
    await database.fill_with_garbage()

    with pytest.raises(StorageError) as refused:
        await database.open()

    assert refused.type is StorageError
    assert database.where in str(refused.value)
    # The driver's exception is neither the cause nor the context shown.
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


async def test_a_damaged_database_raises_storage_error_naming_it(database: Database) -> None:
    store = await database.open()
    try:
        await store.append([message(n) for n in range(50)])
    finally:
        await store.close()
    await database.damage()

    with pytest.raises(StorageError) as refused:
        await database.open()
    assert database.where in str(refused.value)


async def test_queries_on_a_database_without_its_tables_raise_storage_error(
    database: Database,
) -> None:
    store = await database.open_without_tables()
    try:
        with pytest.raises(StorageError):
            await store.append([message(1)])
        with pytest.raises(StorageError):
            await store.before(CHAN, math.inf, 10)
        with pytest.raises(StorageError):
            await store.after(CHAN, 0.0, 10)
        with pytest.raises(StorageError):
            await store.find(CHAN, "x")
        with pytest.raises(StorageError):
            await store.conversations([CHAN], "alice", 0.0, math.inf, 10)
        with pytest.raises(StorageError):
            await store.prune(T0, 10)
        with pytest.raises(StorageError):
            await store.account_names()
        with pytest.raises(StorageError) as refused:
            await store.load_channels()
        assert database.where in str(refused.value)
    finally:
        await store.close()
