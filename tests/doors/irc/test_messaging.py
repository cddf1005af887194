"""Talking through an IRC session: PRIVMSG, NOTICE, AWAY and WALLOPS."""

from __future__ import annotations

import pytest

from hubbub.wire import numerics as n
from hubbub.wire.message import parse
from tests.doors.irc.support import lines, mask, relay, reply
from tests.helpers import FakeClient, FakePeer, Harness


@pytest.fixture
def trio(harness: Harness) -> tuple[FakeClient, FakeClient, FakeClient]:
    """alice (operator of #c), bob and carol, all in #c, with nothing pending."""
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    carol = harness.register("carol", "#c")
    alice.take()
    bob.take()
    return alice, bob, carol


# -- PRIVMSG ---------------------------------------------------------------------------


def test_privmsg_to_channel_reaches_every_other_member(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("PRIVMSG #c :hello all")
    assert alice.take() == []
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "hello all")]
    assert carol.take() == [relay("alice", "PRIVMSG", "#c", "hello all")]


def test_privmsg_to_channel_in_other_case_uses_the_channel_name(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, _ = trio
    alice.send("PRIVMSG #C :hi")
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "hi")]


def test_privmsg_to_user_reaches_only_that_user(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("PRIVMSG BOB :psst")
    assert bob.take() == [relay("alice", "PRIVMSG", "bob", "psst")]
    assert carol.take() == []
    assert alice.take() == []


def test_privmsg_with_a_single_word_text_needs_no_colon(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, _ = trio
    alice.send("PRIVMSG bob hi")
    assert bob.take() == [relay("alice", "PRIVMSG", "bob", "hi")]


def test_privmsg_to_several_targets_reaches_each(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("PRIVMSG bob,#c :both")
    assert bob.take() == [
        relay("alice", "PRIVMSG", "bob", "both"),
        relay("alice", "PRIVMSG", "#c", "both"),
    ]
    assert carol.take() == [relay("alice", "PRIVMSG", "#c", "both")]


def test_privmsg_to_more_targets_than_maxtargets_is_refused_with_407(
    harness: Harness,
) -> None:
    alice = harness.register("alice")
    others = [harness.register(f"user{i}") for i in range(5)]
    alice.send("PRIVMSG user0,user1,user2,user3,user4 :spam")
    assert alice.take() == [
        reply(n.ERR_TOOMANYTARGETS, "alice", "user4", "Too many targets, at most 4")
    ]
    for index, other in enumerate(others[:4]):
        assert other.take() == [relay("alice", "PRIVMSG", f"user{index}", "spam")]
    assert others[4].take() == []


def test_statusmsg_to_at_channel_reaches_only_operators(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +o carol")
    for client in trio:
        client.take()
    bob.send("PRIVMSG @#c :ops only")
    assert alice.take() == [relay("bob", "PRIVMSG", "@#c", "ops only")]
    assert carol.take() == [relay("bob", "PRIVMSG", "@#c", "ops only")]
    assert bob.take() == []


def test_statusmsg_to_plus_channel_reaches_voiced_users_and_operators(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +v bob")
    for client in trio:
        client.take()
    carol.send("NOTICE +#c :voices")
    assert alice.take() == [relay("carol", "NOTICE", "+#c", "voices")]
    assert bob.take() == [relay("carol", "NOTICE", "+#c", "voices")]


def test_privmsg_to_missing_nick_is_refused_with_401(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PRIVMSG ghost :boo")
    assert alice.take() == [reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel")]


def test_privmsg_to_missing_channel_is_refused_with_403(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PRIVMSG #nowhere :boo")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]


def test_privmsg_without_a_target_is_refused_with_411(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PRIVMSG")
    assert alice.take() == [reply(n.ERR_NORECIPIENT, "alice", "No recipient given (PRIVMSG)")]
    alice.send("PRIVMSG :")
    assert alice.take() == [reply(n.ERR_NORECIPIENT, "alice", "No recipient given (PRIVMSG)")]


def test_privmsg_without_text_is_refused_with_412(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send("PRIVMSG bob")
    assert alice.take() == [reply(n.ERR_NOTEXTTOSEND, "alice", "No text to send")]
    alice.send("PRIVMSG bob :")
    assert alice.take() == [reply(n.ERR_NOTEXTTOSEND, "alice", "No text to send")]


def test_privmsg_from_outside_a_no_external_channel_is_refused_with_404(
    trio: tuple[FakeClient, FakeClient, FakeClient], harness: Harness
) -> None:
    _, bob, _ = trio
    dave = harness.register("dave")
    dave.send("PRIVMSG #c :let me in")
    assert dave.take() == [
        reply(
            n.ERR_CANNOTSENDTOCHAN,
            "dave",
            "#c",
            "Cannot send to channel (no external messages (+n))",
        )
    ]
    assert bob.take() == []


def test_privmsg_from_outside_reaches_a_channel_without_n(
    trio: tuple[FakeClient, FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob, _ = trio
    alice.send("MODE #c -n")
    bob.take()
    dave = harness.register("dave")
    dave.send("PRIVMSG #c :knock knock")
    assert dave.take() == []
    assert bob.take() == [relay("dave", "PRIVMSG", "#c", "knock knock")]


def test_privmsg_to_moderated_channel_is_refused_with_404(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +m")
    bob.take()
    carol.take()
    bob.send("PRIVMSG #c :can I talk?")
    assert bob.take() == [
        reply(
            n.ERR_CANNOTSENDTOCHAN,
            "bob",
            "#c",
            "Cannot send to channel (channel is moderated (+m))",
        )
    ]
    assert carol.take() == []


def test_voiced_and_operators_speak_in_moderated_channel(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +mv bob bob")
    for client in trio:
        client.take()
    bob.send("PRIVMSG #c :voiced")
    alice.send("PRIVMSG #c :op")
    assert carol.take() == [
        relay("bob", "PRIVMSG", "#c", "voiced"),
        relay("alice", "PRIVMSG", "#c", "op"),
    ]


def test_banned_member_cannot_speak_and_is_refused_with_404(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +b bob!*@*")
    bob.take()
    carol.take()
    bob.send("PRIVMSG #c :hello?")
    assert bob.take() == [
        reply(n.ERR_CANNOTSENDTOCHAN, "bob", "#c", "Cannot send to channel (you are banned (+b))")
    ]
    assert carol.take() == []


def test_voice_overrides_a_ban_for_speaking(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +bv bob!*@* bob")
    bob.take()
    carol.take()
    bob.send("PRIVMSG #c :still here")
    assert bob.take() == []
    assert carol.take() == [relay("bob", "PRIVMSG", "#c", "still here")]


def test_ban_exception_lets_a_banned_member_speak(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("MODE #c +be *!*@* bob!*@*")
    bob.take()
    carol.take()
    bob.send("PRIVMSG #c :excepted")
    assert carol.take() == [relay("bob", "PRIVMSG", "#c", "excepted")]
    carol.send("PRIVMSG #c :banned")
    assert carol.take() == [
        reply(
            n.ERR_CANNOTSENDTOCHAN, "carol", "#c", "Cannot send to channel (you are banned (+b))"
        )
    ]


# -- NOTICE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "NOTICE",
        "NOTICE :",
        "NOTICE bob",
        "NOTICE bob :",
        "NOTICE ghost :boo",
        "NOTICE #nowhere :boo",
        "NOTICE a,b,c,d,e,f :many",
    ],
)
def test_notice_never_gets_an_error_back(harness: Harness, line: str) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send(line)
    assert alice.take() == []


def test_notice_to_a_channel_that_refuses_gets_no_error(
    trio: tuple[FakeClient, FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob, _ = trio
    alice.send("MODE #c +m")
    alice.take()
    bob.take()
    dave = harness.register("dave")
    dave.send("NOTICE #c :outside")
    bob.send("NOTICE #c :moderated")
    assert dave.take() == []
    assert bob.take() == []
    assert alice.take() == []


def test_notice_reaches_channel_and_user(
    trio: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, bob, carol = trio
    alice.send("NOTICE #c :note")
    alice.send("NOTICE bob :private note")
    assert bob.take() == [
        relay("alice", "NOTICE", "#c", "note"),
        relay("alice", "NOTICE", "bob", "private note"),
    ]
    assert carol.take() == [relay("alice", "NOTICE", "#c", "note")]


# -- AWAY ------------------------------------------------------------------------------


def test_away_with_text_is_confirmed_with_306_and_without_with_305(harness: Harness) -> None:
    bob = harness.register("bob")
    bob.send("AWAY :at lunch")
    assert bob.take() == [reply(n.RPL_NOWAWAY, "bob", "You have been marked as being away")]
    bob.send("AWAY")
    assert bob.take() == [reply(n.RPL_UNAWAY, "bob", "You are no longer marked as being away")]
    bob.send("AWAY :")
    assert bob.take() == [reply(n.RPL_UNAWAY, "bob", "You are no longer marked as being away")]


def test_privmsg_to_away_user_is_delivered_and_answered_with_301(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    bob.send("AWAY :at lunch")
    bob.take()
    alice.send("PRIVMSG bob :are you there?")
    assert bob.take() == [relay("alice", "PRIVMSG", "bob", "are you there?")]
    assert alice.take() == [reply(n.RPL_AWAY, "alice", "bob", "at lunch")]


def test_notice_to_away_user_gets_no_301(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    bob.send("AWAY :at lunch")
    alice.send("NOTICE bob :fyi")
    assert alice.take() == []


def test_privmsg_after_coming_back_gets_no_301(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    bob.send("AWAY :at lunch")
    bob.send("AWAY")
    alice.send("PRIVMSG bob :back?")
    assert alice.take() == []


def test_away_message_is_cut_to_awaylen(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    bob.send("AWAY :" + "z" * 400)
    alice.send("PRIVMSG bob :hi")
    assert alice.take() == [reply(n.RPL_AWAY, "alice", "bob", "z" * 390)]


# -- long text -------------------------------------------------------------------------


def _longest_privmsg(target: str, char: str) -> tuple[str, str]:
    """A PRIVMSG line of exactly 510 bytes (the most a client may send) and its text."""
    head = f"PRIVMSG {target} :"
    room = 510 - len(head.encode())
    text = char * (room // len(char.encode()))
    text += "x" * (room - len(text.encode()))
    return head + text, text


@pytest.mark.parametrize("char", ["a", "\u00e9", "\u20ac", "\U0001f600"])
def test_long_text_is_cut_so_the_relayed_line_fits_512_bytes_on_a_char_boundary(
    harness: Harness, char: str
) -> None:
    alice = harness.register("alice_with_a_long_nickname_xy", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    line, text = _longest_privmsg("#c", char)
    alice.send(line)
    assert alice.take() == []
    (raw,) = lines(bob)
    assert len(raw) + 2 <= 512
    relayed = parse(raw)
    assert relayed.command == "PRIVMSG"
    assert relayed.source == mask("alice_with_a_long_nickname_xy")
    assert relayed.params[0] == "#c"
    cut = relayed.params[1]
    assert text.startswith(cut)
    # Nothing more was cut than needed: the next character would not have fit.
    assert len(raw) + 2 + len(text[len(cut)].encode()) > 512


def test_long_text_to_a_user_is_cut_to_fit_512_bytes(harness: Harness) -> None:
    alice = harness.register("alice_with_a_long_nickname_xy")
    bob = harness.register("bob")
    line, text = _longest_privmsg("bob", "\u20ac")
    alice.send(line)
    (raw,) = lines(bob)
    assert len(raw) + 2 <= 512
    assert text.startswith(parse(raw).params[1])


def test_long_statusmsg_is_cut_to_fit_512_bytes(harness: Harness) -> None:
    alice = harness.register("alice_with_a_long_nickname_xy", "#c")
    bob = harness.register("bob", "#c")
    alice.send("MODE #c +o bob")
    bob.take()
    line, text = _longest_privmsg("@#c", "\u00e9")
    alice.send(line)
    (raw,) = lines(bob)
    assert len(raw) + 2 <= 512
    relayed = parse(raw)
    assert relayed.params[0] == "@#c"
    assert text.startswith(relayed.params[1])


def test_short_text_is_relayed_whole(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.send("PRIVMSG #c :  spaced  out  :colons: ")
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "  spaced  out  :colons: ")]


# -- WALLOPS ---------------------------------------------------------------------------


def test_wallops_from_non_operator_is_refused_with_481(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    bob.send("MODE bob +w")
    bob.take()
    alice.send("WALLOPS :hear me")
    assert alice.take() == [
        reply(n.ERR_NOPRIVILEGES, "alice", "Permission Denied- You're not an IRC operator")
    ]
    assert bob.take() == []


def test_wallops_from_operator_reaches_users_with_mode_w_only(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    carol = harness.register("carol")
    alice.send("OPER oper operpass")
    bob.send("MODE bob +w")
    alice.take()
    bob.take()
    alice.send("WALLOPS :maintenance at noon")
    assert bob.take() == [relay("alice", "WALLOPS", "maintenance at noon")]
    assert carol.take() == []
    assert alice.take() == []


def test_wallops_without_text_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WALLOPS")
    assert alice.take() == [
        reply(n.ERR_NEEDMOREPARAMS, "alice", "WALLOPS", "Not enough parameters")
    ]


def test_a_line_to_several_targets_reaches_each_once_and_costs_a_line_each(
    harness: Harness,
) -> None:
    # Probe 15: "bob,bob,bob,bob" was four messages (each stored) for one line's cost.
    alice, bob, carol = (
        harness.register("alice"),
        harness.register("bob"),
        harness.register("carol"),
    )
    alice.send("PRIVMSG bob,BOB,bob,carol :hi")
    assert [m.params for m in bob.take()] == [("bob", "hi")]
    assert [m.params for m in carol.take()] == [("carol", "hi")]
    peer = alice.session.peer
    assert isinstance(peer, FakePeer)
    assert peer.spent == 1  # two targets: one line more
    alice.send("PRIVMSG bob :once")
    assert peer.spent == 1
