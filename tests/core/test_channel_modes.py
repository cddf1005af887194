"""Deciding a MODE line's channel mode changes in order against a draft: each change
sees the ones before it, single refusals leave the rest, and the channel is untouched."""

from __future__ import annotations

import pytest

from hubbub.core.channel_modes import decide_channel_modes
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import ChannelModeChanged
from hubbub.core.hub import Hub
from hubbub.core.modes import ModeChange
from hubbub.core.state import ChatLimits
from tests.core.world import World, add


def decide(
    world: World, *changes: ModeChange, name: str = "#a"
) -> tuple[list[ModeChange], list[ChatError]]:
    """Decide changes to a channel, checking that deciding changed nothing."""
    before = world.snapshot()
    decided = decide_channel_modes(world.state, world.channel(name), list(changes))
    assert world.snapshot() == before
    return decided


@pytest.fixture
def world() -> World:
    world = World(ChatLimits(list_length=2))
    world.add("alice", "#a")
    world.add("bob", "#a")
    world.add("outsider")
    return world


def op(world: World, *changes: ModeChange) -> None:
    alice = world.hub.find_user("alice")
    assert alice is not None
    world.modes(alice, "#a", *changes)


# -- flags -------------------------------------------------------------------------------


def test_a_flag_is_decided_once_and_only_when_it_changes_something(world: World) -> None:
    applied, errors = decide(
        world,
        ModeChange(True, "n"),
        ModeChange(True, "m"),
        ModeChange(True, "m"),
        ModeChange(False, "i"),
        ModeChange(False, "t"),
    )
    assert applied == [ModeChange(True, "m"), ModeChange(False, "t")]
    assert errors == []


def test_a_flag_set_and_unset_in_one_line_is_decided_both_ways(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "i"), ModeChange(False, "i"))
    assert applied == [ModeChange(True, "i"), ModeChange(False, "i")]
    assert world.channel("#a").flags == {"n", "t"}


# -- key ---------------------------------------------------------------------------------


def test_a_key_set_then_unset_in_one_line_is_decided_both_ways(world: World) -> None:
    applied, errors = decide(world, ModeChange(True, "k", "a"), ModeChange(False, "k", "a"))
    assert applied == [ModeChange(True, "k", "a"), ModeChange(False, "k", "*")]
    assert errors == []
    assert world.channel("#a").password is None


def test_unsetting_a_key_that_is_not_set_decides_nothing(world: World) -> None:
    assert decide(world, ModeChange(False, "k", "x")) == ([], [])


def test_unsetting_a_key_needs_no_right_key(world: World) -> None:
    op(world, ModeChange(True, "k", "secret"))
    applied, _ = decide(world, ModeChange(False, "k", "wrong"))
    assert applied == [ModeChange(False, "k", "*")]


def test_a_new_key_replaces_the_old_one(world: World) -> None:
    op(world, ModeChange(True, "k", "old"))
    applied, _ = decide(world, ModeChange(True, "k", "new"))
    assert applied == [ModeChange(True, "k", "new")]
    assert world.channel("#a").password == "old"


@pytest.mark.parametrize(
    "key",
    [None, "", "a b", "a,b", "a:b", "x" * 33, "a\x1b[2Jb", "a\u202eb", "a\x00"],
    ids=["none", "empty", "space", "comma", "colon", "long", "escape", "bidi", "nul"],
)
def test_a_bad_key_is_refused_with_invalid_mode_param_and_the_rest_goes_on(
    world: World, key: str | None
) -> None:
    applied, errors = decide(world, ModeChange(True, "k", key), ModeChange(True, "m"))
    assert applied == [ModeChange(True, "m")]
    assert [(e.reason, e.subject, e.detail) for e in errors] == [
        (Reason.INVALID_MODE_PARAM, "#a", "k")
    ]


def test_a_key_of_the_longest_length_is_taken(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "k", "x" * 32))
    assert applied == [ModeChange(True, "k", "x" * 32)]


# -- limit -------------------------------------------------------------------------------


def test_a_limit_is_decided_in_normal_form(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "l", "007"))
    assert applied == [ModeChange(True, "l", "7")]


@pytest.mark.parametrize("param", [None, "", "abc", "0", "-1", "1.5", "1000000000"])
def test_a_bad_limit_is_refused_with_invalid_mode_param(world: World, param: str | None) -> None:
    applied, errors = decide(world, ModeChange(True, "l", param))
    assert applied == []
    assert [(e.reason, e.detail) for e in errors] == [(Reason.INVALID_MODE_PARAM, "l")]


def test_unsetting_a_limit_is_decided_only_when_there_is_one(world: World) -> None:
    assert decide(world, ModeChange(False, "l")) == ([], [])
    op(world, ModeChange(True, "l", "5"))
    assert decide(world, ModeChange(False, "l")) == ([ModeChange(False, "l")], [])


# -- lists -------------------------------------------------------------------------------


def test_the_same_ban_twice_in_one_line_is_decided_once_in_normal_form(world: World) -> None:
    applied, errors = decide(world, ModeChange(True, "b", "x"), ModeChange(True, "b", "X"))
    assert applied == [ModeChange(True, "b", "x!*@*")]
    assert errors == []
    assert world.channel("#a").lists["b"] == []


@pytest.mark.parametrize(
    ("mask", "normal"),
    [("bob", "bob!*@*"), ("bob@host", "*!bob@host"), ("bob!u", "bob!u@*"), ("m:bob", "m:bob!*@*")],
)
def test_list_masks_are_completed_to_nick_user_host(world: World, mask: str, normal: str) -> None:
    applied, _ = decide(world, ModeChange(True, "b", mask))
    assert applied == [ModeChange(True, "b", normal)]


def test_an_entry_already_listed_decides_nothing(world: World) -> None:
    op(world, ModeChange(True, "e", "x!*@*"))
    assert decide(world, ModeChange(True, "e", "X!*@*")) == ([], [])


def test_removing_an_entry_names_it_as_it_was_listed(world: World) -> None:
    op(world, ModeChange(True, "I", "Bob!*@*"))
    applied, _ = decide(world, ModeChange(False, "I", "BOB"))
    assert applied == [ModeChange(False, "I", "Bob!*@*")]


def test_removing_an_entry_that_is_not_listed_decides_nothing(world: World) -> None:
    assert decide(world, ModeChange(False, "b", "nobody")) == ([], [])


def test_an_entry_added_and_removed_in_one_line_is_decided_both_ways(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "b", "x"), ModeChange(False, "b", "x"))
    assert applied == [ModeChange(True, "b", "x!*@*"), ModeChange(False, "b", "x!*@*")]


def test_an_entry_past_full_lists_is_refused_with_list_full(world: World) -> None:
    # MAXLIST=beI:2 bounds the three lists together: probe 11 filled each to the bound,
    # three times what was advertised.
    op(world, ModeChange(True, "b", "one"))
    applied, errors = decide(
        world,
        ModeChange(True, "e", "two"),
        ModeChange(True, "b", "three"),
        ModeChange(True, "I", "four"),
    )
    assert applied == [ModeChange(True, "e", "two!*@*")]
    assert [(e.reason, e.subject, e.detail) for e in errors] == [
        (Reason.LIST_FULL, "#a", "b"),
        (Reason.LIST_FULL, "#a", "I"),
    ]


def test_a_full_list_takes_an_entry_once_one_leaves_in_the_same_line(world: World) -> None:
    op(world, ModeChange(True, "b", "one"), ModeChange(True, "b", "two"))
    applied, errors = decide(world, ModeChange(False, "b", "one"), ModeChange(True, "b", "three"))
    assert applied == [ModeChange(False, "b", "one!*@*"), ModeChange(True, "b", "three!*@*")]
    assert errors == []


@pytest.mark.parametrize("mask", ["a b", "x" * 301, "x:bob", "bob\u2028x", "bob\u2029x"])
def test_a_bad_list_mask_is_refused_with_invalid_mode_param(world: World, mask: str) -> None:
    applied, errors = decide(world, ModeChange(True, "b", mask))
    assert applied == []
    assert [(e.reason, e.detail) for e in errors] == [(Reason.INVALID_MODE_PARAM, "b")]


def test_an_entry_kept_from_before_extbans_were_read_is_removed_as_shown(world: World) -> None:
    # "$a:x" was completed to a nick mask before other servers' extban spellings were
    # read as this server's; such an entry is still removed by what the list shows.
    alice = world.hub.find_user("alice")
    assert alice is not None
    world.hub.applier.apply(
        ChannelModeChanged(alice.actor, "#a", (ModeChange(True, "b", "$a:x!*@*"),))
    )
    applied, errors = decide(world, ModeChange(False, "b", "$a:x!*@*"))
    assert applied == [ModeChange(False, "b", "$a:x!*@*")]
    assert errors == []


# -- statuses ----------------------------------------------------------------------------


def test_a_status_is_decided_for_a_member_by_its_nick(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "v", "BOB"), ModeChange(True, "o", "bob"))
    assert applied == [ModeChange(True, "v", "bob"), ModeChange(True, "o", "bob")]
    bob = world.hub.find_user("bob")
    assert bob is not None
    assert world.channel("#a").members[bob] == ""


def test_a_status_given_twice_or_taken_when_absent_decides_nothing_the_second_time(
    world: World,
) -> None:
    applied, _ = decide(
        world,
        ModeChange(True, "v", "bob"),
        ModeChange(True, "v", "bob"),
        ModeChange(False, "o", "bob"),
    )
    assert applied == [ModeChange(True, "v", "bob")]


def test_a_status_given_and_taken_in_one_line_is_decided_both_ways(world: World) -> None:
    applied, _ = decide(world, ModeChange(True, "o", "bob"), ModeChange(False, "o", "bob"))
    assert applied == [ModeChange(True, "o", "bob"), ModeChange(False, "o", "bob")]


def test_a_status_for_a_non_member_is_refused_with_user_not_in_channel(world: World) -> None:
    applied, errors = decide(world, ModeChange(True, "o", "Outsider"), ModeChange(True, "m"))
    assert applied == [ModeChange(True, "m")]
    assert [(e.reason, e.subject, e.detail) for e in errors] == [
        (Reason.USER_NOT_IN_CHANNEL, "outsider", "#a")
    ]


@pytest.mark.parametrize("param", [None, "ghost"])
def test_a_status_for_nobody_is_refused_with_no_such_nick(world: World, param: str | None) -> None:
    applied, errors = decide(world, ModeChange(True, "v", param))
    assert applied == []
    assert [(e.reason, e.subject) for e in errors] == [(Reason.NO_SUCH_NICK, param or "")]


# -- through the hub -----------------------------------------------------------------------


def test_mode_changes_are_announced_once_with_only_what_changed(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a")
    channel = hub.find_channel("#a")
    assert channel is not None
    applied, errors = hub.change_channel_modes(
        alice,
        channel,
        [ModeChange(True, "n"), ModeChange(True, "m"), ModeChange(True, "o", "ghost")],
    )
    assert applied == [ModeChange(True, "m")]
    assert [e.reason for e in errors] == [Reason.NO_SUCH_NICK]
    (event,) = a.take()
    assert isinstance(event, ChannelModeChanged)
    assert event.changes == (ModeChange(True, "m"),)


def test_a_mask_that_grows_past_the_bound_when_folded_is_refused() -> None:
    # Probe 21: U+FDFA folds (NFKC) to eighteen letters; the folded mask is what is kept
    # and sent between nodes, so it is the one bounded.
    world = World()
    op, _ = world.add("op", "#c")
    mask = "*!*@" + "\ufdfa" * 50
    assert len(mask.encode()) <= 200
    _, errors = world.hub.change_channel_modes(
        op, world.channel("#c"), [ModeChange(True, "b", mask)]
    )
    assert [e.reason for e in errors] == [Reason.INVALID_MODE_PARAM]
    assert world.channel("#c").lists["b"] == []
