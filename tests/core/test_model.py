"""Users and channels as the state holds them: how events name a user, when a channel
is closed, where its history is kept, who may see it, and ban matching."""

from __future__ import annotations

import pytest

from hubbub.core.model import Channel, ListEntry, User
from hubbub.core.presence import ELSEWHERE
from hubbub.wire.casemap import Key


def person(nick: str, modes: str = "") -> User:
    user = User(f"u-{nick}", nick, Key(nick), Key(nick), "user", "host", "Real", ELSEWHERE, 1.0)
    user.modes = frozenset(modes)
    return user


def channel_with(*members: tuple[User, str]) -> Channel:
    channel = Channel("#a", Key("#a"), 1.0, "#a 1")
    for user, status in members:
        channel.members[user] = status
    return channel


def ban(channel: Channel, mode: str, mask: str) -> None:
    channel.lists[mode].append(ListEntry(mask, "op", 1.0, mask))


def test_a_users_actor_is_made_once_and_again_after_a_change() -> None:
    alice = person("alice")
    actor = alice.actor
    assert alice.actor is actor
    assert (actor.nick, actor.mask, actor.id, actor.bot) == (
        "alice",
        "alice!user@host",
        "u-alice",
        False,
    )
    alice.nick = "alicia"
    alice.modes = frozenset("B")
    assert alice.actor is actor
    alice.changed()
    assert (alice.actor.nick, alice.actor.bot) == ("alicia", True)


def test_an_operator_is_a_user_with_mode_o() -> None:
    assert person("op", "o").is_oper
    assert not person("alice", "iw").is_oper


@pytest.mark.parametrize(
    "close",
    ["i", "s", "p", "key", "limit", "ban"],
)
def test_a_channel_closed_to_some_keeps_its_history_under_its_incarnation(close: str) -> None:
    channel = channel_with()
    assert not channel.closed
    assert channel.history_key == "#a"
    if close == "key":
        channel.password = "pw"
    elif close == "limit":
        channel.limit = 5
    elif close == "ban":
        ban(channel, "b", "x!*@*")
    else:
        channel.flags.add(close)
    assert channel.closed
    assert channel.history_key == "#a 1"


@pytest.mark.parametrize("flag", ["m", "n", "t", "C"])
def test_flags_that_let_anyone_in_leave_a_channel_open(flag: str) -> None:
    channel = channel_with()
    channel.flags.add(flag)
    ban(channel, "e", "x!*@*")
    assert not channel.closed


def test_a_secret_channel_is_visible_to_members_and_operators_only() -> None:
    member, outsider, oper = person("m"), person("x"), person("op", "o")
    channel = channel_with((member, ""))
    channel.flags.add("s")
    assert channel.visible_to(member)
    assert channel.visible_to(oper)
    assert not channel.visible_to(outsider)
    channel.flags.discard("s")
    assert channel.visible_to(outsider)


@pytest.mark.parametrize("flag", ["p", "s"])
def test_a_private_or_secret_channel_shows_its_insides_to_members_and_operators_only(
    flag: str,
) -> None:
    member, outsider, oper = person("m"), person("x"), person("op", "o")
    channel = channel_with((member, ""))
    assert channel.shown_to(outsider)
    channel.flags.add(flag)
    assert channel.shown_to(member)
    assert channel.shown_to(oper)
    assert not channel.shown_to(outsider)


def test_a_members_prefix_is_its_highest_status_or_all_of_them() -> None:
    both, voiced, plain, outsider = person("b"), person("v"), person("p"), person("x")
    channel = channel_with((both, "ov"), (voiced, "v"), (plain, ""))
    assert [channel.prefix_of(u) for u in (both, voiced, plain, outsider)] == ["@", "+", "", ""]
    assert channel.prefix_of(both, multi=True) == "@+"
    assert channel.is_op(both)
    assert not channel.is_op(voiced)
    assert channel.can_speak_moderated(voiced)
    assert not channel.can_speak_moderated(plain)


def test_a_mute_entry_matches_only_when_speaking() -> None:
    channel = channel_with()
    ban(channel, "b", "m:bob!*@*")
    masks = ("bob!u@h",)
    assert not channel.matches("b", masks)
    assert channel.matches("b", masks, speaking=True)
    assert not channel.matches("b", ("carol!u@h",), speaking=True)


def test_an_entry_matches_any_of_the_users_masks() -> None:
    channel = channel_with()
    ban(channel, "I", "*!*@trusted")
    assert channel.matches("I", ("bob!u@h", "bob!u@trusted"))
    assert not channel.matches("I", ("bob!u@h",))
    assert not channel.matches("e", ("bob!u@trusted",))
