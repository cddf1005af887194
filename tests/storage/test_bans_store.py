"""Server bans as each store keeps them (issue 17, probe 22): saved, replaced in place,
deleted, and a digest of the list that changes with every change."""

from __future__ import annotations

from hubbub.storage.ports import Store


async def test_the_digest_of_the_bans_follows_every_change(store: Store) -> None:
    empty = await store.bans_version()
    await store.save_ban("K", "*@203.0.113.7", 100.0, '{"reason": "one"}')
    one = await store.bans_version()
    assert one != empty
    # The same ban set again with another reason, at the same time: a change still.
    await store.save_ban("K", "*@203.0.113.7", 100.0, '{"reason": "two"}')
    changed = await store.bans_version()
    assert changed not in (empty, one)
    # Set and lifted between two looks: the list is as before, and so is the digest,
    # which is why a server notes its own changes apart (upkeep.BanKeeper).
    await store.save_ban("D", "198.51.100.0/24", 50.0, '{"reason": "net"}')
    assert await store.delete_ban("D", "198.51.100.0/24")
    assert await store.bans_version() == changed
    assert await store.delete_ban("K", "*@203.0.113.7")
    assert not await store.delete_ban("K", "*@203.0.113.7")
    assert await store.bans_version() == empty
    assert await store.load_bans() == []
