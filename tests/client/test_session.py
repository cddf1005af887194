"""Registration, capabilities, SASL, PING and commands, bytes in and bytes out."""

from __future__ import annotations

import base64

import pytest

from hubbub.client.commands import submit
from hubbub.client.config import Network
from hubbub.client.session import IrcSession
from hubbub.client.state import ChatState, Focus, LineKind, QuitRequested, ShowHelp
from hubbub.wire.casemap import Key
from hubbub.wire.message import Message, parse


class Wire:
    """A session with what it sends captured and parsed."""

    def __init__(self, network: Network) -> None:
        self.sent: list[bytes] = []
        self.session = IrcSession(network, ChatState(network.nick, network.name))
        self.session.connection_made(self.sent.append)

    def feed(self, *lines: str) -> None:
        self.session.receive_data(b"".join(line.encode() + b"\r\n" for line in lines))

    def take(self) -> list[Message]:
        out = [parse(raw.rstrip(b"\r\n")) for raw in self.sent]
        self.sent.clear()
        return out

    def lines(self) -> list[str]:
        return [raw.decode().rstrip("\r\n") for raw in self.take_raw()]

    def take_raw(self) -> list[bytes]:
        out, self.sent[:] = list(self.sent), []
        return out


@pytest.fixture
def wire() -> Wire:
    return Wire(Network("net", nick="anna", username="anna", realname="Anna", join=("#rust",)))


def register(wire: Wire) -> None:
    wire.feed(":irc.test CAP * LS :server-time")
    wire.take()
    wire.feed(":irc.test CAP * ACK :server-time", ":irc.test 001 anna :Welcome")
    wire.take()


def test_registration_starts_with_cap_ls_nick_and_user(wire: Wire) -> None:
    assert wire.lines() == ["CAP LS 302", "NICK anna", "USER anna 0 * Anna"]


def test_only_offered_wanted_caps_are_requested_across_multiline_ls(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test CAP * LS * :server-time echo-message foo sasl=PLAIN")
    assert wire.take() == []
    wire.feed(":irc.test CAP * LS :batch draft/chathistory multi-prefix")
    assert wire.lines() == [
        "CAP REQ :server-time echo-message batch multi-prefix draft/chathistory"
    ]
    wire.feed(":irc.test CAP anna ACK :server-time echo-message batch multi-prefix")
    assert wire.lines() == ["CAP END"]
    assert "echo-message" in wire.session.enabled


def test_nothing_wanted_ends_cap_at_once(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test CAP * LS :foo bar")
    assert wire.lines() == ["CAP END"]


def test_cap_nak_ends_negotiation(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test CAP * LS :server-time", ":irc.test CAP * NAK :server-time")
    assert wire.lines() == ["CAP REQ server-time", "CAP END"]


def test_sasl_plain_when_an_account_is_configured() -> None:
    wire = Wire(Network("net", nick="anna", account="anna", password="secret"))
    wire.take()
    wire.feed(":irc.test CAP * LS :sasl=PLAIN server-time")
    assert wire.lines() == ["CAP REQ :server-time sasl"]
    wire.feed(":irc.test CAP * ACK :server-time sasl")
    assert wire.lines() == ["AUTHENTICATE PLAIN"]
    wire.feed("AUTHENTICATE +")
    sent = wire.take()
    assert sent[0].command == "AUTHENTICATE"
    # The device rides on the name logged in as (hubbub's multiclient).
    assert base64.b64decode(sent[0].params[0]) == b"anna\0anna@chat\0secret"
    wire.feed(":irc.test 900 anna anna!a@h anna :You are now logged in", ":irc.test 903 anna :ok")
    assert wire.lines() == ["CAP END"]


def test_sasl_failure_is_shown_and_registration_goes_on() -> None:
    wire = Wire(Network("net", nick="anna", account="anna", password="wrong", device="desk"))
    wire.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
    assert base64.b64decode(wire.take()[-1].params[0]) == b"anna\0anna@desk\0wrong"
    # A server that names no devices refuses account@device: the bare account is tried.
    wire.feed(":irc.test 904 anna :SASL authentication failed")
    assert wire.lines() == ["AUTHENTICATE PLAIN"]
    wire.feed("AUTHENTICATE +")
    assert base64.b64decode(wire.take()[-1].params[0]) == b"anna\0anna\0wrong"
    wire.feed(":irc.test 904 anna :SASL authentication failed")
    assert wire.lines() == ["CAP END"]
    server = wire.session.state.buffers[Key("*")]
    assert server.lines[-1].kind is LineKind.ERROR


def test_a_refusal_is_not_tried_again_bare_where_a_device_logged_in_before() -> None:
    wire = Wire(Network("net", nick="anna", account="anna", password="pw", device="desk"))
    wire.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
    wire.feed(":irc.test 900 anna anna!a@h anna :logged in", ":irc.test 903 anna :ok")
    wire.session.connection_lost("gone")
    wire.session.connection_made(wire.sent.append)
    wire.take()
    # The password was changed elsewhere: one failure, not a second for the bare name.
    wire.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
    assert base64.b64decode(wire.take()[-1].params[0]) == b"anna\0anna@desk\0pw"
    wire.feed(":irc.test 904 anna :SASL authentication failed")
    assert wire.lines() == ["CAP END"]


@pytest.mark.parametrize(
    ("host", "tls", "asked"),
    [
        ("irc.example.org", False, False),
        ("192.0.2.7", False, False),
        ("irc.example.org", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("localhost", False, True),
    ],
)
def test_a_password_goes_only_over_tls_or_to_this_machine(
    host: str, tls: bool, asked: bool
) -> None:
    network = Network("net", host=host, tls=tls, nick="anna", account="anna", password="pw")
    wire = Wire(network)
    wire.take()
    wire.feed(":irc.test CAP * LS :sasl=PLAIN")
    assert wire.lines() == (["CAP REQ sasl"] if asked else ["CAP END"])
    notes = [line.text for line in wire.session.state.buffers[Key("*")].lines]
    assert any("unencrypted" in text for text in notes) is not asked


def test_sasl_is_not_requested_without_an_account(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test CAP * LS :sasl")
    assert wire.lines() == ["CAP END"]


def test_nick_in_use_during_registration_tries_another(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test 433 * anna :Nickname is already in use")
    assert wire.lines() == ["NICK anna_"]
    wire.feed(":irc.test 433 * anna_ :Nickname is already in use")
    assert wire.lines() == ["NICK anna__"]
    wire.feed(":irc.test 433 * anna__ :Nickname is already in use")
    assert wire.lines() == ["NICK anna1"]
    wire.feed(":irc.test 001 anna1 :Welcome")
    assert wire.session.state.nick == "anna1"


def test_nick_in_use_after_registration_is_only_shown(wire: Wire) -> None:
    register(wire)
    wire.feed(":irc.test 433 anna bob :Nickname is already in use")
    assert wire.take() == []
    assert wire.session.state.current.lines[-1].kind is LineKind.ERROR


def test_ping_is_answered(wire: Wire) -> None:
    wire.take()
    wire.feed("PING :token 123")
    assert wire.lines() == ["PONG :token 123"]


def test_welcome_joins_the_configured_channels(wire: Wire) -> None:
    register(wire)
    wire.feed(":anna!a@h JOIN #rust")
    assert wire.session.state.buffers[Key("#rust")].joined


def test_join_asks_for_history_when_offered() -> None:
    wire = Wire(Network("net", nick="anna"))
    wire.feed(
        ":irc.test CAP * LS :batch draft/chathistory",
        ":irc.test CAP * ACK :batch draft/chathistory",
        ":irc.test 001 anna :Welcome",
        ":anna!a@h JOIN #rust",
    )
    assert wire.lines()[-1] == "CHATHISTORY LATEST #rust * 50"


LOBBY_005 = ":irc.test 005 anna NETWORK=Test hubbub/LOBBY=#lobby :are supported"


def test_with_no_channel_configured_the_advertised_lobby_is_joined_after_the_motd() -> None:
    wire = Wire(Network("net", nick="anna"))
    register(wire)
    wire.feed(LOBBY_005, ":irc.test 375 anna :- MOTD -")
    assert wire.lines() == []  # the welcome burst is not over yet
    wire.feed(":irc.test 376 anna :End of /MOTD command.")
    assert wire.lines() == ["JOIN #lobby"]
    assert Key("#lobby") in wire.session.state.focus_on_join


def test_configured_channels_win_over_the_lobby(wire: Wire) -> None:
    register(wire)
    wire.feed(LOBBY_005, ":irc.test 422 anna :MOTD File is missing")
    assert "JOIN #lobby" not in wire.lines()


def test_without_a_lobby_nothing_is_joined_and_the_client_says_how() -> None:
    wire = Wire(Network("net", nick="anna"))
    register(wire)
    wire.feed(":irc.test 005 anna NETWORK=Test :are supported", ":irc.test 422 anna :No MOTD")
    assert wire.lines() == []
    assert "/join #name" in wire.session.state.buffers[Key("*")].lines[-1].text


def logged_in() -> Wire:
    """A session logged in with SASL, registered, its welcome burst read to the MOTD."""
    wire = Wire(Network("net", nick="anna", account="anna", password="pw", device="desk"))
    wire.feed(
        ":irc.test CAP * LS :sasl draft/read-marker", ":irc.test CAP * ACK :sasl draft/read-marker"
    )
    wire.feed("AUTHENTICATE +", ":irc.test 903 anna :ok", ":irc.test 001 anna :Welcome", LOBBY_005)
    wire.take()
    wire.feed(":irc.test 376 anna :End of /MOTD command.")
    return wire


def test_logged_in_the_lobby_waits_for_an_attachs_channels() -> None:
    wire = logged_in()
    # Attached to the account's user, its channels come after the MOTD: PING first.
    assert wire.lines() == ["PING hubbub-landing"]
    wire.feed(":anna!a@h JOIN #rust", ":anna!a@h JOIN #go", ":irc.test PONG irc.test :other")
    assert not any(line.startswith("JOIN") for line in wire.lines())
    updates = wire.session.receive_data(b":irc.test PONG irc.test :hubbub-landing\r\n")
    assert not any(line.startswith("JOIN") for line in wire.lines())
    assert Focus(Key("#go")) in updates


def test_logged_in_and_not_attached_the_lobby_is_joined_after_the_pong() -> None:
    wire = logged_in()
    wire.take()
    wire.feed(":irc.test PONG irc.test :hubbub-landing")
    assert wire.lines() == ["JOIN #lobby"]


def test_what_the_user_has_seen_is_told_once_with_markread() -> None:
    wire = logged_in()
    wire.feed(
        ":irc.test PONG irc.test :hubbub-landing",
        ":anna!a@h JOIN #lobby",
        "@time=2024-05-01T12:00:00.250Z :bob!b@h PRIVMSG #lobby :hi",
        ":bob!b@h JOIN #lobby",
    )
    wire.take()
    wire.session.seen(Key("#lobby"))
    wire.session.seen(Key("#lobby"))  # nothing new since
    wire.session.seen(Key("*"))  # the server's buffer has no marker
    assert wire.lines() == ["MARKREAD #lobby timestamp=2024-05-01T12:00:00.250Z"]


def test_the_lobby_is_joined_once_not_again_after_a_reconnection() -> None:
    wire = Wire(Network("net", nick="anna"))
    register(wire)
    wire.feed(LOBBY_005, ":irc.test 376 anna :End", ":anna!a@h JOIN #lobby")
    wire.feed(":anna!a@h PART #lobby")  # the user left it
    wire.session.connection_lost("reset")
    wire.session.connection_made(wire.sent.append)
    wire.take()
    wire.feed(
        ":irc.test CAP * LS :", ":irc.test 001 anna :Welcome", LOBBY_005, ":irc.test 376 anna :End"
    )
    assert not any(line.startswith("JOIN") for line in wire.lines())


def test_reconnection_rejoins_channels_and_asks_for_the_wanted_nick(wire: Wire) -> None:
    register(wire)
    wire.feed(":anna!a@h JOIN #rust", ":anna!a@h JOIN #go")
    wire.session.connection_lost("reset")
    sent: list[bytes] = []
    wire.session.connection_made(sent.append)
    assert sent[1] == b"NICK anna\r\n"
    wire.sent = sent
    wire.feed(":irc.test CAP * LS :", ":irc.test 001 anna :Welcome")
    assert "JOIN #rust,#go" in wire.lines()


def test_a_server_without_cap_registers_anyway(wire: Wire) -> None:
    wire.take()
    wire.feed(":irc.test 421 anna CAP :Unknown command", ":irc.test 001 anna :Welcome")
    assert wire.lines() == ["JOIN #rust"]


def test_over_long_lines_and_bad_utf8_do_not_stop_the_session(wire: Wire) -> None:
    register(wire)
    wire.feed(":bob!b@h JOIN #x " + "x" * 10_000)
    wire.session.receive_data(b":bob!b@h PRIVMSG anna :caf\xe9\r\n")
    query = wire.session.state.buffers[Key("bob")]
    assert query.lines[-1].text == "caf\ufffd"
    server = wire.session.state.buffers[Key("*")]
    assert any("over-long" in line.text for line in server.lines)


# -- commands ---------------------------------------------------------------------------------


def run(wire: Wire, text: str, key: str = "#rust") -> list[object]:
    return list(submit(wire.session, Key(key), text))


@pytest.fixture
def joined(wire: Wire) -> Wire:
    register(wire)
    wire.feed(":anna!a@h JOIN #rust")
    wire.take()
    return wire


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("hello there", "PRIVMSG #rust :hello there"),
        ("//slash", "PRIVMSG #rust /slash"),
        ("/me waves", "PRIVMSG #rust :\x01ACTION waves\x01"),
        ("/msg bob hi you", "PRIVMSG bob :hi you"),
        ("/notice bob hi", "NOTICE bob hi"),
        ("/part", "PART #rust"),
        ("/part #go bye now", "PART #go :bye now"),
        ("/nick anna2", "NICK anna2"),
        ("/topic New topic", "TOPIC #rust :New topic"),
        ("/away lunch", "AWAY lunch"),
        ("/away", "AWAY"),
        ("/names", "NAMES #rust"),
        ("/whois bob", "WHOIS bob"),
        ("/list", "LIST"),
        ("/mode +m", "MODE #rust +m"),
        ("/kick bob spam", "KICK #rust bob spam"),
        ("/invite bob", "INVITE bob #rust"),
        ("/raw PRIVMSG bob :raw text", "PRIVMSG bob :raw text"),
        ("/quit bye", "QUIT bye"),
        ("/join go", "JOIN #go"),
        ("/j #a,#b", "JOIN #a,#b"),
    ],
)
def test_commands_send_what_they_say(joined: Wire, typed: str, sent: str) -> None:
    run(joined, typed)
    assert joined.lines() == [sent]


def test_long_messages_are_cut_to_fit_a_line(joined: Wire) -> None:
    run(joined, "word " * 200)
    lines = joined.take_raw()
    assert len(lines) == 3
    assert all(len(line) <= 512 - 80 for line in lines)
    texts = [parse(line.rstrip(b"\r\n")).params[-1] for line in lines]
    assert " ".join(texts).split() == ["word"] * 200


def test_without_echo_message_own_messages_are_shown_locally(joined: Wire) -> None:
    run(joined, "hello")
    line = joined.session.state.buffers[Key("#rust")].lines[-1]
    assert (line.nick, line.text, line.own) == ("anna", "hello", True)


def test_query_help_and_quit_ask_the_view(joined: Wire) -> None:
    assert Focus(Key("bob")) in run(joined, "/query bob")
    assert ShowHelp("join") in run(joined, "/help /join")
    assert QuitRequested("later") in run(joined, "/quit later")


def test_go_switches_by_number_or_name(joined: Wire) -> None:
    joined.feed(":bob!b@h PRIVMSG anna :hi")
    assert run(joined, "/go 3") == [Focus(Key("bob"))]
    assert run(joined, "/go rus") == [Focus(Key("#rust"))]
    assert run(joined, "/go 1") == [Focus(Key("*"))]


def test_unknown_commands_and_missing_arguments_explain(joined: Wire) -> None:
    run(joined, "/frobnicate")
    run(joined, "/msg bob")
    lines = [line.text for line in joined.session.state.buffers[Key("#rust")].lines]
    assert lines[-2] == "Unknown command /frobnicate. Type /help for the list."
    assert lines[-1].startswith("Usage: /msg nick|#channel text")
    assert joined.take() == []


def test_text_in_the_server_buffer_is_not_sent(joined: Wire) -> None:
    run(joined, "hello", key="*")
    assert joined.take() == []
