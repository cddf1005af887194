"""The SQLite store's file: created with its folder, WAL, migrations by user_version, and
refusals of newer, damaged or misplaced files."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import sqlite3
from pathlib import Path

import pytest

from hubbub.storage.errors import SchemaTooNew, StorageError
from hubbub.storage.sqlite import SqliteStore, migrations
from tests.storage.samples import CHAN, T0, message, texts


def latest_version() -> int:
    return migrations()[-1][0]


def read_pragma(path: Path, name: str) -> object:
    with contextlib.closing(sqlite3.connect(path)) as db:
        (value,) = db.execute(f"PRAGMA {name}").fetchone()
    return value


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def damage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0:16] = b"not sqlite at al"
    path.write_bytes(bytes(data))


def make_folder(path: Path) -> None:
    path.mkdir(parents=True)


def exists(path: Path) -> bool:
    return path.exists()


def count_rows(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        (count,) = db.execute("SELECT count(*) FROM messages").fetchone()
    assert isinstance(count, int)
    return count


# -- opening, migrations and refusals --------------------------------------------------


def test_migrations_are_numbered_from_1_without_gaps() -> None:
    versions = [version for version, _ in migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert all(script.strip() for _, script in migrations())


async def test_open_creates_the_file_and_its_folder_and_applies_every_migration(
    db_path: Path,
) -> None:
    assert not exists(db_path.parent)
    store = await SqliteStore.open(db_path)
    await store.close()
    assert exists(db_path)
    assert read_pragma(db_path, "user_version") == latest_version()
    assert read_pragma(db_path, "journal_mode") == "wal"
    assert count_rows(db_path) == 0


async def test_reopening_keeps_the_data_and_the_schema_version(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    try:
        await store.append([message(1), message(2)])
    finally:
        await store.close()
    again = await SqliteStore.open(db_path)
    try:
        assert texts(await again.before(CHAN, math.inf, 10)) == ["message 1", "message 2"]
        await again.append([message(3)])
    finally:
        await again.close()
    assert read_pragma(db_path, "user_version") == latest_version()
    assert count_rows(db_path) == 3


async def test_stores_opening_one_new_file_at_once_migrate_it_once(db_path: Path) -> None:
    # A server and `hubbub account` started together on a new data folder: each store
    # opens on its own thread, so the migrations race for real.
    stores = await asyncio.gather(*(SqliteStore.open(db_path) for _ in range(6)))
    try:
        await stores[0].append([message(1)])
        for store in stores[1:]:
            assert [m.msgid for m in await store.before(message(1).conversation, 1e12, 10)] == [
                message(1).msgid
            ]
    finally:
        for store in stores:
            await store.close()
    assert read_pragma(db_path, "user_version") == latest_version()


async def test_a_database_from_a_newer_hubbub_is_refused_with_schema_too_new(
    db_path: Path,
) -> None:
    newer = latest_version() + 1
    make_folder(db_path.parent)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute(f"PRAGMA user_version = {newer}")
        db.commit()

    with pytest.raises(SchemaTooNew) as refused:
        await SqliteStore.open(db_path)

    assert isinstance(refused.value, StorageError)
    text = str(refused.value)
    assert str(db_path) in text
    assert f"schema version {newer}" in text
    assert f"({latest_version()})" in text
    assert "newer" in text
    # Refused, not touched: the newer schema is still there for the newer hubbub.
    assert read_pragma(db_path, "user_version") == newer


async def test_a_corrupt_file_raises_storage_error_naming_it(db_path: Path) -> None:
    write_bytes(db_path, random.Random(7).randbytes(64 * 1024))

    with pytest.raises(StorageError) as refused:
        await SqliteStore.open(db_path)

    assert refused.type is StorageError
    assert str(db_path) in str(refused.value)
    assert not isinstance(refused.value.__cause__, sqlite3.Error)
    assert refused.value.__suppress_context__


async def test_a_file_with_a_damaged_header_raises_storage_error(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    try:
        await store.append([message(n) for n in range(50)])
    finally:
        await store.close()
    damage_header(db_path)

    with pytest.raises(StorageError) as refused:
        await SqliteStore.open(db_path)
    assert str(db_path) in str(refused.value)


async def test_a_directory_in_place_of_the_file_raises_storage_error(db_path: Path) -> None:
    make_folder(db_path)

    with pytest.raises(StorageError) as refused:
        await SqliteStore.open(db_path)

    assert refused.type is StorageError
    assert str(db_path) in str(refused.value)


async def test_a_file_in_place_of_the_data_folder_raises_storage_error(tmp_path: Path) -> None:
    write_bytes(tmp_path / "data", b"not a folder")

    with pytest.raises(StorageError) as refused:
        await SqliteStore.open(tmp_path / "data" / "hubbub.sqlite3")

    assert refused.type is StorageError
    assert "data" in str(refused.value)


async def test_queries_on_a_database_without_its_tables_raise_storage_error(
    db_path: Path,
) -> None:
    # Marked current, but the table is gone: every operation fails with StorageError.
    make_folder(db_path.parent)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        db.execute(f"PRAGMA user_version = {latest_version()}")
        db.commit()
    store = await SqliteStore.open(db_path)
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
    finally:
        await store.close()


async def test_accounts_made_before_account_ids_keep_their_folded_name_as_id(
    db_path: Path,
) -> None:
    # A file at schema version 6, with an account, made as that version left it.
    make_folder(db_path.parent)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        for version, script in migrations():
            if version <= 6:
                db.executescript(script)
        db.execute(
            "INSERT INTO accounts (key, name, password, email, created) "
            "VALUES ('old', 'Old', 'hash', '', 1.0)"
        )
        db.execute("PRAGMA user_version = 6")
        db.commit()
    store = await SqliteStore.open(db_path)
    try:
        found = await store.get_account("old")
    finally:
        await store.close()
    assert found is not None
    # What the account owns is kept under its folded name already.
    assert found.uid == "old"
