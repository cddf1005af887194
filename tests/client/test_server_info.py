"""The server's numeric replies in words: the welcome burst, LUSERS, the MOTD, WHOIS and
the answers to queries, fed as lines with no sockets."""

from __future__ import annotations

import pytest

from hubbub.client.incoming import receive
from hubbub.client.state import ChatState, LineKind
from hubbub.client.text import duration
from hubbub.wire.casemap import Key
from hubbub.wire.message import parse

NOW = 1_700_000_000.0


@pytest.fixture
def state() -> ChatState:
    return ChatState("anna", "irc.test", clock=lambda: NOW)


def feed(state: ChatState, *lines: str) -> None:
    for line in lines:
        receive(state, parse(line.encode()))


def shown(state: ChatState, key: str = "*") -> list[tuple[LineKind, str]]:
    return [(line.kind, line.text) for line in state.buffers[Key(key)].lines]


def test_the_welcome_burst_reads_as_sentences(state: ChatState) -> None:
    feed(
        state,
        ":irc.test 001 anna :Welcome to the hubbub IRC Network anna!~anna@127.0.0.1",
        ":irc.test 002 anna :Your host is irc.test, running version hubbub-0.1.0",
        ":irc.test 004 anna irc.test hubbub-0.1.0 Biorw CIbeiklmnopstv Ibeklov",
        ":irc.test 005 anna NETWORK=hubbub :are supported by this server",
        ":irc.test 251 anna :There are 1 users and 0 invisible on 1 servers",
        ":irc.test 252 anna 0 :operator(s) online",
        ":irc.test 253 anna 0 :unknown connection(s)",
        ":irc.test 254 anna 3 :channels formed",
        ":irc.test 255 anna :I have 1 clients and 0 servers",
        ":irc.test 265 anna 1 1 :Current local users 1, max 1",
        ":irc.test 266 anna 1 1 :Current global users 1, max 1",
        ":irc.test 375 anna :- irc.test Message of the day - ",
        ":irc.test 372 anna :- Welcome to hubbub.",
        ":irc.test 376 anna :End of /MOTD command.",
    )
    assert shown(state) == [
        (LineKind.INFO, "Welcome to the hubbub IRC Network anna"),
        (LineKind.DETAIL, "Your host is irc.test, running version hubbub-0.1.0"),
        (LineKind.INFO, "3 channels open"),
        (LineKind.INFO, "1 user online (max 1)"),
        (LineKind.INFO, "Welcome to hubbub."),
    ]


def test_older_user_counts_and_operators_online(state: ChatState) -> None:
    feed(
        state,
        ":irc.test 252 anna 2 :operator(s) online",
        ":irc.test 254 anna 1 :channels formed",
        ":irc.test 266 anna :Current global users: 12  Max: 40",
    )
    assert [text for _, text in shown(state)] == [
        "2 operators online",
        "1 channel open",
        "12 users online (max 40)",
    ]


def test_a_missing_motd_is_no_error(state: ChatState) -> None:
    feed(state, ":irc.test 422 anna :MOTD File is missing")
    assert shown(state) == []


def test_numerics_without_words_are_shown_quietly_and_errors_still_stand_out(
    state: ChatState,
) -> None:
    feed(
        state,
        ":irc.test 042 anna 0AAAAAAAA :your unique ID",
        ":irc.test 499 anna #x :You're not a channel owner",
    )
    assert shown(state) == [
        (LineKind.DETAIL, "0AAAAAAAA your unique ID"),
        (LineKind.ERROR, "#x You're not a channel owner"),
    ]


def test_whois_reads_as_sentences_with_times_in_words(state: ChatState) -> None:
    signon = int(NOW) - 3600
    feed(
        state,
        ":irc.test 311 anna bob ~bob 127.0.0.1 * :Bob Smith",
        ":irc.test 319 anna bob :@#lobby #rust",
        ":irc.test 312 anna bob irc.test :hubbub chat server",
        ":irc.test 330 anna bob bobby :is logged in as",
        f":irc.test 317 anna bob 330 {signon} :seconds idle, signon time",
        ":irc.test 671 anna bob :is using a secure connection",
        ":irc.test 318 anna bob :End of /WHOIS list",
    )
    texts = [text for _, text in shown(state)]
    assert texts[:4] == [
        "bob is ~bob@127.0.0.1 (Bob Smith)",
        "bob is in @#lobby #rust",
        "bob is on irc.test (hubbub chat server)",
        "bob is logged in as bobby",
    ]
    assert texts[4].startswith("bob has been idle 5 minutes, connected since ")
    assert str(signon) not in texts[4]
    assert texts[5:] == ["bob is using a secure connection"]


def test_answers_to_queries_read_as_sentences(state: ChatState) -> None:
    feed(
        state,
        ":irc.test 351 anna hubbub-0.1.0 irc.test :https://hubbub.chat",
        ":irc.test 303 anna :bob",
        ":irc.test 303 anna :",
        ":irc.test 302 anna :bob*=-~b@host",
        ":irc.test 221 anna +i",
    )
    assert [text for _, text in shown(state)] == [
        "irc.test runs hubbub-0.1.0 (https://hubbub.chat)",
        "Online: bob",
        "None of them is online",
        "bob is ~b@host (an operator) (away)",
        "Your modes: +i",
    ]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (3600, "1 hour"),
        (3660 + 59, "1 hour 1 minute"),
        (86400 * 3 + 3600 * 4, "3 days 4 hours"),
    ],
)
def test_durations_in_words(seconds: int, words: str) -> None:
    assert duration(seconds) == words
