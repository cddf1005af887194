"""The state's own parts: ids, neighbours and the masks bans are matched against."""

from __future__ import annotations

from hubbub.core.state import Ids
from tests.core.world import World


def test_ids_are_unique_and_carry_a_prefix_of_their_process() -> None:
    one, two = Ids(), Ids()
    assert one.prefix != two.prefix
    assert {one.new(), one.new(), two.new()} == {
        f"{one.prefix}.1",
        f"{one.prefix}.2",
        f"{two.prefix}.1",
    }
    assert one.msgid() == f"{one.prefix}1"
    assert one.msgid() != one.msgid()


def test_neighbours_are_everyone_sharing_a_channel_once_and_not_oneself(world: World) -> None:
    alice, _ = world.add("alice", "#a", "#b")
    bob, _ = world.add("bob", "#a", "#b")
    carol, _ = world.add("carol", "#b")
    world.add("dave")
    assert world.state.neighbours(alice) == {bob, carol}
    assert world.state.neighbours(carol) == {alice, bob}


def test_a_user_is_matched_against_bans_by_its_folded_mask(world: World) -> None:
    alice, _ = world.add("Alice")
    assert world.state.masks_of(alice) == ("alice!alice@host",)
