"""MODE through an IRC session: channel flags, statuses, keys, limits, lists, user modes."""

from __future__ import annotations

import pytest

from hubbub.settings import Limits, Settings
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.doors.irc.support import lines, mask, relay, reply
from tests.helpers import FakeClient, Harness

NOW = 1_700_000_000


@pytest.fixture
def pair(harness: Harness) -> tuple[FakeClient, FakeClient]:
    """alice (operator of #c) and bob, both in #c, with nothing pending."""
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    return alice, bob


def both_see(pair: tuple[FakeClient, FakeClient], *params: str) -> None:
    expected = [relay("alice", "MODE", *params)]
    assert pair[0].take() == expected
    assert pair[1].take() == expected


def self_mode(nick: str, modes: str) -> Message:
    """A user mode change as the server confirms it: ``:nick MODE nick :+i``."""
    return Message("MODE", (nick, modes), nick)


# -- querying --------------------------------------------------------------------------


def test_mode_query_answers_324_and_329(pair: tuple[FakeClient, FakeClient]) -> None:
    _, bob = pair
    bob.send("MODE #c")
    assert bob.take() == [
        reply(n.RPL_CHANNELMODEIS, "bob", "#c", "+nt"),
        reply(n.RPL_CREATIONTIME, "bob", "#c", str(NOW)),
    ]


def test_mode_query_shows_key_and_limit_to_members(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +kl sesame 10")
    bob.take()
    bob.send("MODE #c")
    assert bob.take() == [
        reply(n.RPL_CHANNELMODEIS, "bob", "#c", "+ntkl", "sesame", "10"),
        reply(n.RPL_CREATIONTIME, "bob", "#c", str(NOW)),
    ]


def test_mode_query_hides_the_key_from_non_members(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    alice.send("MODE #c +k sesame")
    carol = harness.register("carol")
    carol.send("MODE #c")
    assert carol.take() == [
        reply(n.RPL_CHANNELMODEIS, "carol", "#c", "+ntk", "*"),
        reply(n.RPL_CREATIONTIME, "carol", "#c", str(NOW)),
    ]


def test_mode_of_missing_channel_is_refused_with_403(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE #nowhere")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]
    alice.send("MODE #nowhere +m")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]


def test_mode_without_target_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "MODE", "Not enough parameters")]


# -- flags -----------------------------------------------------------------------------


def test_flag_changes_are_coalesced_into_one_line(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +i+m-t+s")
    both_see(pair, "#c", "+im-t+s")
    alice.send("MODE #c")
    assert alice.take()[0] == reply(n.RPL_CHANNELMODEIS, "alice", "#c", "+imns")


def test_flag_already_set_is_not_announced(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +nt")
    alice.send("MODE #c -i")
    assert alice.take() == []
    assert pair[1].take() == []


def test_flag_repeated_in_one_mode_is_applied_once(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +mmm")
    both_see(pair, "#c", "+m")


def test_flag_change_by_non_operator_is_refused_with_482(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    bob.send("MODE #c +m")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert alice.take() == []


def test_unknown_channel_mode_is_refused_with_472_and_the_rest_applies(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("MODE #c +zm")
    assert alice.take() == [
        reply(n.ERR_UNKNOWNMODE, "alice", "z", "is an unknown mode character"),
        relay("alice", "MODE", "#c", "+m"),
    ]
    assert bob.take() == [relay("alice", "MODE", "#c", "+m")]


# -- statuses --------------------------------------------------------------------------


def test_op_and_voice_are_given_and_taken(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +ov bob BOB")
    both_see(pair, "#c", "+ov", "bob", "bob")
    alice.send("MODE #c -o bob")
    both_see(pair, "#c", "-o", "bob")
    bob.send("NAMES #c")
    assert bob.take()[0] == reply(n.RPL_NAMREPLY, "bob", "=", "#c", "@alice +bob")


def test_new_operator_may_change_modes(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +o bob")
    alice.take()
    bob.take()
    bob.send("MODE #c -o alice")
    assert alice.take() == [relay("bob", "MODE", "#c", "-o", "alice")]


def test_op_of_missing_nick_is_refused_with_401(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +o ghost")
    assert alice.take() == [reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel")]
    assert bob.take() == []


def test_op_of_non_member_is_refused_with_441(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    harness.register("carol")
    alice.send("MODE #c +v carol")
    assert alice.take() == [
        reply(n.ERR_USERNOTINCHANNEL, "alice", "carol", "#c", "They aren't on that channel")
    ]


def test_op_by_non_operator_is_refused_with_482(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("MODE #c +o bob")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert alice.take() == []


def test_status_without_a_nick_is_ignored(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +o")
    assert alice.take() == []
    assert bob.take() == []


# -- key and limit ---------------------------------------------------------------------


def test_key_is_set_and_removed(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +k sesame")
    both_see(pair, "#c", "+k", "sesame")
    alice.send("MODE #c -k whatever")
    both_see(pair, "#c", "-k", "*")


@pytest.mark.parametrize("key", ["a,b", ":colon", "x" * 33])
def test_invalid_key_is_refused_with_696(pair: tuple[FakeClient, FakeClient], key: str) -> None:
    alice, bob = pair
    param = key if not key.startswith(":") else ":" + key
    alice.send(f"MODE #c +k {param}")
    assert alice.take() == [
        reply(n.ERR_INVALIDMODEPARAM, "alice", "#c", "k", "*", "Invalid mode parameter")
    ]
    assert bob.take() == []


def test_key_with_a_space_is_refused_with_696(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +k :open sesame")
    assert alice.take() == [
        reply(n.ERR_INVALIDMODEPARAM, "alice", "#c", "k", "*", "Invalid mode parameter")
    ]


def test_limit_is_set_and_removed(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("MODE #c +l 25")
    both_see(pair, "#c", "+l", "25")
    alice.send("MODE #c -l")
    both_see(pair, "#c", "-l")


@pytest.mark.parametrize("limit", ["abc", "0", "-5", "99999999999"])
def test_invalid_limit_is_refused_with_696(
    pair: tuple[FakeClient, FakeClient], limit: str
) -> None:
    alice, bob = pair
    alice.send(f"MODE #c +l {limit}")
    assert alice.take() == [
        reply(n.ERR_INVALIDMODEPARAM, "alice", "#c", "l", "*", "Invalid mode parameter")
    ]
    assert bob.take() == []


# -- lists -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letter", "entry", "end", "end_text"),
    [
        ("b", n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
        ("e", n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
        ("I", n.RPL_INVEXLIST, n.RPL_ENDOFINVEXLIST, "End of channel invite list"),
    ],
)
def test_list_entries_are_added_listed_and_removed(
    pair: tuple[FakeClient, FakeClient],
    harness: Harness,
    letter: str,
    entry: str,
    end: str,
    end_text: str,
) -> None:
    alice, _ = pair
    alice.send(f"MODE #c +{letter} spammer")
    both_see(pair, "#c", f"+{letter}", "spammer!*@*")
    harness.clock.now = NOW + 5
    alice.send(f"MODE #c +{letter} *@evil.example")
    both_see(pair, "#c", f"+{letter}", "*!*@evil.example")
    # The operator lists: only bans are shown to every member (see test_security_queries).
    alice.send(f"MODE #c {letter}")
    assert alice.take() == [
        reply(entry, "alice", "#c", "spammer!*@*", mask("alice"), str(NOW)),
        reply(entry, "alice", "#c", "*!*@evil.example", mask("alice"), str(NOW + 5)),
        reply(end, "alice", "#c", end_text),
    ]
    alice.send(f"MODE #c -{letter} SPAMMER!*@*")
    both_see(pair, "#c", f"-{letter}", "spammer!*@*")
    alice.send(f"MODE #c +{letter}")
    assert alice.take() == [
        reply(entry, "alice", "#c", "*!*@evil.example", mask("alice"), str(NOW + 5)),
        reply(end, "alice", "#c", end_text),
    ]


def test_empty_ban_list_answers_only_368(pair: tuple[FakeClient, FakeClient]) -> None:
    _, bob = pair
    bob.send("MODE #c +b")
    assert bob.take() == [reply(n.RPL_ENDOFBANLIST, "bob", "#c", "End of channel ban list")]


def test_duplicate_ban_is_not_announced(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c +b x!*@*")
    alice.take()
    bob.take()
    alice.send("MODE #c +b X!*@*")
    assert alice.take() == []
    assert bob.take() == []


def test_ban_by_non_operator_is_refused_with_482(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("MODE #c +b alice")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert alice.take() == []


def test_full_ban_list_refuses_more_with_478(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    for start in range(0, 100, 20):
        masks = " ".join(f"m{i}" for i in range(start, start + 20))
        alice.send(f"MODE #c +{'b' * 20} {masks}")
    alice.take()
    bob.take()
    alice.send("MODE #c +b one-more")
    assert alice.take() == [reply(n.ERR_BANLISTFULL, "alice", "#c", "b", "Channel list is full")]
    # The bound is the three lists' together (MAXLIST=beI:100).
    alice.send("MODE #c +e exempt")
    assert alice.take() == [reply(n.ERR_BANLISTFULL, "alice", "#c", "e", "Channel list is full")]
    assert bob.take() == []


def test_parameterised_changes_past_the_modes_limit_are_ignored(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, _ = pair
    masks = [f"m{i}" for i in range(25)]
    alice.send(f"MODE #c +{'b' * 25} {' '.join(masks)}")
    (announced,) = alice.take()
    assert announced.params[:2] == ("#c", "+" + "b" * 20)
    assert announced.params[2:] == tuple(f"{m}!*@*" for m in masks[:20])


def test_announced_mode_line_never_exceeds_512_bytes(pair: tuple[FakeClient, FakeClient]) -> None:
    """Short masks grow when completed to nick!user@host: the announcement must be split
    (or cut) so that every line stays within 512 bytes, CR LF included."""
    alice, bob = pair
    masks = [f"{i:02d}" + "m" * 19 for i in range(20)]
    line = f"MODE #c +{'b' * 20} {' '.join(masks)}"
    assert len(line) <= 510
    alice.send(line)
    raw = lines(bob)
    assert raw
    assert all(len(item) + 2 <= 512 for item in raw), [len(item) for item in raw]
    bob.send("MODE #c b")
    assert len(bob.take()) == 21


# -- user modes ------------------------------------------------------------------------


def test_user_mode_query_answers_221(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice")
    assert alice.take() == [reply(n.RPL_UMODEIS, "alice", "+")]
    alice.send("MODE alice +iw")
    alice.take()
    alice.send("MODE ALICE")
    assert alice.take() == [reply(n.RPL_UMODEIS, "alice", "+iw")]


def test_user_mode_changes_are_confirmed_to_the_user(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice +i")
    assert alice.take() == [self_mode("alice", "+i")]
    alice.send("MODE alice +w-i")
    assert alice.take() == [self_mode("alice", "+w-i")]


def test_user_mode_already_set_is_not_confirmed(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice +i")
    alice.take()
    alice.send("MODE alice +i")
    alice.send("MODE alice -w")
    assert alice.take() == []


def test_user_mode_plus_o_is_ignored(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice +o")
    assert alice.take() == []
    alice.send("MODE alice")
    assert alice.take() == [reply(n.RPL_UMODEIS, "alice", "+")]


def test_operator_may_drop_plus_o(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("MODE alice -o")
    assert alice.take() == [self_mode("alice", "-o")]
    alice.send("WALLOPS :still oper?")
    assert alice.take() == [
        reply(n.ERR_NOPRIVILEGES, "alice", "Permission Denied- You're not an IRC operator")
    ]


def test_user_mode_of_another_user_is_refused_with_502(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send("MODE bob +i")
    assert alice.take() == [
        reply(n.ERR_USERSDONTMATCH, "alice", "Can't change mode for other users")
    ]
    alice.send("MODE bob")
    assert alice.take() == [
        reply(n.ERR_USERSDONTMATCH, "alice", "Can't change mode for other users")
    ]


def test_user_mode_of_missing_nick_is_refused_with_401(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE ghost +i")
    assert alice.take() == [reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel")]


def test_unknown_user_mode_is_refused_with_501_and_known_ones_apply(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice +zi")
    assert alice.take() == [
        reply(n.ERR_UMODEUNKNOWNFLAG, "alice", "Unknown MODE flag"),
        self_mode("alice", "+i"),
    ]


def test_a_long_mode_announcement_uses_the_servers_longer_line_length() -> None:
    """With line_length raised (and advertised as LINELEN), a MODE announcement that a
    512-byte line splits fits on one line, and stays within the raised length."""
    settings = Settings(server_name="irc.test").replace(limits=Limits(line_length=2048))
    harness = Harness(settings)
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    masks = [f"{i:02d}" + "m" * 19 for i in range(20)]
    alice.send(f"MODE #c +{'b' * 20} {' '.join(masks)}")
    raw = lines(bob)
    assert len(raw) == 1
    assert len(raw[0]) + 2 <= 2048


@pytest.mark.parametrize("userlen", [6, 18])
def test_the_user_name_is_cut_to_userlen_and_userlen_is_advertised(userlen: int) -> None:
    settings = Settings(server_name="irc.test").replace(limits=Limits(userlen=userlen))
    harness = Harness(settings)
    client = harness.client()
    client.send("NICK alice")
    client.send("USER abcdefghijklmnopqrstuvwxyz 0 * :Alice")
    welcome = client.take()
    isupport = " ".join(" ".join(m.params) for m in welcome if m.command == n.RPL_ISUPPORT)
    assert f"USERLEN={userlen}" in isupport.split()
    (first,) = [m for m in welcome if m.command == n.RPL_WELCOME]
    username = first.params[-1].rsplit("!", 1)[1].split("@", 1)[0]
    assert username == "~" + "abcdefghijklmnopqrstuvwxyz"[: userlen - 1]


@pytest.mark.parametrize("room", ["#lobby", "#welcome"])
def test_the_default_room_is_advertised_for_clients_to_start_in(room: str) -> None:
    harness = Harness(Settings(server_name="irc.test", plain_room=room))
    client = harness.client()
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    tokens = [p for m in client.take() if m.command == n.RPL_ISUPPORT for p in m.params[1:-1]]
    assert f"hubbub/LOBBY={room}" in tokens
