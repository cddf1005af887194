"""Accounts over a real SQLite store: the look-alike index is brought up to date at each
registration, not made again from every account."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.account_admin import shown
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


async def test_a_name_is_not_free_while_its_drop_waits_for_a_server(store: SqliteStore) -> None:
    """Probe 31: the shell deleted the account while its order still waited (a busy
    store), and a newcomer registering the name was let in by its channel entries."""
    accounts = Accounts(store, Casemap(Casemapping.PRECIS))
    await accounts.load()
    bob = await accounts.register("Bob", PASSWORD)
    await store.order_channel("", json.dumps({"account_dropped": bob.uid, "name": "Bob"}))
    await store.delete_account("bob")
    for newcomer in ("BOB", "b0b", "\u0184ob"):  # its name in other case, look-alikes
        with pytest.raises(AccountError, match="being dropped") as refused:
            await accounts.register(newcomer, PASSWORD)
        assert refused.value.code == "ACCOUNT_EXISTS"
    await accounts.register("carol", PASSWORD)  # other names are free as ever
    await store.take_channel_orders()  # a running server took the order
    await accounts.register("bob", PASSWORD)


@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign.example.org",
        "x@nodot",
        "evil\x1b]0;owned\x07@example.org",
        "tab\tforged@example.org",
        "right\u202e@example.org",
        "two words@example.org",
        "a@" + "b" * 200 + ".org",
    ],
)
async def test_an_email_that_is_not_one_is_refused(store: SqliteStore, email: str) -> None:
    accounts = Accounts(store, Casemap(Casemapping.PRECIS))
    with pytest.raises(AccountError) as refused:
        await accounts.register("mailer", "long enough password", email)
    assert refused.value.code == "INVALID_EMAIL"
    assert await accounts.find("mailer") is None
    made = await accounts.register("mailer", "long enough password", "mailer@example.org")
    assert made.email == "mailer@example.org"


def test_what_an_operator_s_terminal_is_shown_is_printable() -> None:
    assert shown("plain@example.org") == "plain@example.org"
    assert shown("a\x1b]0;x\x07b\u202ec\td") == "a\\u001b]0;x\\u0007b\\u202ec\\u0009d"


async def test_a_capital_drawn_unlike_its_small_letter_is_still_the_account_s(
    store: SqliteStore,
) -> None:
    # Probe 21: Ə folds to ə, but its skeleton was made from the capital's own look.
    accounts = Accounts(store, Casemap(Casemapping.PRECIS))
    await accounts.register("əli", "long enough password")
    assert accounts.is_registered("Əli")
    assert accounts.owner("Əli") == accounts.fold("əli")
    await accounts.register("ɓello", "long enough password")
    with pytest.raises(AccountError) as refused:
        await accounts.register("Ɓello", "long enough password")
    assert refused.value.code == "ACCOUNT_EXISTS"
