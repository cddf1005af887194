"""Connection registration through an IRC session: PASS, NICK, USER, CAP, PING, QUIT."""

from __future__ import annotations

import pytest

from hubbub.doors.irc.caps import offered
from hubbub.settings import Settings
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.doors.irc.support import HOST, mask, pong, relay, reply
from tests.helpers import SERVER_NAME, FakeClient, Harness

# Look-alikes written as escapes so that the source stays plain ASCII.
ANNA_CYRILLIC = "\u0410\u043d\u043d\u0430"  # Анна, all Cyrillic
ANNA_MIXED = "\u0410nna"  # Cyrillic А, then Latin "nna"
ALICE_MIXED = "\u0430lice"  # Cyrillic а, then Latin "lice"
ALICE_CYRILLIC = "\u0430\u04cf\u0456\u0441\u0435"  # а ӏ і с е: all Cyrillic, reads "alice"

# The session harness keeps no history, so draft/chathistory is not offered.
ALL_CAPS = " ".join(offered(0, history=False))

WELCOME_ORDER = [
    n.RPL_WELCOME,
    n.RPL_YOURHOST,
    n.RPL_CREATED,
    n.RPL_MYINFO,
    n.RPL_ISUPPORT,
    n.RPL_ISUPPORT,
    n.RPL_LUSERCLIENT,
    n.RPL_LUSEROP,
    n.RPL_LUSERUNKNOWN,
    n.RPL_LUSERCHANNELS,
    n.RPL_LUSERME,
    n.RPL_LOCALUSERS,
    n.RPL_GLOBALUSERS,
    n.RPL_MOTDSTART,
    n.RPL_MOTD,
    n.RPL_ENDOFMOTD,
]


def welcome_codes(client: FakeClient) -> list[str]:
    """The numerics received, with the run of RPL_ISUPPORT lines (as many as the tokens
    need, at most 13 tokens each) counted as two, as WELCOME_ORDER lists them."""
    codes = [m.command for m in client.take()]
    first = codes.index(n.RPL_ISUPPORT) if n.RPL_ISUPPORT in codes else len(codes)
    count = codes.count(n.RPL_ISUPPORT)
    if count >= 2:
        codes[first : first + count] = [n.RPL_ISUPPORT, n.RPL_ISUPPORT]
    return codes


# -- NICK and USER ---------------------------------------------------------------------


def test_nick_then_user_completes_registration_with_the_welcome_burst(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK alice")
    assert client.take() == []
    client.send("USER alice 0 * :Alice Liddell")
    assert welcome_codes(client) == WELCOME_ORDER
    assert client.session.registered


def test_user_then_nick_completes_registration_too(harness: Harness) -> None:
    client = harness.client()
    client.send("USER alice 0 * :Alice Liddell")
    assert client.take() == []
    client.send("NICK alice")
    assert welcome_codes(client) == WELCOME_ORDER


def test_welcome_numerics_carry_nick_mask_server_and_modes(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice Liddell")
    burst = client.take()
    version = harness.ctx.version
    assert burst[0] == reply(
        n.RPL_WELCOME, "alice", f"Welcome to the hubbub IRC Network alice!~alice@{HOST}"
    )
    assert burst[1] == reply(
        n.RPL_YOURHOST, "alice", f"Your host is {SERVER_NAME}, running version {version}"
    )
    assert burst[2].command == n.RPL_CREATED
    assert burst[2].params[0] == "alice"
    myinfo = burst[3]
    assert myinfo.command == n.RPL_MYINFO
    assert myinfo.params[:3] == ("alice", SERVER_NAME, version)
    user_modes, channel_modes, with_param = myinfo.params[3:]
    assert set("iow") <= set(user_modes)
    assert set("Ibeiklmnopstv") <= set(channel_modes)
    assert set("Ibeklov") <= set(with_param) <= set(channel_modes)


def test_welcome_ends_with_lusers_and_motd(harness: Harness) -> None:
    harness.register("bob")
    client = harness.client()
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice Liddell")
    received = client.take()
    last_isupport = max(i for i, m in enumerate(received) if m.command == n.RPL_ISUPPORT)
    burst = received[last_isupport + 1 :]
    assert burst == [
        reply(n.RPL_LUSERCLIENT, "alice", "There are 2 users and 0 invisible on 1 servers"),
        reply(n.RPL_LUSEROP, "alice", "0", "operator(s) online"),
        reply(n.RPL_LUSERUNKNOWN, "alice", "0", "unknown connection(s)"),
        reply(n.RPL_LUSERCHANNELS, "alice", "0", "channels formed"),
        reply(n.RPL_LUSERME, "alice", "I have 2 clients and 0 servers"),
        reply(n.RPL_LOCALUSERS, "alice", "2", "2", "Current local users 2, max 2"),
        reply(n.RPL_GLOBALUSERS, "alice", "2", "2", "Current global users 2, max 2"),
        reply(n.RPL_MOTDSTART, "alice", f"- {SERVER_NAME} Message of the day - "),
        reply(n.RPL_MOTD, "alice", "- Hello"),
        reply(n.RPL_ENDOFMOTD, "alice", "End of /MOTD command."),
    ]


def test_isupport_advertises_the_server_limits_and_features(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice Liddell")
    isupport = [m for m in client.take() if m.command == n.RPL_ISUPPORT]
    tokens: list[str] = []
    for line in isupport:
        assert line.params[0] == "alice"
        assert line.params[-1] == "are supported by this server"
        # Modern IRC client protocol: at most 15 parameters in one message.
        assert len(line.params) <= 15
        tokens += line.params[1:-1]
    expected = {
        "AWAYLEN=390",
        "CASEMAPPING=rfc8265",
        "CHANLIMIT=#:50",
        "CHANNELLEN=64",
        "CHANTYPES=#",
        "ELIST=CMNTU",
        "EXCEPTS=e",
        "INVEX=I",
        "KICKLEN=390",
        "LINELEN=512",
        "MAXLIST=beI:100",
        "MODES=20",
        "NETWORK=hubbub",
        "NICKLEN=30",
        "PREFIX=(ov)@+",
        "STATUSMSG=@+",
        "TOPICLEN=390",
        "UTF8ONLY",
        "WHOX",
    }
    assert expected <= set(tokens), expected - set(tokens)
    # Each token is advertised once.
    assert len(tokens) == len({t.partition("=")[0] for t in tokens})
    chanmodes = next(t for t in tokens if t.startswith("CHANMODES="))
    a, b, c, d = chanmodes.removeprefix("CHANMODES=").split(",")
    assert (set(a), set(b), set(c)) == ({"b", "e", "I"}, {"k"}, {"l"})
    assert {"i", "m", "n", "p", "s", "t"} <= set(d)
    targmax = next(t for t in tokens if t.startswith("TARGMAX="))
    assert "PRIVMSG:4" in targmax.split("=", 1)[1].split(",")


def test_user_with_too_few_parameters_is_refused_with_461(harness: Harness) -> None:
    client = harness.client()
    client.send("USER alice 0 *")
    assert client.take() == [reply(n.ERR_NEEDMOREPARAMS, "*", "USER", "Not enough parameters")]
    client.send("NICK alice")
    assert client.take() == []
    assert not client.session.registered


def test_user_with_an_empty_realname_is_refused_with_461(harness: Harness) -> None:
    client = harness.client()
    client.send("USER alice 0 * :")
    assert client.take() == [reply(n.ERR_NEEDMOREPARAMS, "*", "USER", "Not enough parameters")]


def test_username_is_marked_unverified_and_stripped_of_junk(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK alice")
    client.send("USER a$l!i@ce 0 * :Alice")
    assert client.take()[0] == reply(
        n.RPL_WELCOME, "alice", f"Welcome to the hubbub IRC Network alice!~alice@{HOST}"
    )


def test_user_after_registration_is_refused_with_462(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("USER other 0 * :Other")
    assert alice.take() == [reply(n.ERR_ALREADYREGISTERED, "alice", "You may not reregister")]


def test_pass_after_registration_is_refused_with_462(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PASS secret")
    assert alice.take() == [reply(n.ERR_ALREADYREGISTERED, "alice", "You may not reregister")]


def test_nick_with_no_parameter_is_refused_with_431(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK")
    assert client.take() == [reply(n.ERR_NONICKNAMEGIVEN, "*", "No nickname given")]
    client.send("NICK :")
    assert client.take() == [reply(n.ERR_NONICKNAMEGIVEN, "*", "No nickname given")]


@pytest.mark.parametrize(
    "nick",
    [
        "*",
        "1alice",
        "-alice",
        "a" * 31,
        "al,ice",
        "al*ce",
        "al!ce",
        "al@ce",
        "#alice",
        "al.ice",
    ],
)
def test_invalid_nick_is_refused_with_432_and_registration_waits(
    harness: Harness, nick: str
) -> None:
    client = harness.client()
    client.send(f"NICK {nick}")
    (refusal,) = client.take()
    assert refusal.command == n.ERR_ERRONEUSNICKNAME
    assert refusal.params[:2] == ("*", nick)
    assert refusal.params[2].startswith("Erroneous nickname")
    client.send("USER alice 0 * :Alice")
    assert client.take() == []
    assert not client.session.registered


@pytest.mark.parametrize("line", ["NICK :al ice", "NICK ::alice", "NICK :"])
def test_refused_nick_that_cannot_be_a_middle_parameter_still_gets_a_well_formed_432(
    harness: Harness, line: str
) -> None:
    """A nick with a space or a leading colon cannot be echoed as a middle parameter
    (modern IRC client protocol, "Parameters"): the 432 must still parse as
    ``<client> <nick> :<text>``, three parameters, and not split the nick apart."""
    client = harness.client()
    client.send(line)
    (refusal,) = client.take()
    if line == "NICK :":
        assert refusal == reply(n.ERR_NONICKNAMEGIVEN, "*", "No nickname given")
        return
    assert refusal.command == n.ERR_ERRONEUSNICKNAME
    assert len(refusal.params) == 3, refusal
    assert refusal.params[0] == "*"
    assert refusal.params[2].startswith("Erroneous nickname")


def test_nick_of_exactly_nicklen_characters_is_accepted(harness: Harness) -> None:
    nick = "a" * 30
    client = harness.client()
    client.send(f"NICK {nick}")
    client.send("USER a 0 * :A")
    assert client.take()[0].command == n.RPL_WELCOME
    assert client.session.client == nick


def test_unicode_nick_is_accepted(harness: Harness) -> None:
    client = harness.client()
    client.send(f"NICK {ANNA_CYRILLIC}")
    client.send("USER anna 0 * :Anna")
    assert client.take()[0] == reply(
        n.RPL_WELCOME,
        ANNA_CYRILLIC,
        f"Welcome to the hubbub IRC Network {ANNA_CYRILLIC}!~anna@{HOST}",
    )


@pytest.mark.parametrize("nick", [ANNA_MIXED, ALICE_MIXED])
def test_nick_mixing_cyrillic_and_latin_letters_is_refused_with_432(
    harness: Harness, nick: str
) -> None:
    client = harness.client()
    client.send(f"NICK {nick}")
    assert client.take() == [
        reply(
            n.ERR_ERRONEUSNICKNAME,
            "*",
            nick,
            "Erroneous nickname: nickname mixes Cyrillic and Latin",
        )
    ]


def test_nick_in_use_is_refused_with_433_whatever_its_case(harness: Harness) -> None:
    harness.register("alice")
    client = harness.client()
    client.send("NICK ALICE")
    assert client.take() == [
        reply(n.ERR_NICKNAMEINUSE, "*", "ALICE", "Nickname is already in use")
    ]
    client.send("NICK alice2")
    client.send("USER alice 0 * :Alice")
    assert client.take()[0].command == n.RPL_WELCOME


def test_look_alike_cyrillic_nick_collides_with_its_latin_twin_with_433(
    harness: Harness,
) -> None:
    harness.register("alice")
    client = harness.client()
    client.send(f"NICK {ALICE_CYRILLIC}")
    assert client.take() == [
        reply(n.ERR_NICKNAMEINUSE, "*", ALICE_CYRILLIC, "Nickname is already in use")
    ]


def test_latin_nick_collides_with_a_registered_cyrillic_look_alike(harness: Harness) -> None:
    harness.register(ALICE_CYRILLIC)
    client = harness.client()
    client.send("NICK alice")
    assert client.take() == [
        reply(n.ERR_NICKNAMEINUSE, "*", "alice", "Nickname is already in use")
    ]


def test_nick_taken_between_nick_and_user_is_refused_at_registration(harness: Harness) -> None:
    late = harness.client()
    late.send("NICK alice")
    harness.register("alice")
    late.send("USER alice 0 * :Alice")
    # The client's own nick (the first parameter) is the one it sent, as in 451.
    assert late.take() == [
        reply(n.ERR_NICKNAMEINUSE, "alice", "alice", "Nickname is already in use")
    ]
    assert not late.session.registered
    late.send("NICK alice2")
    assert late.take()[0].command == n.RPL_WELCOME


def test_nick_change_is_seen_by_the_user_and_channel_neighbours(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    alice.send("NICK alicia")
    assert alice.take() == [relay("alice", "NICK", "alicia")]
    assert bob.take() == [relay("alice", "NICK", "alicia")]


def test_nick_change_to_a_taken_nick_is_refused_with_433(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send("NICK Bob")
    assert alice.take() == [
        reply(n.ERR_NICKNAMEINUSE, "alice", "Bob", "Nickname is already in use")
    ]


def test_nick_change_to_own_nick_in_other_case_is_allowed(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("NICK Alice")
    assert alice.take() == [relay("alice", "NICK", "Alice")]


# -- PASS ------------------------------------------------------------------------------


def password_harness() -> Harness:
    return Harness(Settings(server_name=SERVER_NAME, password="sesame"))


def test_right_server_password_lets_the_client_register() -> None:
    harness = password_harness()
    client = harness.client()
    client.send("PASS sesame")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    assert welcome_codes(client) == WELCOME_ORDER


def test_wrong_server_password_is_refused_with_464_and_closed() -> None:
    harness = password_harness()
    client = harness.client()
    client.send("PASS wrong")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    assert client.take() == [
        reply(n.ERR_PASSWDMISMATCH, "alice", "Password incorrect"),
        Message("ERROR", (f"Closing link: (~alice@{HOST}) [Bad password]",)),
    ]
    assert client.closed
    assert harness.hub.find_user("alice") is None


def test_missing_server_password_is_refused_with_464_and_closed() -> None:
    harness = password_harness()
    client = harness.client()
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    assert client.take() == [
        reply(n.ERR_PASSWDMISMATCH, "alice", "Password incorrect"),
        Message("ERROR", (f"Closing link: (~alice@{HOST}) [Bad password]",)),
    ]
    assert client.closed


def test_pass_without_a_parameter_is_refused_with_461(harness: Harness) -> None:
    client = harness.client()
    client.send("PASS")
    assert client.take() == [reply(n.ERR_NEEDMOREPARAMS, "*", "PASS", "Not enough parameters")]


# -- CAP -------------------------------------------------------------------------------


def test_cap_ls_lists_the_supported_capabilities(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP LS")
    assert client.take() == [reply("CAP", "*", "LS", ALL_CAPS)]


def test_cap_ls_302_enables_cap_notify_implicitly(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP LS 302")
    with_values = " ".join(offered(302, history=False))
    assert client.take() == [reply("CAP", "*", "LS", with_values)]
    client.send("CAP LIST")
    assert client.take() == [reply("CAP", "*", "LIST", "cap-notify")]


def test_cap_negotiation_holds_registration_until_cap_end(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP LS 302")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    client.take()
    assert not client.session.registered
    client.send("CAP REQ :multi-prefix")
    assert client.take() == [reply("CAP", "alice", "ACK", "multi-prefix")]
    assert not client.session.registered
    client.send("CAP END")
    assert welcome_codes(client) == WELCOME_ORDER


def test_cap_req_alone_also_holds_registration(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP REQ :userhost-in-names")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    assert client.take() == [reply("CAP", "*", "ACK", "userhost-in-names")]
    client.send("CAP END")
    assert welcome_codes(client) == WELCOME_ORDER


def test_cap_req_of_several_capabilities_is_acked_whole(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP REQ :multi-prefix userhost-in-names")
    assert client.take() == [reply("CAP", "*", "ACK", "multi-prefix userhost-in-names")]
    client.send("CAP LIST")
    assert client.take() == [reply("CAP", "*", "LIST", "multi-prefix userhost-in-names")]


def test_cap_req_with_an_unknown_capability_is_naked_whole(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP REQ :multi-prefix bogus")
    assert client.take() == [reply("CAP", "*", "NAK", "multi-prefix bogus")]
    client.send("CAP LIST")
    assert client.take() == [reply("CAP", "*", "LIST", "")]


def test_cap_req_with_minus_disables_a_capability(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP REQ :multi-prefix")
    client.send("CAP REQ :-multi-prefix")
    assert client.take() == [
        reply("CAP", "*", "ACK", "multi-prefix"),
        reply("CAP", "*", "ACK", "-multi-prefix"),
    ]
    client.send("CAP LIST")
    assert client.take() == [reply("CAP", "*", "LIST", "")]


def test_cap_after_registration_does_not_hold_anything(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("CAP LS")
    assert alice.take() == [reply("CAP", "alice", "LS", ALL_CAPS)]
    alice.send("CAP REQ :multi-prefix")
    assert alice.take() == [reply("CAP", "alice", "ACK", "multi-prefix")]
    alice.send("CAP END")
    assert alice.take() == []
    assert pong(alice)


def test_cap_with_an_unknown_subcommand_is_refused_with_410(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP FROB")
    assert client.take() == [reply(n.ERR_INVALIDCAPCMD, "*", "FROB", "Invalid CAP command")]


def test_cap_without_a_subcommand_is_refused_with_461(harness: Harness) -> None:
    client = harness.client()
    client.send("CAP")
    assert client.take() == [reply(n.ERR_NEEDMOREPARAMS, "*", "CAP", "Not enough parameters")]


# -- PING, QUIT and unregistered commands ----------------------------------------------


def test_ping_before_registration_is_answered_with_pong(harness: Harness) -> None:
    client = harness.client()
    client.send("PING :hello there")
    assert client.take() == [reply("PONG", SERVER_NAME, "hello there")]


def test_ping_after_registration_is_answered_with_pong(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PING 12345")
    assert alice.take() == [reply("PONG", SERVER_NAME, "12345")]


def test_ping_without_a_token_is_refused_with_409(harness: Harness) -> None:
    client = harness.client()
    client.send("PING")
    assert client.take() == [reply(n.ERR_NOORIGIN, "*", "No origin specified")]
    alice = harness.register("alice")
    alice.send("PING")
    assert alice.take() == [reply(n.ERR_NOORIGIN, "alice", "No origin specified")]


def test_pong_gets_no_reply(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send(f"PONG {SERVER_NAME}")
    assert alice.take() == []


def test_quit_closes_with_error_and_neighbours_see_the_quit(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    alice.send("QUIT :see you")
    assert alice.take() == [
        Message("QUIT", ("Quit: see you",), f"alice!~alice@{HOST}"),
        Message("ERROR", (f"Closing link: (~alice@{HOST}) [Quit: see you]",)),
    ]
    assert alice.closed
    assert bob.take() == [relay("alice", "QUIT", "Quit: see you")]
    assert harness.hub.find_user("alice") is None


def test_quit_without_reason_reads_quit(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.send("QUIT")
    assert alice.take()[-1] == Message("ERROR", (f"Closing link: (~alice@{HOST}) [Quit]",))
    assert bob.take() == [relay("alice", "QUIT", "Quit")]


def test_quit_before_registration_closes_with_error(harness: Harness) -> None:
    client = harness.client()
    client.send("QUIT")
    assert client.take() == [Message("ERROR", (f"Closing link: (*@{HOST}) [Quit]",))]
    assert client.closed
    assert harness.ctx.unregistered == 0


def test_lines_after_quit_are_ignored(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("QUIT")
    alice.take()
    alice.send("PING x")
    assert alice.take() == []


@pytest.mark.parametrize(
    "line",
    ["JOIN #c", "PRIVMSG bob :hi", "MODE alice", "WHOIS bob", "AWAY :gone", "LIST", "FROB"],
)
def test_commands_before_registration_are_refused_with_451(harness: Harness, line: str) -> None:
    client = harness.client()
    client.send(line)
    assert client.take() == [reply(n.ERR_NOTREGISTERED, "*", "You have not registered")]


def test_451_names_the_nick_once_it_is_given(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK alice")
    client.send("JOIN #c")
    assert client.take() == [reply(n.ERR_NOTREGISTERED, "alice", "You have not registered")]


def test_unknown_command_after_registration_is_refused_with_421(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("FROBNICATE a b c")
    assert alice.take() == [reply(n.ERR_UNKNOWNCOMMAND, "alice", "FROBNICATE", "Unknown command")]


def test_commands_are_case_insensitive(harness: Harness) -> None:
    client = harness.client()
    client.send("nick alice")
    client.send("user alice 0 * :Alice")
    assert welcome_codes(client) == WELCOME_ORDER
    client.send("ping tok")
    assert client.take() == [reply("PONG", SERVER_NAME, "tok")]


def test_registered_user_is_shown_with_its_mask(harness: Harness) -> None:
    harness.register("alice")
    user = harness.hub.find_user("ALICE")
    assert user is not None
    assert user.mask == mask("alice")
