"""Accounts over a real SQLite store: the look-alike index is brought up to date at each
registration, not made again from every account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.accounts.errors import AccountError
from hubbub.accounts.ports import Account
from hubbub.accounts.service import Accounts
from hubbub.storage.sqlite import SqliteStore
from hubbub.wire.casemap import Casemap, Casemapping, Key

PASSWORD = "correct horse battery"


class CountingCasemap(Casemap):
    """The server's casemapping, counting the skeletons it makes."""

    __slots__ = ("skeletons",)

    def __init__(self) -> None:
        super().__init__(Casemapping.PRECIS)
        self.skeletons = 0

    def skeleton(self, name: str) -> Key:
        self.skeletons += 1
        return super().skeleton(name)


def made_elsewhere(key: str) -> Account:
    """An account as ``hubbub account create`` makes it, beside the running server."""
    return Account(key, key, "$argon2id$not-a-hash", "", 0.0)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "hubbub.db")
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_registration_makes_the_skeletons_of_new_names_only(store: SqliteStore) -> None:
    for i in range(300):
        assert await store.create_account(made_elsewhere(f"user{i}"))
    casemap = CountingCasemap()
    accounts = Accounts(store, casemap)
    await accounts.load()
    assert casemap.skeletons >= 300
    casemap.skeletons = 0

    await accounts.register("newcomer", PASSWORD)
    await accounts.register("another", PASSWORD)

    # Each name is checked and remembered: a few skeletons each, not one per account.
    assert casemap.skeletons < 20
    assert len(accounts.names) == 302


async def test_accounts_made_and_dropped_elsewhere_are_seen_at_the_next_registration(
    store: SqliteStore,
) -> None:
    accounts = Accounts(store, Casemap(Casemapping.PRECIS))
    await accounts.load()
    await accounts.register("alice", PASSWORD)
    assert await store.create_account(made_elsewhere("coco"))

    with pytest.raises(AccountError, match="looks the same"):
        await accounts.register("c0c0", PASSWORD)
    assert accounts.is_registered("c0c0")

    await store.delete_account("alice")
    await store.delete_account("coco")
    await accounts.register("c0c0", PASSWORD)
    await accounts.register("alice", PASSWORD)  # its name was free again
    assert sorted(accounts.names) == ["alice", "c0c0"]
