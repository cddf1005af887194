"""The PostgreSQL store against a real server: refusals of unreachable, unauthorised or
unsuitable databases, driver errors as StorageError, the NUL escape, and the choice of
backend. What both backends share (migrations once under a lock, newer or damaged
databases, lost tables) is in ``test_opening_store``."""

from __future__ import annotations

import asyncio
import math
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from hubbub.accounts.errors import AccountError
from hubbub.accounts.service import Accounts
from hubbub.storage.backends import SQLITE_FILE, open_store
from hubbub.storage.errors import StorageError
from hubbub.storage.postgres import PostgresStore
from hubbub.storage.postgres_text import describe
from hubbub.storage.sqlite import SqliteStore
from hubbub.wire.casemap import Casemap, Casemapping
from tests.postgres import PostgresServer
from tests.storage.databases import query
from tests.storage.samples import CHAN, message, texts

SECRET = "pa55-w0rd-that-must-not-show"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    opened = await PostgresStore.open(postgres_url)
    try:
        yield opened
    finally:
        await opened.close()


# -- refusals at start -----------------------------------------------------------------


async def test_a_refused_connection_raises_storage_error_naming_the_host_not_the_password(
    closed_port: int,
) -> None:
    url = f"postgresql://hubbub:{SECRET}@127.0.0.1:{closed_port}/hubbub"

    with pytest.raises(StorageError) as refused:
        await PostgresStore.open(url)

    text = str(refused.value)
    assert refused.type is StorageError
    assert f"127.0.0.1:{closed_port}" in text
    assert "cannot connect" in text
    assert SECRET not in text
    assert refused.value.__suppress_context__


async def test_a_wrong_password_raises_storage_error_without_the_password(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    name = postgres_url.partition("@/")[2].partition("?")[0]
    url = postgres_server.url(name, password=SECRET)

    with pytest.raises(StorageError) as refused:
        await PostgresStore.open(url)

    text = str(refused.value)
    assert "password authentication failed" in text
    assert str(postgres_server.folder) in text
    assert SECRET not in text


async def test_a_missing_database_raises_storage_error_naming_it(
    postgres_server: PostgresServer,
) -> None:
    with pytest.raises(StorageError) as refused:
        await PostgresStore.open(postgres_server.url("no_such_database"))

    assert "no_such_database" in str(refused.value)
    assert postgres_server.password not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@127.0.0.1:notaport/db",
        f"mysql://u:{SECRET}@127.0.0.1/db",
    ],
)
async def test_a_malformed_url_raises_storage_error_without_the_password(url: str) -> None:
    with pytest.raises(StorageError) as refused:
        await PostgresStore.open(url)
    assert SECRET not in str(refused.value)


async def test_a_database_not_in_utf8_is_refused(postgres_server: PostgresServer) -> None:
    admin = await asyncpg.connect(postgres_server.url())
    try:
        await admin.execute(
            'CREATE DATABASE "latin1_db" ENCODING LATIN1 LC_COLLATE "C" LC_CTYPE "C" '
            "TEMPLATE template0"
        )
    finally:
        await admin.close()
    try:
        with pytest.raises(StorageError) as refused:
            await PostgresStore.open(postgres_server.url("latin1_db"))
        assert "UTF8" in str(refused.value)
        assert "LATIN1" in str(refused.value)
    finally:
        await postgres_server.drop_database("latin1_db")


def test_describe_keeps_user_host_and_database_but_never_the_password() -> None:
    assert describe(f"postgresql://hub:{SECRET}@db.example.org:5433/chat") == (
        "postgresql://hub@db.example.org:5433/chat"
    )
    assert describe("postgres://db.example.org/chat") == "postgresql://db.example.org/chat"
    assert describe(f"postgresql://hub:{SECRET}@/chat?host=/run/pg") == (
        "postgresql://hub@/run/pg/chat"
    )
    assert describe("postgresql://a:1,[::1]:2/chat") == "postgresql://a:1,[::1]:2/chat"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://hub:pa/ss-word@db/chat",
        "postgresql://hub:pa?ss-word@db/chat",
        "postgresql://hub:pa#ss-word@db/chat",
        "postgresql://hub:pa:ss-word@db/chat",
        "postgresql://hub:pa@ss-word@db/chat",
    ],
)
def test_describe_shows_no_piece_of_a_password_with_unescaped_characters(url: str) -> None:
    assert "ss-word" not in describe(url)


# -- errors while running --------------------------------------------------------------


async def test_a_server_that_ends_the_connections_gives_storage_error_then_recovers(
    store: PostgresStore, postgres_url: str
) -> None:
    await store.append([message(1)])
    await query(
        postgres_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'hubbub' AND pid <> pg_backend_pid()",
    )

    # The pooled connection was cut: the first use fails as a StorageError, never as a
    # driver exception; the pool then reconnects.
    try:
        await store.append([message(2)])
    except StorageError:
        await store.append([message(2)])
    assert texts(await store.after(CHAN, -math.inf, 10)) == ["message 1", "message 2"]


# -- the NUL escape --------------------------------------------------------------------


async def test_nul_is_stored_escaped_and_the_escape_character_doubled(
    store: PostgresStore, postgres_url: str
) -> None:
    await store.append([message(1, text="a\0b\uffffc")])

    (row,) = await query(postgres_url, "SELECT text FROM messages")
    assert row["text"] == "a\uffff0b\uffff\uffffc"
    (got,) = await store.before(CHAN, math.inf, 1)
    assert got.text == "a\0b\uffffc"


async def test_an_owner_with_nul_lists_only_its_own_private_conversations(
    store: PostgresStore,
) -> None:
    keys = ["a\0b zed", "a\uffff0b zed", "a\0 zed", "a\0bc zed"]
    await store.append([message(n, key) for n, key in enumerate(keys, 1)])

    for owner, expected in [
        ("a\0b", ["a\0b zed"]),
        ("a\uffff0b", ["a\uffff0b zed"]),
        ("a\0", ["a\0 zed"]),
        ("a\uffff", []),
        ("a", []),
    ]:
        found = await store.conversations([], owner, 0.0, math.inf, 10)
        assert [c.conversation for c in found] == expected, owner


# -- choosing the backend --------------------------------------------------------------


async def test_open_store_picks_postgresql_for_a_url_and_sqlite_without(
    tmp_path: Path, postgres_url: str
) -> None:
    chosen = await open_store(tmp_path, postgres_url)
    try:
        assert isinstance(chosen, PostgresStore)
        assert not (tmp_path / SQLITE_FILE).exists()
    finally:
        await chosen.close()
    default = await open_store(tmp_path)
    try:
        assert isinstance(default, SqliteStore)
        assert (tmp_path / SQLITE_FILE).exists()
    finally:
        await default.close()


async def test_a_url_without_the_driver_installed_is_a_clear_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if asyncpg were not installed: its import fails.
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.delitem(sys.modules, "hubbub.storage.postgres")

    with pytest.raises(StorageError) as refused:
        await open_store(tmp_path, f"postgresql://u:{SECRET}@127.0.0.1/db")

    assert "hubbub[postgres]" in str(refused.value)
    assert SECRET not in str(refused.value)


async def test_look_alike_accounts_made_on_two_servers_at_once_are_never_both_kept(
    postgres_url: str,
) -> None:
    # Probe 21: each server checked against the names it had read, then both inserted.
    stores = [await PostgresStore.open(postgres_url) for _ in range(2)]
    try:
        services = [Accounts(store, Casemap(Casemapping.PRECIS)) for store in stores]
        for n in range(10):
            results = await asyncio.gather(
                services[0].register(f"coco{n}zz", "long enough password"),
                services[1].register(f"c0c0{n}zz", "long enough password"),
                return_exceptions=True,
            )
            made = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, AccountError)]
            assert len(made) == 1, results
            assert [r.code for r in refused] == ["ACCOUNT_EXISTS"]
    finally:
        for store in stores:
            await store.close()
