"""Questions about users through an IRC session: WHO, WHOX, WHOIS, WHOWAS, ISON, USERHOST."""

from __future__ import annotations

import time

import pytest

from hubbub.wire import numerics as n
from tests.doors.irc.support import HOST, reply, username
from tests.helpers import SERVER_NAME, FakeClient, Harness

NOW = 1_700_000_000


def who_line(asker: str, channel: str, nick: str, flags: str) -> object:
    return reply(
        n.RPL_WHOREPLY,
        asker,
        channel,
        username(nick),
        HOST,
        SERVER_NAME,
        nick,
        flags,
        f"0 Real {nick}",
    )


def end_of_who(asker: str, mask: str) -> object:
    return reply(n.RPL_ENDOFWHO, asker, mask, "End of /WHO list")


@pytest.fixture
def room(harness: Harness) -> tuple[FakeClient, FakeClient, FakeClient]:
    """alice (operator of #c), bob (voiced, away) and carol, all in #c."""
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    carol = harness.register("carol", "#c")
    alice.send("MODE #c +v bob")
    bob.send("AWAY :brb")
    for client in (alice, bob, carol):
        client.take()
    return alice, bob, carol


# -- WHO -------------------------------------------------------------------------------


def test_who_channel_lists_members_with_flags(
    room: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    _, _, carol = room
    carol.send("WHO #c")
    assert carol.take() == [
        who_line("carol", "#c", "alice", "H@"),
        who_line("carol", "#c", "bob", "G+"),
        who_line("carol", "#c", "carol", "H"),
        end_of_who("carol", "#c"),
    ]


def test_who_shows_operators_with_a_star(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("WHO #c")
    assert alice.take() == [who_line("alice", "#c", "alice", "H*@"), end_of_who("alice", "#c")]


def test_who_with_multi_prefix_shows_every_prefix(harness: Harness) -> None:
    alice = harness.client()
    alice.send("CAP REQ :multi-prefix")
    alice.send("NICK alice")
    alice.send("USER alice 0 * :Real alice")
    alice.send("CAP END")
    alice.send("JOIN #c")
    alice.send("MODE #c +v alice")
    alice.take()
    alice.send("WHO #c")
    assert alice.take() == [who_line("alice", "#c", "alice", "H@+"), end_of_who("alice", "#c")]


def test_who_exact_nick_lists_that_user(room: tuple[FakeClient, FakeClient, FakeClient]) -> None:
    alice, _, _ = room
    alice.send("WHO BOB")
    assert alice.take() == [who_line("alice", "*", "bob", "G"), end_of_who("alice", "BOB")]


def test_who_mask_matches_nick_username_host_and_realname(
    room: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, _, _ = room
    alice.send("WHO b*")
    assert alice.take() == [who_line("alice", "*", "bob", "G"), end_of_who("alice", "b*")]
    alice.send("WHO *carol")
    assert alice.take() == [who_line("alice", "*", "carol", "H"), end_of_who("alice", "*carol")]


def test_who_of_nobody_answers_only_315(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHO ghost")
    assert alice.take() == [end_of_who("alice", "ghost")]
    alice.send("WHO #nowhere")
    assert alice.take() == [end_of_who("alice", "#nowhere")]


def test_who_hides_invisible_users_who_share_no_channel(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob", "#c")
    bob.send("MODE bob +i")
    alice.send("WHO b*")
    assert alice.take() == [end_of_who("alice", "b*")]
    alice.send("WHO #c")
    assert alice.take() == [end_of_who("alice", "#c")]


def test_who_shows_invisible_users_who_share_a_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    bob.send("MODE bob +i")
    alice.take()
    alice.send("WHO b*")
    assert alice.take() == [who_line("alice", "*", "bob", "H"), end_of_who("alice", "b*")]


def test_who_of_secret_channel_is_empty_for_non_members(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +s")
    carol = harness.register("carol")
    carol.send("WHO #c")
    assert carol.take() == [end_of_who("carol", "#c")]


def test_who_with_o_lists_only_operators(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    harness.register("bob", "#c")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("WHO #c o")
    assert alice.take() == [who_line("alice", "#c", "alice", "H*@"), end_of_who("alice", "#c")]
    alice.send("WHO * o")
    assert alice.take() == [who_line("alice", "*", "alice", "H*"), end_of_who("alice", "*")]


def test_whox_sends_the_requested_fields_in_spec_order(
    room: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, _, _ = room
    alice.send("WHO bob %rnfdlaohsiuct,42")
    assert alice.take() == [
        reply(
            n.RPL_WHOSPCRPL,
            "alice",
            "42",
            "*",
            "~bob",
            HOST,
            HOST,
            SERVER_NAME,
            "bob",
            "G",
            "0",
            "0",
            "0",
            "n/a",
            "Real bob",
        ),
        end_of_who("alice", "bob"),
    ]


def test_whox_on_a_channel_shows_its_name_and_prefixes(
    room: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, _, _ = room
    alice.send("WHO #c %cnf")
    assert alice.take() == [
        reply(n.RPL_WHOSPCRPL, "alice", "#c", "alice", "H@"),
        reply(n.RPL_WHOSPCRPL, "alice", "#c", "bob", "G+"),
        reply(n.RPL_WHOSPCRPL, "alice", "#c", "carol", "H"),
        end_of_who("alice", "#c"),
    ]


def test_whox_without_t_sends_no_token(room: tuple[FakeClient, FakeClient, FakeClient]) -> None:
    alice, _, _ = room
    alice.send("WHO carol %n,99")
    assert alice.take() == [reply(n.RPL_WHOSPCRPL, "alice", "carol"), end_of_who("alice", "carol")]


def test_whox_idle_field_counts_seconds_since_last_message(
    room: tuple[FakeClient, FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _, carol = room
    carol.send("PRIVMSG #c :hello")
    harness.clock.now = NOW + 42
    alice.take()
    alice.send("WHO carol %nl")
    assert alice.take() == [
        reply(n.RPL_WHOSPCRPL, "alice", "carol", "42"),
        end_of_who("alice", "carol"),
    ]


# -- WHOIS -----------------------------------------------------------------------------


def test_whois_describes_a_user(
    room: tuple[FakeClient, FakeClient, FakeClient], harness: Harness
) -> None:
    _, bob, carol = room
    bob.send("OPER oper operpass")
    harness.clock.now = NOW + 30
    carol.send("WHOIS BOB")
    assert carol.take() == [
        reply(n.RPL_WHOISUSER, "carol", "bob", "~bob", HOST, "*", "Real bob"),
        reply(n.RPL_WHOISCHANNELS, "carol", "bob", "+#c"),
        reply(n.RPL_WHOISSERVER, "carol", "bob", SERVER_NAME, "hubbub chat server"),
        reply(n.RPL_AWAY, "carol", "bob", "brb"),
        reply(n.RPL_WHOISOPERATOR, "carol", "bob", "is an IRC operator"),
        reply(n.RPL_WHOISIDLE, "carol", "bob", "30", str(NOW), "seconds idle, signon time"),
        reply(n.RPL_ENDOFWHOIS, "carol", "bob", "End of /WHOIS list"),
    ]


def test_whois_of_oneself_also_shows_the_host(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHOIS alice")
    assert alice.take() == [
        reply(n.RPL_WHOISUSER, "alice", "alice", "~alice", HOST, "*", "Real alice"),
        reply(n.RPL_WHOISSERVER, "alice", "alice", SERVER_NAME, "hubbub chat server"),
        reply(n.RPL_WHOISHOST, "alice", "alice", f"is connecting from *@{HOST}"),
        reply(n.RPL_WHOISIDLE, "alice", "alice", "0", str(NOW), "seconds idle, signon time"),
        reply(n.RPL_ENDOFWHOIS, "alice", "alice", "End of /WHOIS list"),
    ]


def test_whois_with_a_server_parameter_uses_the_nick(
    room: tuple[FakeClient, FakeClient, FakeClient],
) -> None:
    alice, _, _ = room
    alice.send("WHOIS irc.test carol")
    replies = alice.take()
    assert replies[0] == reply(
        n.RPL_WHOISUSER, "alice", "carol", "~carol", HOST, "*", "Real carol"
    )
    assert replies[-1] == reply(n.RPL_ENDOFWHOIS, "alice", "carol", "End of /WHOIS list")


def test_whois_hides_secret_channels_from_outsiders(harness: Harness) -> None:
    bob = harness.register("bob", "#open", "#hidden")
    bob.send("MODE #hidden +s")
    alice = harness.register("alice")
    alice.send("WHOIS bob")
    assert reply(n.RPL_WHOISCHANNELS, "alice", "bob", "@#open") in alice.take()


def test_whois_of_missing_nick_is_refused_with_401_then_318(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHOIS ghost")
    assert alice.take() == [
        reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel"),
        reply(n.RPL_ENDOFWHOIS, "alice", "ghost", "End of /WHOIS list"),
    ]


def test_whois_without_a_nick_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHOIS")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "WHOIS", "Not enough parameters")]


# -- WHOWAS ----------------------------------------------------------------------------


def _whowas_time(seconds: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(seconds))


def test_whowas_lists_former_users_newest_first(harness: Harness) -> None:
    first = harness.register("bob")
    first.send("QUIT")
    harness.clock.now = NOW + 100
    second = harness.client()
    second.send("NICK bob")
    second.send("USER robert 0 * :Robert")
    harness.clock.now = NOW + 200
    second.send("QUIT")
    alice = harness.register("alice")
    alice.send("WHOWAS Bob")
    assert alice.take() == [
        reply(n.RPL_WHOWASUSER, "alice", "bob", "~robert", HOST, "*", "Robert"),
        reply(n.RPL_WHOISSERVER, "alice", "bob", SERVER_NAME, _whowas_time(NOW + 200)),
        reply(n.RPL_WHOWASUSER, "alice", "bob", "~bob", HOST, "*", "Real bob"),
        reply(n.RPL_WHOISSERVER, "alice", "bob", SERVER_NAME, _whowas_time(NOW)),
        reply(n.RPL_ENDOFWHOWAS, "alice", "Bob", "End of WHOWAS"),
    ]


def test_whowas_count_limits_the_entries(harness: Harness) -> None:
    for _ in range(3):
        harness.register("bob").send("QUIT")
    alice = harness.register("alice")
    alice.send("WHOWAS bob 2")
    assert [m.command for m in alice.take()] == [
        n.RPL_WHOWASUSER,
        n.RPL_WHOISSERVER,
        n.RPL_WHOWASUSER,
        n.RPL_WHOISSERVER,
        n.RPL_ENDOFWHOWAS,
    ]


def test_whowas_remembers_a_nick_left_by_a_nick_change(harness: Harness) -> None:
    bob = harness.register("bob")
    bob.send("NICK robert")
    alice = harness.register("alice")
    alice.send("WHOWAS bob")
    assert alice.take()[0] == reply(
        n.RPL_WHOWASUSER, "alice", "bob", "~bob", HOST, "*", "Real bob"
    )


def test_whowas_of_unknown_nick_is_refused_with_406_then_369(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHOWAS ghost")
    assert alice.take() == [
        reply(n.ERR_WASNOSUCHNICK, "alice", "ghost", "There was no such nickname"),
        reply(n.RPL_ENDOFWHOWAS, "alice", "ghost", "End of WHOWAS"),
    ]


def test_whowas_without_a_nick_is_refused_with_431(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("WHOWAS")
    assert alice.take() == [reply(n.ERR_NONICKNAMEGIVEN, "alice", "No nickname given")]


# -- ISON and USERHOST -----------------------------------------------------------------


def test_ison_answers_the_online_nicks_as_they_are_written(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("Bob")
    alice.send("ISON bob ghost ALICE")
    assert alice.take() == [reply(n.RPL_ISON, "alice", "Bob alice")]


def test_ison_accepts_nicks_in_a_trailing_parameter(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send("ISON :bob carol")
    assert alice.take() == [reply(n.RPL_ISON, "alice", "bob")]


def test_ison_of_nobody_online_answers_an_empty_303(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("ISON ghost")
    assert alice.take() == [reply(n.RPL_ISON, "alice", "")]


def test_ison_without_nicks_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("ISON")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "ISON", "Not enough parameters")]


def test_userhost_marks_operators_and_away_users(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    alice.send("OPER oper operpass")
    bob.send("AWAY :gone")
    alice.take()
    alice.send("USERHOST alice BOB ghost")
    assert alice.take() == [
        reply(n.RPL_USERHOST, "alice", f"alice*=+~alice@{HOST} bob=-~bob@{HOST}")
    ]


def test_userhost_answers_at_most_five_nicks(harness: Harness) -> None:
    alice = harness.register("alice")
    nicks = [f"u{i}" for i in range(7)]
    for nick in nicks:
        harness.register(nick)
    alice.send("USERHOST " + " ".join(nicks))
    (answer,) = alice.take()
    assert answer.params[1].split(" ") == [f"u{i}=+~u{i}@{HOST}" for i in range(5)]


def test_userhost_without_nicks_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("USERHOST")
    assert alice.take() == [
        reply(n.ERR_NEEDMOREPARAMS, "alice", "USERHOST", "Not enough parameters")
    ]
