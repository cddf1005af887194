"""Accounts' metadata keys as each store keeps them (probe 23): a value replaced in
place, and no more than ``KEPT_AT_MOST`` keys stored or read for one account."""

from __future__ import annotations

from hubbub.storage.metadata import KEPT_AT_MOST
from hubbub.storage.ports import Store


async def test_an_account_keeps_and_reads_a_bounded_number_of_keys(store: Store) -> None:
    for number in range(KEPT_AT_MOST + 5):
        await store.set_metadata("acct", f"k{number:04}", "v")
    kept = await store.metadata("acct")
    assert len(kept) == KEPT_AT_MOST
    # A key already kept still takes a new value; another account is apart.
    await store.set_metadata("acct", "k0000", "new")
    assert ("k0000", "new") in await store.metadata("acct")
    await store.set_metadata("other", "k0000", "v")
    assert await store.metadata("other") == [("k0000", "v")]
