"""The SQLite history store on real files: migrations, refusals, queries, hostile texts."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import sqlite3
from pathlib import Path

import pytest

from hubbub.storage.errors import SchemaTooNew, StorageError
from hubbub.storage.ports import Conversation, StoredMessage
from hubbub.storage.sqlite import SqliteStore, migrations

T0 = 1_700_000_000.0
CHAN = "#chan"


def message(
    number: int,
    conversation: str = CHAN,
    *,
    at: float | None = None,
    text: str | None = None,
    sender: str = "alice!a@127.0.0.1",
    target: str | None = None,
) -> StoredMessage:
    """Message ``number`` of a conversation, at ``T0 + number`` unless told."""
    return StoredMessage(
        msgid=f"{conversation}-{number}",
        time=T0 + number if at is None else at,
        conversation=conversation,
        target=conversation if target is None else target,
        sender=sender,
        kind="PRIVMSG",
        text=f"message {number}" if text is None else text,
    )


def texts(messages: list[StoredMessage]) -> list[str]:
    return [m.text for m in messages]


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


# -- append, before, after, find -------------------------------------------------------


async def test_before_returns_the_latest_messages_strictly_before_oldest_first(
    store: SqliteStore,
) -> None:
    await store.append([message(n) for n in range(10)])

    assert texts(await store.before(CHAN, T0 + 7, 3)) == ["message 4", "message 5", "message 6"]
    # A message exactly at the bound is not "before" it.
    assert "message 7" not in texts(await store.before(CHAN, T0 + 7, 100))
    assert texts(await store.before(CHAN, T0 + 7, 100)) == [f"message {n}" for n in range(7)]
    assert texts(await store.before(CHAN, math.inf, 2)) == ["message 8", "message 9"]
    assert await store.before(CHAN, T0, 10) == []


async def test_after_returns_the_first_messages_strictly_after_oldest_first(
    store: SqliteStore,
) -> None:
    await store.append([message(n) for n in range(10)])

    assert texts(await store.after(CHAN, T0 + 2, 3)) == ["message 3", "message 4", "message 5"]
    assert texts(await store.after(CHAN, T0 + 6, 100)) == ["message 7", "message 8", "message 9"]
    assert await store.after(CHAN, T0 + 9, 10) == []
    assert texts(await store.after(CHAN, -math.inf, 1)) == ["message 0"]


async def test_messages_with_the_same_time_keep_the_order_they_were_appended_in(
    store: SqliteStore,
) -> None:
    same = [message(n, at=T0 + 5) for n in (3, 1, 2)]
    await store.append([message(0), *same, message(9)])

    assert texts(await store.after(CHAN, T0, 10)) == [
        "message 3",
        "message 1",
        "message 2",
        "message 9",
    ]
    assert texts(await store.before(CHAN, T0 + 9, 2)) == ["message 1", "message 2"]


async def test_messages_appended_out_of_order_come_back_in_time_order(
    store: SqliteStore,
) -> None:
    numbers = list(range(20))
    random.Random(3).shuffle(numbers)
    for number in numbers:
        await store.append([message(number)])

    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(20)]


async def test_conversations_do_not_mix(store: SqliteStore) -> None:
    await store.append([message(1, "#a"), message(2, "#b"), message(3, "#a"), message(4, "#A")])

    assert texts(await store.before("#a", math.inf, 10)) == ["message 1", "message 3"]
    assert texts(await store.after("#b", 0.0, 10)) == ["message 2"]
    assert texts(await store.before("#A", math.inf, 10)) == ["message 4"]
    assert await store.before("#c", math.inf, 10) == []


async def test_a_limit_larger_than_the_history_returns_all_of_it(store: SqliteStore) -> None:
    await store.append([message(n) for n in range(3)])
    assert len(await store.before(CHAN, math.inf, 1_000_000)) == 3
    assert len(await store.after(CHAN, 0.0, 1_000_000)) == 3


async def test_find_looks_a_message_up_in_its_own_conversation_only(store: SqliteStore) -> None:
    stored = message(5)
    await store.append([stored, message(6, "#other")])

    assert await store.find(CHAN, stored.msgid) == stored
    assert await store.find("#other", stored.msgid) is None
    assert await store.find(CHAN, "no-such-id") is None
    assert await store.find(CHAN, "") is None


async def test_a_duplicate_msgid_is_ignored_and_the_first_copy_kept(
    store: SqliteStore, db_path: Path
) -> None:
    first = message(1, text="the original")
    await store.append([first])
    await store.append([message(1, text="a replay"), message(2)])
    # Twice in one batch, too.
    await store.append([message(3), message(3, text="again")])

    assert texts(await store.before(CHAN, math.inf, 10)) == [
        "the original",
        "message 2",
        "message 3",
    ]
    assert await store.find(CHAN, first.msgid) == first
    assert count_rows(db_path) == 3


async def test_an_empty_append_is_a_no_op(store: SqliteStore) -> None:
    await store.append([])
    assert await store.before(CHAN, math.inf, 10) == []


async def test_every_field_tags_and_lines_round_trip(store: SqliteStore) -> None:
    stored = StoredMessage(
        msgid="AbC-123_x",
        time=T0 + 0.123456,
        conversation="alice bob",
        target="Bob",
        sender="Alice!~alice@203.0.113.9",
        kind="NOTICE",
        text="first line",
        tags=(("+draft/reply", "XyZ"), ("+example.com/k", "a;b c\\d"), ("+empty", "")),
        lines=("first line", "second line", ""),
    )
    await store.append([stored])

    (got,) = await store.before("alice bob", math.inf, 1)
    assert got == stored
    assert isinstance(got.tags, tuple)
    assert isinstance(got.lines, tuple)
    assert got.time == stored.time


HOSTILE_TEXTS = [
    "it's \"quoted\" `back` 'single'",
    "'); DROP TABLE messages; --",
    "Robert'); DELETE FROM messages WHERE 1=1; --",
    '" OR "1"="1',
    "x' UNION SELECT msgid, time, conversation, target, sender, kind, text, tags, lines"
    " FROM messages --",
    "nul\x00inside\x00\x00",
    "\x00",
    "percent % and underscore _ and star * and question ?",
    "back\\slash \\' \\\" \\0 \\n",
    '["json", "looking"]',
    '{"tags": [[1, 2]]}',
    "\x01ACTION waves\x01",
    "\x1b[2J\x07\x08\x7f control bytes \r\n\t",
    "Привет, мир — ünïcødé, 日本語, العربية, עברית",
    "emoji 👩‍👩‍👧‍👦🏳️‍🌈 and combining e\u0301 and zero\u200bwidth",
    "\U0010ffff\ufeff\ufffd",
    "",
    " ",
    "A" * 100_000,
    "日本" * 50_000,
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
async def test_hostile_texts_round_trip_exactly(
    store: SqliteStore, db_path: Path, text: str
) -> None:
    hostile = StoredMessage(
        msgid=text[:200] or "empty",
        time=T0,
        conversation=text[:300],
        target=text[:300],
        sender=text[:300],
        kind="PRIVMSG",
        text=text,
        tags=(("+k", text), (text[:50], "v")),
        lines=(text, text[:10]),
    )
    await store.append([hostile, message(1, text[:300])])

    got = await store.before(text[:300], math.inf, 10)
    assert got == [hostile, message(1, text[:300])]
    assert got[0].text == text
    assert await store.find(text[:300], hostile.msgid) == hostile
    # Nothing was executed: the table is still there with both rows.
    assert count_rows(db_path) == 2


async def test_many_concurrent_appends_and_reads_all_complete(store: SqliteStore) -> None:
    writes = [store.append([message(n)]) for n in range(200)]
    reads = [store.before(CHAN, math.inf, 5) for _ in range(50)]
    async with asyncio.timeout(10):
        await asyncio.gather(*writes, *reads)
    assert texts(await store.after(CHAN, -math.inf, 1000)) == [f"message {n}" for n in range(200)]


# -- conversations (CHATHISTORY TARGETS) -----------------------------------------------


async def test_conversations_lists_the_given_channels_by_latest_message(
    store: SqliteStore,
) -> None:
    await store.append(
        [
            message(1, "#a", sender="alice!a@h"),
            message(2, "#b", sender="bob!b@h"),
            message(3, "#a", sender="carol!c@h"),
            message(4, "#hidden"),
        ]
    )

    found = await store.conversations(["#a", "#b", "#none"], "zed", 0.0, math.inf, 10)

    assert found == [
        Conversation("#b", "#b", "bob!b@h", T0 + 2),
        Conversation("#a", "#a", "carol!c@h", T0 + 3),
    ]


async def test_conversations_window_is_exclusive_and_limit_keeps_the_oldest(
    store: SqliteStore,
) -> None:
    await store.append([message(n, f"#c{n}") for n in range(1, 6)])
    keys = [f"#c{n}" for n in range(1, 6)]

    window = await store.conversations(keys, "zed", T0 + 1, T0 + 5, 10)
    assert [c.conversation for c in window] == ["#c2", "#c3", "#c4"]
    limited = await store.conversations(keys, "zed", 0.0, math.inf, 2)
    assert [c.conversation for c in limited] == ["#c1", "#c2"]
    assert await store.conversations([], "zed", 0.0, math.inf, 10) == []


async def test_private_conversations_are_listed_for_their_owner(
    store: SqliteStore,
) -> None:
    await store.append(
        [
            message(1, "alice bob", target="bob"),
            message(2, "bob carol", target="bob"),
            message(3, "alice carol", target="carol"),
        ]
    )

    def names(found: list[Conversation]) -> list[str]:
        return [c.conversation for c in found]

    # A private conversation "<owner> <other>" is listed for its owner only.
    assert names(await store.conversations([], "bob", 0.0, math.inf, 10)) == ["bob carol"]
    assert names(await store.conversations([], "alice", 0.0, math.inf, 10)) == [
        "alice bob",
        "alice carol",
    ]
    # Part of a nick is not a participant.
    for partial in ("al", "ob", "lice", "b", "alice bob", " ", ""):
        assert await store.conversations([], partial, 0.0, math.inf, 10) == [], partial


@pytest.mark.parametrize(
    ("participant", "expected"),
    [
        ("a_b", ["a_b zed"]),
        ("a%b", ["a%b zed"]),
        ("a%", []),
        ("%", []),
        ("_", []),
        ("a_", []),
        ("axb", ["axb zed"]),
        ("zed", []),
        ("a'b", ["a'b zed"]),
    ],
)
async def test_participants_with_wildcard_characters_match_literally(
    store: SqliteStore, participant: str, expected: list[str]
) -> None:
    # LIKE would read "_" and "%" as wildcards: "a_b" must not match "axb" or "aab".
    conversations = ["a_b zed", "a%b zed", "axb zed", "aab zed", "a'b zed"]
    await store.append([message(n, key) for n, key in enumerate(conversations, 1)])

    found = await store.conversations([], participant, 0.0, math.inf, 10)

    assert [c.conversation for c in found] == expected


# -- retention -------------------------------------------------------------------------


async def test_prune_forgets_messages_older_than_a_time(store: SqliteStore) -> None:
    await store.append([message(n) for n in range(10)] + [message(n, "#b") for n in range(3)])

    removed = await store.prune(T0 + 4, 1000)

    assert removed == 4 + 3
    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(4, 10)]
    assert await store.before("#b", math.inf, 100) == []


async def test_prune_keeps_the_newest_per_conversation(store: SqliteStore) -> None:
    await store.append(
        [message(n) for n in range(10)]
        + [message(n, "#small") for n in range(2)]
        + [message(n, "alice bob") for n in range(5)]
    )

    removed = await store.prune(0.0, 3)

    assert removed == 7 + 0 + 2
    assert texts(await store.before(CHAN, math.inf, 100)) == [
        "message 7",
        "message 8",
        "message 9",
    ]
    assert texts(await store.before("#small", math.inf, 100)) == ["message 0", "message 1"]
    assert texts(await store.before("alice bob", math.inf, 100)) == [
        "message 2",
        "message 3",
        "message 4",
    ]


async def test_prune_by_age_and_count_together_and_again(store: SqliteStore) -> None:
    await store.append([message(n) for n in range(10)])

    assert await store.prune(T0 + 2, 5) == 2 + 3
    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(5, 10)]
    assert await store.prune(T0 + 2, 5) == 0


# -- redaction -------------------------------------------------------------------------


async def test_delete_forgets_messages_by_msgid_in_any_conversation(
    store: SqliteStore, db_path: Path
) -> None:
    await store.append([message(n) for n in range(4)] + [message(1, "#b")])

    await store.delete([message(1).msgid, message(1, "#b").msgid, "no-such-id", "'; --"])

    assert texts(await store.before(CHAN, math.inf, 10)) == ["message 0", "message 2", "message 3"]
    assert await store.find(CHAN, message(1).msgid) is None
    assert await store.before("#b", math.inf, 10) == []
    await store.delete([])
    assert count_rows(db_path) == 3
