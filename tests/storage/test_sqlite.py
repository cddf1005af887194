"""The SQLite store's file: created with its folder, WAL, migrations by user_version,
refusals of misplaced files, and accounts from before account ids. What both backends
share (migrations once, newer or damaged databases) is in ``test_opening_store``."""

from __future__ import annotations

import contextlib
import math
import sqlite3
from pathlib import Path

import pytest

from hubbub.storage.errors import StorageError
from hubbub.storage.sqlite import SqliteStore, migrations
from tests.storage.databases import SqliteDatabase, read_pragma, write_bytes
from tests.storage.samples import CHAN, message


def latest_version() -> int:
    return migrations()[-1][0]


def make_folder(path: Path) -> None:
    path.mkdir(parents=True)


def exists(path: Path) -> bool:
    return path.exists()


# -- opening, migrations and refusals --------------------------------------------------


async def test_open_creates_the_file_and_its_folder_and_applies_every_migration(
    db_path: Path,
) -> None:
    assert not exists(db_path.parent)
    store = await SqliteStore.open(db_path)
    await store.close()
    assert exists(db_path)
    assert read_pragma(db_path, "user_version") == latest_version()
    assert read_pragma(db_path, "journal_mode") == "wal"
    assert await SqliteDatabase(db_path).count_rows() == 0


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


# -- history reads that must not scan ---------------------------------------------------


@pytest.mark.parametrize("statement", ["_FIRST_PRIVATE", "_NEXT_PRIVATE", "_LATEST"])
async def test_chathistory_targets_finds_conversations_through_the_index(
    db_path: Path, statement: str
) -> None:
    # Issue 20, ninth probe: one query scanned every message for the owner's private
    # conversations (0.1 s a request on a million messages, the store's one thread busy).
    from hubbub.storage import sqlite as module

    store = await SqliteStore.open(db_path)
    await store.close()
    sql = getattr(module, statement)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        plan = " ".join(
            str(row[-1])
            for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", ("a", "b")[: sql.count("?")])
        )
    assert "SEARCH messages USING" in plan, plan
    assert "INDEX messages_by_conversation" in plan, plan
    assert "SCAN" not in plan, plan


# -- history writes ----------------------------------------------------------------------


def test_a_batch_of_any_size_is_inserted_by_a_few_statement_sizes_covering_each_row_once() -> None:
    # Each size is its own prepared statement: a batch of any size must not make a new one.
    from hubbub.storage import sqlite as module

    sizes_used: set[int] = set()
    for count in range(0, 3 * module._ROWS_PER_INSERT + 2):
        chunks = list(module._chunks(count))
        covered = [row for start, size in chunks for row in range(start, start + size)]
        assert covered == list(range(count))
        sizes_used.update(size for _, size in chunks)
    assert max(sizes_used) == module._ROWS_PER_INSERT
    assert all(size & (size - 1) == 0 for size in sizes_used), sizes_used
    assert len(sizes_used) == module._ROWS_PER_INSERT.bit_length()


async def test_batches_of_many_sizes_store_every_message_once_in_order(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    try:
        number = 0
        for size in [*range(1, 40), 255, 256, 257, 600]:
            await store.append([message(n) for n in range(number, number + size)])
            number += size
        stored = await store.after(CHAN, -math.inf, number + 10)
    finally:
        await store.close()
    assert [m.msgid for m in stored] == [message(n).msgid for n in range(number)]
