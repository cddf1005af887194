"""Malformed, oversized and hostile input to an IRC session.

Whatever a client sends, the session answers it alone (with a numeric, a FAIL or
nothing), never raises, and every other user carries on as before.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.wire import numerics as n
from hubbub.wire.errors import LineTooLong
from hubbub.wire.lines import LineBuffer
from hubbub.wire.message import Message, parse
from tests.doors.irc.support import lines, mask, pong, relay, reply
from tests.helpers import SERVER_NAME, FakeClient, Harness

TOO_LONG = reply(n.ERR_INPUTTOOLONG, "alice", "Input line was too long")


@pytest.fixture
def pair(harness: Harness) -> tuple[FakeClient, FakeClient]:
    """alice (operator of #c) and bob, both in #c, with nothing pending."""
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    return alice, bob


def still_talking(alice: FakeClient, bob: FakeClient) -> None:
    """Both sessions still work: PING answers, and a PRIVMSG goes through unchanged."""
    assert pong(alice)
    assert pong(bob)
    alice.send("PRIVMSG #c :still here")
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "still here")]


def no_bare_cr_or_lf(raw: bytes) -> bool:
    """Whether every CR and LF in ``raw`` is part of a CR LF line terminator."""
    return b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")


def only_genuine_lines(raw: bytes, *nicks: str) -> bool:
    """Whether ``raw``, split the way a lenient client splits it (at CR LF, CR or LF),
    holds only lines from the server or from ``nicks``: nothing injected."""
    sources = (f":{SERVER_NAME} ".encode(), *(f":{mask(nick)} ".encode() for nick in nicks))
    pieces = [piece for piece in re.split(rb"\r\n|\r|\n", raw) if piece]
    return all(piece.startswith((*sources, b"ERROR ")) for piece in pieces)


# -- lines that are not messages -------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b" ",
        b"      ",
        b":",
        b": ",
        b":source",
        b":source ",
        b"@",
        b"@a=b",
        b"@a=b ",
        b"@a :x",
    ],
)
def test_lines_without_a_command_are_ignored(
    pair: tuple[FakeClient, FakeClient], line: bytes
) -> None:
    """Modern IRC client protocol: "servers SHOULD gracefully ignore empty messages"."""
    alice, bob = pair
    alice.send(line)
    assert alice.take() == []
    assert bob.take() == []
    still_talking(alice, bob)


def test_line_with_a_nul_byte_is_not_relayed(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send(b"PRIVMSG #c :before\x00after")
    assert bob.take() == []
    still_talking(alice, bob)


def test_nul_byte_in_a_nick_does_not_register_it(harness: Harness) -> None:
    client = harness.client()
    client.send(b"NICK ali\x00ce")
    client.send(b"USER a 0 * :A")
    assert not client.session.registered
    client.send("NICK alice")
    assert client.take()[-1].command == n.RPL_ENDOFMOTD


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (b"PRIVMSG #c :caf\xe9", "PRIVMSG"),
        (b"privmsg #c :\xff\xfe", "PRIVMSG"),
        (b"@tag=1 :src NOTICE #c :\xc3", "NOTICE"),
        (b"\xff\xfe PRIVMSG", "*"),
    ],
)
def test_invalid_utf8_is_refused_with_fail_invalid_utf8(
    pair: tuple[FakeClient, FakeClient], line: bytes, command: str
) -> None:
    alice, bob = pair
    alice.send(line)
    assert alice.take() == [
        reply(
            "FAIL",
            command,
            "INVALID_UTF8",
            "Message rejected, your message contained invalid UTF-8",
        )
    ]
    assert bob.take() == []
    still_talking(alice, bob)


def test_invalid_utf8_before_registration_is_refused_too(harness: Harness) -> None:
    client = harness.client()
    client.send(b"NICK \xe9l\xe9onore")
    assert client.take() == [
        reply(
            "FAIL",
            "NICK",
            "INVALID_UTF8",
            "Message rejected, your message contained invalid UTF-8",
        )
    ]
    assert not client.session.registered


# -- lengths ---------------------------------------------------------------------------


def test_line_of_510_bytes_is_accepted(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    head = "PRIVMSG #c :"
    text = "x" * (510 - len(head))
    alice.send(head + text)
    assert alice.take() == []
    (relayed,) = bob.take()
    assert relayed.command == "PRIVMSG"
    assert text.startswith(relayed.params[1])


@pytest.mark.parametrize("size", [511, 512, 1000, 100_000])
def test_line_over_510_bytes_is_refused_with_417(
    pair: tuple[FakeClient, FakeClient], size: int
) -> None:
    alice, bob = pair
    head = "PRIVMSG #c :"
    alice.send(head + "x" * (size - len(head)))
    assert alice.take() == [TOO_LONG]
    assert bob.take() == []
    still_talking(alice, bob)


def test_line_too_long_from_the_line_buffer_is_refused_with_417(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.session.receive_line(LineTooLong("line over 8703 bytes"))
    assert alice.take() == [TOO_LONG]
    still_talking(alice, bob)


def test_long_line_before_registration_is_refused_with_417(harness: Harness) -> None:
    client = harness.client()
    client.send("NICK " + "a" * 600)
    assert client.take() == [reply(n.ERR_INPUTTOOLONG, "*", "Input line was too long")]


def test_tags_do_not_count_against_the_512_byte_limit(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    tags = "@" + "a=" + "v" * 4000 + " "
    head = "PRIVMSG #c :"
    alice.send(tags + head + "x" * (510 - len(head)))
    assert alice.take() == []
    assert [m.command for m in bob.take()] == ["PRIVMSG"]


def test_client_tag_data_of_4094_bytes_is_accepted(pair: tuple[FakeClient, FakeClient]) -> None:
    """IRCv3 message-tags: "Clients MUST NOT send messages with tag data exceeding 4094
    bytes" - the data between the leading '@' and the space."""
    alice, bob = pair
    data = "a=" + "v" * (4094 - 2)
    alice.send(f"@{data} PRIVMSG #c :tagged")
    assert alice.take() == []
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "tagged")]


@pytest.mark.parametrize("size", [4095, 8191, 8192, 20_000])
def test_client_tag_data_over_4094_bytes_is_refused_with_417(
    pair: tuple[FakeClient, FakeClient], size: int
) -> None:
    alice, bob = pair
    data = "a=" + "v" * (size - 2)
    alice.send(f"@{data} PRIVMSG #c :tagged")
    assert alice.take() == [TOO_LONG]
    assert bob.take() == []
    still_talking(alice, bob)


def test_oversized_tag_section_without_a_command_is_refused_with_417(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("@a=" + "v" * 9000)
    assert alice.take() == [TOO_LONG]
    still_talking(alice, bob)


@pytest.mark.parametrize("tags", ["@=value", "@;=x", "@a=b;=c"])
def test_broken_tags_get_400_and_the_message_is_dropped(
    pair: tuple[FakeClient, FakeClient], tags: str
) -> None:
    alice, bob = pair
    alice.send(f"{tags} PRIVMSG #c :hi")
    assert [m.command for m in alice.take()] == [n.ERR_UNKNOWNERROR]
    assert bob.take() == []
    still_talking(alice, bob)


def test_unknown_command_reply_stays_within_512_bytes(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("X" * 510)
    raw = lines(alice)
    assert [parse(line).command for line in raw] == [n.ERR_UNKNOWNCOMMAND]
    assert all(len(line) + 2 <= 512 for line in raw), [len(line) for line in raw]
    still_talking(alice, bob)


# -- many parameters, targets and letters ----------------------------------------------


def test_hundreds_of_parameters_use_the_first_ones(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    words = " ".join(f"w{i % 10}" for i in range(160))
    alice.send(f"PRIVMSG #c {words}")
    assert bob.take() == [relay("alice", "PRIVMSG", "#c", "w0")]
    still_talking(alice, bob)


def test_500_parameters_are_refused_with_417(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("PRIVMSG #c " + " ".join(["p"] * 500))
    assert alice.take() == [TOO_LONG]
    assert bob.take() == []


def test_join_of_a_huge_channel_list_stops_at_chanlimit(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    names = [f"#{i}" for i in range(120)]
    line = "JOIN " + ",".join(names)
    assert len(line) <= 510
    bob.send(line)
    replies = bob.take()
    joined = [m.params[0] for m in replies if m.command == "JOIN"]
    refused = [m for m in replies if m.command == n.ERR_TOOMANYCHANNELS]
    assert joined == names[:49]
    assert refused == [
        reply(n.ERR_TOOMANYCHANNELS, "bob", name, "You have joined too many channels")
        for name in names[49:]
    ]
    assert alice.take() == []
    still_talking(alice, bob)


def test_join_of_a_list_of_empty_names_does_nothing(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("JOIN " + "," * 400)
    assert bob.take() == []
    still_talking(alice, bob)


def test_privmsg_to_hundreds_of_targets_stops_at_maxtargets(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("PRIVMSG " + ",".join(["bob"] * 100) + " :flood")
    assert alice.take() == []  # one target, named a hundred times
    assert bob.take() == [relay("alice", "PRIVMSG", "bob", "flood")]
    alice.send("PRIVMSG bob," + ",".join(f"n{k}" for k in range(99)) + " :flood")
    refused = alice.take()
    assert refused[0] == reply(n.ERR_TOOMANYTARGETS, "alice", "n3", "Too many targets, at most 4")
    assert [m.command for m in refused[1:]] == [n.ERR_NOSUCHNICK] * 3
    assert bob.take() == [relay("alice", "PRIVMSG", "bob", "flood")]


def test_mode_with_hundreds_of_flag_letters_is_one_change(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("MODE #c +" + "im" * 200)
    expected = [relay("alice", "MODE", "#c", "+im")]
    assert alice.take() == expected
    assert bob.take() == expected


def test_mode_with_hundreds_of_unknown_letters_answers_472_once_per_letter(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    """A 410-byte MODE must not make the server answer with 400 lines."""
    alice, bob = pair
    alice.send("MODE #c +" + "z" * 400)
    assert alice.take() == [reply(n.ERR_UNKNOWNMODE, "alice", "z", "is an unknown mode character")]
    assert bob.take() == []


def test_mode_with_hundreds_of_list_letters_queries_the_list_once(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    bob.send("MODE #c " + "b" * 400)
    assert bob.take() == [reply(n.RPL_ENDOFBANLIST, "bob", "#c", "End of channel ban list")]
    assert alice.take() == []


def test_mode_with_hundreds_of_status_letters_and_no_nicks_does_nothing(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("MODE #c +" + "ov" * 200)
    assert alice.take() == []
    assert bob.take() == []


def test_mode_with_hundreds_of_ops_stops_at_the_modes_limit(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("MODE #c +" + "v" * 100 + " " + " ".join(["bob"] * 100))
    expected = [relay("alice", "MODE", "#c", "+v", "bob")]
    assert alice.take() == expected
    assert bob.take() == expected


def test_user_mode_with_hundreds_of_letters_answers_once(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("MODE alice +" + "iz" * 200)
    assert alice.take() == [
        reply(n.ERR_UMODEUNKNOWNFLAG, "alice", "Unknown MODE flag"),
        Message("MODE", ("alice", "+i"), "alice"),
    ]


def test_kick_of_hundreds_of_nicks_is_bounded(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("KICK #c " + ",".join(["ghost"] * 80))
    replies = alice.take()
    assert 1 <= len(replies) <= 4
    assert all(m.command == n.ERR_USERNOTINCHANNEL for m in replies)
    assert bob.take() == []


# -- line injection --------------------------------------------------------------------


INJECTIONS = [
    b"PRIVMSG #c :hi\r\n:evil!e@e PRIVMSG bob :owned",
    b"PRIVMSG #c :hi\rQUIT :owned",
    b"PRIVMSG #c :hi\nQUIT :owned",
    b"NOTICE #c :hi\r:evil!e@e KICK #c bob",
    b"PRIVMSG bob :hi\r\nPING x",
    b"TOPIC #c :topic\r\nQUIT :owned",
    b"PART #c :bye\r\nQUIT :owned",
    b"KICK #c bob :out\r\nQUIT :owned",
    b"QUIT :gone\r\nPRIVMSG #c :owned",
]


@pytest.mark.parametrize("line", INJECTIONS)
def test_cr_or_lf_inside_a_line_never_reaches_others_as_a_line_break(
    pair: tuple[FakeClient, FakeClient], line: bytes
) -> None:
    alice, bob = pair
    alice.send(line)
    assert only_genuine_lines(bob.take_raw(), "alice", "bob")
    assert only_genuine_lines(alice.take_raw(), "alice", "bob")


def test_cr_in_an_away_message_never_reaches_others_as_a_line_break(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    bob.send(b"AWAY :lunch\r:evil!e@e PRIVMSG alice :owned")
    bob.take()
    alice.send("PRIVMSG bob :there?")
    alice.send("WHOIS bob")
    assert only_genuine_lines(alice.take_raw(), "alice", "bob")


def test_cr_in_a_realname_never_reaches_others_as_a_line_break(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    mallory = harness.client()
    mallory.send(b"NICK mallory")
    mallory.send(b"USER m 0 * :Mal\r\n:evil!e@e PRIVMSG alice :owned")
    mallory.send(b"JOIN #c")
    alice.take()
    alice.send("WHOIS mallory")
    alice.send("WHO #c")
    alice.send("WHO #c %r")
    assert only_genuine_lines(alice.take_raw(), "alice", "mallory")


def test_cr_in_a_nick_or_channel_is_refused(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send(b"NICK al\rice")
    alice.send(b"JOIN #a\rb")
    replies = alice.take()
    # A line with CR inside is refused whole, before any command sees it.
    assert [m.command for m in replies] == [n.ERR_UNKNOWNERROR, n.ERR_UNKNOWNERROR]
    assert alice.session.user is not None
    assert alice.session.user.nick == "alice"
    assert bob.take() == []


# -- any bytes at all ------------------------------------------------------------------


def _fresh_pair() -> tuple[Harness, FakeClient, FakeClient, FakeClient]:
    harness = Harness()
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    carol = harness.register("carol", "#c")
    for client in (alice, bob, carol):
        client.take()
    return harness, alice, bob, carol


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=700))
def test_any_bytes_framed_into_lines_never_break_the_session(data: bytes) -> None:
    harness, alice, bob, carol = _fresh_pair()
    for line in LineBuffer(8191 + 512).feed(data + b"\r\n"):
        alice.session.receive_line(line)
    for raw in alice.take_raw().split(b"\r\n"):
        if raw:
            parse(raw)
    bob.take()
    carol.send("PRIVMSG #c :after the noise")
    assert bob.take() == [relay("carol", "PRIVMSG", "#c", "after the noise")]
    if alice.session.registered and harness.hub.find_user("alice") is not None:
        alice.send("PING alive")
        assert alice.take()[-1] == reply("PONG", "irc.test", "alive")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.sampled_from(
        [
            b"PRIVMSG",
            b"NOTICE",
            b"JOIN",
            b"PART",
            b"MODE",
            b"TOPIC",
            b"KICK",
            b"INVITE",
            b"WHO",
            b"WHOIS",
            b"WHOWAS",
            b"NAMES",
            b"LIST",
            b"AWAY",
            b"NICK",
            b"USER",
            b"CAP",
            b"ISON",
            b"USERHOST",
            b"HELP",
            b"OPER",
            b"KILL",
            b"PING",
        ]
    ),
    rest=st.binary(max_size=500),
)
def test_any_parameters_to_any_command_never_break_the_session(
    command: bytes, rest: bytes
) -> None:
    _, alice, bob, carol = _fresh_pair()
    alice.send(command + b" " + rest.replace(b"\r", b"").replace(b"\n", b""))
    for raw in alice.take_raw().split(b"\r\n"):
        if raw:
            parse(raw)
    assert no_bare_cr_or_lf(bob.take_raw())
    carol.send("PRIVMSG #c :after the noise")
    assert bob.take() == [relay("carol", "PRIVMSG", "#c", "after the noise")]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_any_bytes_before_registration_never_break_the_session(data: bytes) -> None:
    harness = Harness()
    client = harness.client()
    for line in LineBuffer(8191 + 512).feed(data + b"\r\n"):
        client.session.receive_line(line)
    client.take_raw()
    if not client.closed and not client.session.registered:
        client.send("NICK latecomer")
        client.send("USER late 0 * :Late")
    bob = harness.register("bob")
    assert bob.session.registered


# -- echoed parameters -----------------------------------------------------------------

# Each line sends a name with a space or a leading colon, which the reply echoes as a
# middle parameter; the reply's numeric and its parameter count, client nick included.
ECHOES = [
    ("WHOIS :a b", [(n.ERR_NOSUCHNICK, 3), (n.RPL_ENDOFWHOIS, 3)]),
    ("WHOIS ::x", [(n.ERR_NOSUCHNICK, 3), (n.RPL_ENDOFWHOIS, 3)]),
    ("WHOWAS ::x", [(n.ERR_WASNOSUCHNICK, 3), (n.RPL_ENDOFWHOWAS, 3)]),
    ("HELP :a b", [(n.ERR_HELPNOTFOUND, 3)]),
    ("TOPIC :#a b", [(n.ERR_NOSUCHCHANNEL, 3)]),
    ("PART ::x", [(n.ERR_NOSUCHCHANNEL, 3)]),
    ("JOIN ::x", [(n.ERR_BADCHANMASK, 3)]),
    ("MODE ::x", [(n.ERR_NOSUCHNICK, 3)]),
    ("KICK #c ::x", [(n.ERR_USERNOTINCHANNEL, 4)]),
    # "::x #c" is one trailing parameter ":x #c": INVITE lacks its second one.
    ("INVITE ::x #c", [(n.ERR_NEEDMOREPARAMS, 3)]),
    ("NAMES :#a b", [(n.RPL_ENDOFNAMES, 3)]),
    ("WHO :a b", [(n.RPL_ENDOFWHO, 3)]),
    ("WHO ::x", [(n.RPL_ENDOFWHO, 3)]),
    ("CAP :a b", [(n.ERR_INVALIDCAPCMD, 3)]),
]


@pytest.mark.parametrize(("line", "expected"), ECHOES)
def test_echoed_names_with_spaces_or_colons_keep_replies_well_formed(
    pair: tuple[FakeClient, FakeClient], line: str, expected: list[tuple[str, int]]
) -> None:
    """Modern IRC client protocol, "Parameters": only the last parameter may contain a
    space or start with a colon, so an echoed name must not shift the reply's parameters."""
    alice, bob = pair
    alice.send(line)
    assert [(m.command, len(m.params)) for m in alice.take()] == expected
    assert bob.take() == []
