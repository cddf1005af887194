"""Always-on users, accounts' choices and devices' read positions, on each backend:
kept by account id, bounded, written behind by the keeper, and gone with the account."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.accounts.ports import Account
from hubbub.core.presence import AccountChoices, KeptChannel, PresenceRecord
from hubbub.core.presences import DEVICES_KEPT
from hubbub.storage.ports import Store
from hubbub.storage.presences import PresenceKeeper, decode_record, encode_record

RECORD = PresenceRecord(
    "alice",
    "alys",
    "~alice",
    "127.0.0.1",
    "Alice Liddell",
    "iB",
    None,
    True,
    (
        KeptChannel("#rust", None, "o", "nt", 12, (("b", "*!*@bad.example"), ("I", "$a:ann"))),
        KeptChannel("#keyed", "s3cret", "", "knt"),
        KeptChannel("#ünïcode", None, "v", ""),
    ),
    1_700_000_000.5,
)


async def _settled(keeper: PresenceKeeper) -> None:
    """Run the keeper until what was handed to it is written."""
    task = asyncio.create_task(keeper.run())
    keeper.close()
    async with asyncio.timeout(10):
        await task


async def test_an_always_on_user_is_kept_whole_and_forgotten_on_request(store: Store) -> None:
    keeper = PresenceKeeper(store)
    keeper.save("uid-1", RECORD)
    keeper.save("uid-2", RECORD)
    keeper.save("uid-2", None)
    await _settled(keeper)
    assert await PresenceKeeper(store).presences() == [("uid-1", RECORD, "")]


async def test_an_always_on_user_names_the_node_that_keeps_it(store: Store) -> None:
    keeper = PresenceKeeper(store)
    keeper.node = "irc1"
    keeper.save("uid-1", RECORD)
    await _settled(keeper)
    assert await store.always_on_records() == [("uid-1", encode_record(RECORD), "irc1")]
    # Another node that keeps it now says so; one that forgets it forgets it whoever
    # kept it (its user quit, for everyone).
    other = PresenceKeeper(store)
    other.node = "irc2"
    other.save("uid-1", RECORD)
    await _settled(other)
    assert [row[2] for row in await store.always_on_records()] == ["irc2"]
    keeper.save("uid-1", None)
    await _settled(keeper)
    assert await store.always_on_records() == []


async def test_choices_and_devices_are_read_back_with_what_is_not_written_yet(
    store: Store,
) -> None:
    keeper = PresenceKeeper(store)
    keeper.choose("uid-1", AccountChoices(multiclient=False, always_on=True))
    keeper.seen("uid-1", "phone", 10.0)
    keeper.seen("uid-1", "", 12.5)
    await _settled(keeper)
    later = PresenceKeeper(store)
    later.choose("uid-1", AccountChoices(multiclient=None, always_on=True))
    later.seen("uid-1", "phone", 20.0)
    # Not written yet, and read as if it were: a client reconnecting at once.
    choices, seen = await later.loaded("uid-1")
    assert choices == AccountChoices(multiclient=None, always_on=True)
    assert seen == {"phone": 20.0, "": 12.5}
    assert await later.loaded("uid-2") == (AccountChoices(), {})


async def test_an_account_keeps_only_its_latest_devices(store: Store) -> None:
    for number in range(DEVICES_KEPT + 5):
        await store.set_device_seen("uid-1", f"d{number}", float(number))
    seen = await store.devices_seen("uid-1")
    assert len(seen) == DEVICES_KEPT
    assert min(seen.values()) == 5.0


async def test_a_dropped_account_takes_its_presence_rows_with_it(store: Store) -> None:
    account = Account("alice", "alice", "$argon2id$hash", "", 1.0)
    await store.create_account(account)
    keeper = PresenceKeeper(store)
    keeper.save(account.uid, RECORD)
    keeper.choose(account.uid, AccountChoices(always_on=True))
    keeper.seen(account.uid, "phone", 3.0)
    await _settled(keeper)
    await store.delete_account("alice")
    assert await store.always_on_records() == []
    assert await store.account_settings(account.uid) == {}
    assert await store.devices_seen(account.uid) == {}


@pytest.mark.parametrize("text", ["", "{}", "[]", '{"account": "a"}', "not json"])
def test_a_damaged_record_is_refused_not_restored(text: str) -> None:
    with pytest.raises(ValueError, match="not an always-on record"):
        decode_record(text)


def test_a_record_written_by_an_earlier_version_reads() -> None:
    # Channels kept as name and key, then also status and flags, then limit and lists.
    text = encode_record(RECORD)
    old = text.replace(', 12, [["b", "*!*@bad.example"], ["I", "$a:ann"]]]', "]", 1)
    assert decode_record(old).channels[0] == KeptChannel("#rust", None, "o", "nt")
    older = old.replace('null, "o", "nt"]', "null]", 1)
    assert decode_record(older).channels[0] == KeptChannel("#rust", None, "", "")


def test_a_record_reads_back_as_written() -> None:
    assert decode_record(encode_record(RECORD)) == RECORD
