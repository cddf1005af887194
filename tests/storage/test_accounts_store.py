"""The account, certificate, read-marker and registered-channel parts of a store."""

from __future__ import annotations

import math

import pytest

from hubbub.accounts.ports import Account
from hubbub.storage.ports import Store
from tests.storage.databases import Database
from tests.storage.samples import message, texts

FP1 = "a" * 64
FP2 = "b" * 64


def account(key: str = "alice", scram: str = "") -> Account:
    return Account(key, key.capitalize(), "$argon2id$hash", f"{key}@example.org", 1.5, scram)


async def test_an_account_round_trips_with_every_field(store: Store) -> None:
    created = account(scram="SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5")
    assert await store.create_account(created)
    assert await store.get_account("alice") == created
    assert await store.get_account("bob") is None
    assert await store.account_names() == {"alice": "Alice"}


async def test_a_second_account_with_the_same_key_is_refused(store: Store) -> None:
    assert await store.create_account(account())
    assert not await store.create_account(account())
    assert await store.account_names() == {"alice": "Alice"}


async def test_set_password_replaces_the_hash_and_the_verifier(store: Store) -> None:
    alice = account()
    await store.create_account(alice)
    await store.set_password(alice.uid, "new hash", "new verifier")
    changed = await store.get_account("alice")
    assert changed is not None
    assert (changed.password, changed.scram) == ("new hash", "new verifier")


@pytest.mark.parametrize(
    "name",
    ["O'Brien", "x'); DROP TABLE accounts; --", "zoë", "a\0b", "\uffff0", "%_*?", "😀" * 50],
)
async def test_hostile_account_fields_round_trip(store: Store, name: str) -> None:
    created = Account(name, name, name, name, 0.0, name)
    assert await store.create_account(created)
    assert await store.get_account(name) == created


async def test_a_certificate_logs_in_to_its_account_only(store: Store) -> None:
    alice, bob = account("alice"), account("bob")
    await store.create_account(alice)
    await store.create_account(bob)
    assert await store.add_certificate(alice.uid, FP1)
    assert await store.add_certificate(alice.uid, FP2)
    assert not await store.add_certificate(bob.uid, FP1), "a certificate has one account"
    assert await store.certificates(alice.uid) == [FP1, FP2]
    assert await store.certificates(bob.uid) == []
    found = await store.account_by_certificate(FP1)
    assert found is not None
    assert found.key == "alice"
    assert await store.account_by_certificate("c" * 64) is None


async def test_removing_a_certificate(store: Store) -> None:
    alice = account()
    await store.create_account(alice)
    await store.add_certificate(alice.uid, FP1)
    assert not await store.remove_certificate(alice.uid, FP2)
    assert await store.remove_certificate(alice.uid, FP1)
    assert await store.account_by_certificate(FP1) is None
    assert not await store.remove_certificate(alice.uid, FP1)


async def test_read_markers_are_kept_per_account_and_target(store: Store) -> None:
    await store.set_marker("alice", "#chan", 10.0)
    await store.set_marker("alice", "#chan", 20.5)
    await store.set_marker("alice", "bob", 5.0)
    await store.set_marker("carol", "#chan", 1.0)
    assert sorted(await store.markers("alice")) == [("#chan", 20.5), ("bob", 5.0)]
    assert await store.markers("carol") == [("#chan", 1.0)]
    assert await store.markers("dave") == []


async def test_dropping_an_account_forgets_its_certificates_and_markers(
    store: Store,
) -> None:
    alice = account()
    await store.create_account(alice)
    await store.add_certificate(alice.uid, FP1)
    await store.set_marker(alice.uid, "#chan", 10.0)
    await store.delete_account("alice")
    assert await store.get_account("alice") is None
    assert await store.account_by_certificate(FP1) is None
    assert await store.markers(alice.uid) == []
    again = account()
    assert await store.create_account(again), "the name is free again"
    assert await store.certificates(again.uid) == []
    assert again.uid != alice.uid
    found = await store.get_account("alice")
    assert found is not None
    assert found.uid == again.uid


async def test_a_certificate_added_as_its_account_is_dropped_logs_in_to_nobody(
    store: Store,
) -> None:
    # Probe 11: NS CERT ADD in flight while the account was dropped left the certificate,
    # kept under the name, to log in to whoever registered the name next.
    alice = account()
    await store.create_account(alice)
    await store.delete_account("alice")
    assert not await store.add_certificate(alice.uid, FP1)
    again = account()
    await store.create_account(again)
    assert await store.account_by_certificate(FP1) is None
    assert await store.certificates(again.uid) == []
    assert await store.add_certificate(again.uid, FP1), "the certificate is free"


async def test_certificates_kept_by_name_move_to_their_accounts_id(database: Database) -> None:
    store = await database.open()
    alice = account()
    try:
        await store.create_account(alice)
    finally:
        await store.close()
    await database.certificates_by_name([(FP1, "alice"), (FP2, "dropped")])
    store = await database.open()
    try:
        found = await store.account_by_certificate(FP1)
        assert found is not None
        assert found.uid == alice.uid
        assert await store.certificates(alice.uid) == [FP1]
        assert await store.account_by_certificate(FP2) is None
        assert await store.add_certificate(alice.uid, FP2), "the dropped one's is gone"
    finally:
        await store.close()


async def test_a_password_change_reaches_only_the_account_it_was_for(store: Store) -> None:
    alice = account()
    await store.create_account(alice)
    await store.delete_account("alice")
    again = account()
    await store.create_account(again)
    await store.set_password(alice.uid, "the old owner's hash", "the old owner's verifier")
    await store.set_scram(alice.uid, "the old owner's verifier")
    found = await store.get_account("alice")
    assert found is not None
    assert (found.password, found.scram) == (again.password, again.scram)


async def test_registered_channels_are_saved_replaced_and_deleted(store: Store) -> None:
    await store.save_channel("#a", '{"topic": "one"}')
    await store.save_channel("#b", '{"topic": "two"}')
    await store.save_channel("#a", '{"topic": "three"}')
    assert sorted(await store.load_channels()) == [
        ("#a", '{"topic": "three"}'),
        ("#b", '{"topic": "two"}'),
    ]
    await store.delete_channel("#a")
    await store.delete_channel("#nothing")
    assert await store.load_channels() == [("#b", '{"topic": "two"}')]


async def test_set_scram_fills_only_an_empty_verifier(store: Store) -> None:
    alice, bob = account("alice"), account("bob", scram="bob's verifier")
    await store.create_account(alice)
    await store.create_account(bob)
    await store.set_scram(alice.uid, "alice's verifier")
    await store.set_scram(bob.uid, "an older verifier")
    found = [await store.get_account(name) for name in ("alice", "bob")]
    assert [a.scram if a else None for a in found] == ["alice's verifier", "bob's verifier"]


async def test_forget_marker_removes_one_marker(store: Store) -> None:
    await store.set_marker("alice", "#a", 1.0)
    await store.set_marker("alice", "#b", 2.0)
    await store.forget_marker("alice", "#a")
    await store.forget_marker("alice", "#nothing")
    assert await store.markers("alice") == [("#b", 2.0)]


async def test_dropping_an_account_deletes_its_private_history_and_founded_channels(
    store: Store,
) -> None:
    alice, bob = account("alice"), account("bob")
    await store.create_account(alice)
    await store.create_account(bob)
    mine, theirs = f"a:{alice.uid} bob", f"a:{bob.uid} alice"
    await store.append([message(1, mine), message(1, theirs), message(1, "#open")])
    founded = f'{{"name": "#a", "founder": "{alice.uid}", "created": 1.0}}'
    other = f'{{"name": "#b", "founder": "{bob.uid}", "created": 1.0}}'
    await store.save_channel("#a", founded)
    await store.save_channel("#b", other)

    await store.delete_account("alice")

    assert await store.before(mine, math.inf, 10) == []
    # Bob's side of the conversation, and the channel, are not alice's to take away.
    assert texts(await store.before(theirs, math.inf, 10)) == ["message 1"]
    assert texts(await store.before("#open", math.inf, 10)) == ["message 1"]
    assert await store.load_channels() == [("#b", other)]


async def test_a_name_registered_again_gets_a_new_id(store: Store) -> None:
    first = account("carol")
    await store.create_account(first)
    await store.delete_account("carol")
    second = account("carol")
    await store.create_account(second)
    found = await store.get_account("carol")
    assert found is not None
    assert found.uid == second.uid != first.uid
    assert found.uid.startswith("~")
