"""PlainSession: the name prompt, joining the default room, and ``name: text`` relaying.

Bytes in, bytes out: each session writes into a list, IRC users are harness sessions on
the same hub, and nothing touches a socket.
"""

from __future__ import annotations

import pytest

from hubbub.wire.errors import LineTooLong
from hubbub.wire.message import parse
from tests.doors.irc.support import lines
from tests.doors.plain.support import ROOM, PlainClient, PlainDoor
from tests.helpers import Harness

PROMPT = "Enter your name: "


def welcome(name: str, room: str = ROOM) -> str:
    return f"Welcome, {name}! You are in {room}. Type /help for commands."


# -- the name --------------------------------------------------------------------------


def test_a_new_connection_is_asked_for_its_name_on_a_line_of_its_own(door: PlainDoor) -> None:
    client = door.client()
    assert client.take_raw() == b"Enter your name: \n"
    assert not client.plain.registered


def test_a_valid_name_registers_joins_the_default_room_and_is_welcomed(
    door: PlainDoor, harness: Harness
) -> None:
    client = door.client()
    client.take()
    client.send("alice")
    assert client.take() == [welcome("alice")]
    user = harness.hub.find_user("alice")
    channel = harness.hub.find_channel(ROOM)
    assert user is not None
    assert channel is not None
    assert user in channel.members
    assert client.plain.room == ROOM


def test_the_default_room_is_the_one_the_context_names(harness: Harness) -> None:
    client = PlainDoor(harness, room="#start").client()
    client.take()
    client.send("alice")
    assert client.take() == [welcome("alice", "#start")]
    channel = harness.hub.find_channel("#start")
    assert channel is not None
    assert [m.nick for m in channel.members] == ["alice"]


@pytest.mark.parametrize(
    "name",
    [b"", b"   ", b"\t", b"\x1b[31m\x07", b"\x00\x01\x02", b"\x1b]0;title\x07"],
    ids=["empty", "spaces", "tab", "escape-and-bell", "nul-bytes", "osc-title"],
)
def test_an_empty_name_gets_the_reason_and_the_prompt_again(door: PlainDoor, name: bytes) -> None:
    client = door.client()
    client.take()
    client.send(name)
    assert client.take() == ["The name cannot be empty.", PROMPT]
    assert not client.plain.registered


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("bad name", "nickname has characters that are not allowed"),
        ("#room", "nickname has characters that are not allowed"),
        ("x" * 100, "nickname longer than 30 characters"),
        ("Анна" * 10, "nickname longer than 30 characters"),
    ],
    ids=["space", "channel-like", "too-long", "too-long-cyrillic"],
)
def test_an_invalid_name_gets_the_reason_and_the_prompt_again(
    door: PlainDoor, name: str, detail: str
) -> None:
    client = door.client()
    client.take()
    client.send(name)
    assert client.take() == [f"The name {name} is not allowed: {detail}.", PROMPT]
    assert not client.plain.registered
    client.send("alice")
    assert client.take() == [welcome("alice")]


@pytest.mark.parametrize("taken", ["ircbob", "IRCBOB", "IrcBob"])
def test_a_name_taken_by_an_irc_user_gets_the_reason_and_the_prompt_again(
    door: PlainDoor, harness: Harness, taken: str
) -> None:
    harness.register("ircbob")
    client = door.client()
    client.take()
    client.send(taken)
    assert client.take() == [f"The name {taken} is taken. Try another one.", PROMPT]
    assert not client.plain.registered


def test_a_name_taken_by_a_plain_user_is_refused_and_a_free_one_then_works(
    door: PlainDoor,
) -> None:
    door.connect("Анна")
    client = door.client()
    client.take()
    client.send("анна")
    assert client.take() == ["The name анна is taken. Try another one.", PROMPT]
    client.send("Борис")
    assert client.take() == [welcome("Борис")]


def test_an_irc_user_cannot_take_a_plain_users_name(door: PlainDoor, harness: Harness) -> None:
    door.connect("alice")
    irc = harness.client()
    irc.send("NICK alice")
    assert [m.command for m in irc.take()] == ["433"]


@pytest.mark.parametrize("name", ["Анна", "Борис", "Ёжик", "Юлия_2", "Пётр-Ильич"])
def test_cyrillic_names_work_and_irc_users_see_them(
    door: PlainDoor, harness: Harness, name: str
) -> None:
    irc = harness.register("ircbob", ROOM)
    client = door.client()
    client.take()
    client.send(name)
    assert client.take() == [welcome(name)]
    joins = irc.take()
    assert [(m.command, m.params) for m in joins] == [("JOIN", (ROOM,))]
    assert (joins[0].source or "").partition("!")[0] == name


def test_control_characters_are_removed_from_a_name_before_it_is_checked(
    door: PlainDoor, harness: Harness
) -> None:
    client = door.client()
    client.take()
    client.send(b"\x1b[31mevil\x1b[0m\x07")
    assert client.take() == [welcome("evil")]
    assert harness.hub.find_user("evil") is not None


def test_an_invalid_utf8_name_is_refused_with_replacement_characters(door: PlainDoor) -> None:
    client = door.client()
    client.take()
    client.send(b"\xff\xfe")
    assert client.take() == [
        "The name \ufffd\ufffd is not allowed: nickname has characters that are not allowed.",
        PROMPT,
    ]


def test_a_name_line_that_was_too_long_is_answered_and_the_prompt_repeated(
    door: PlainDoor,
) -> None:
    client = door.client()
    client.take()
    client.send(LineTooLong("line over 4608 bytes"))
    assert client.take() == ["Your line was too long and was not sent.", PROMPT]
    client.send("alice")
    assert client.take() == [welcome("alice")]


# -- talking ---------------------------------------------------------------------------


@pytest.fixture
def trio(door: PlainDoor, harness: Harness) -> tuple[PlainClient, PlainClient, object]:
    """alice and bob (plain) and ircbob (IRC), all in the default room, nothing pending."""
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    return alice, bob, irc


def test_a_message_reaches_other_plain_users_as_a_name_colon_text_line(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    alice.send("hello, bob")
    assert bob.take_raw() == b"alice: hello, bob\n"
    bob.send("привет, Анна 👋")
    assert alice.take_raw() == "bob: привет, Анна 👋\n".encode()


def test_a_message_is_not_echoed_to_its_sender(door: PlainDoor) -> None:
    alice = door.connect("alice")
    door.connect("bob")
    alice.take()
    alice.send("hello")
    assert alice.take() == []


def test_a_plain_message_reaches_irc_users_as_a_privmsg_from_the_plain_user(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("Анна")
    irc.take()
    alice.send("привет всем")
    assert lines(irc) == [f":Анна!~plain@127.0.0.1 PRIVMSG {ROOM} :привет всем".encode()]


def test_an_irc_message_reaches_a_plain_user_as_a_name_colon_text_line(
    door: PlainDoor, harness: Harness
) -> None:
    alice = door.connect("alice")
    irc = harness.register("ircbob", ROOM)
    alice.take()
    irc.send(f"PRIVMSG {ROOM} :hi alice")
    assert alice.take_raw() == b"ircbob: hi alice\n"


def test_several_messages_arrive_as_separate_lines_in_order(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    for text in ["one", "two", "three"]:
        alice.send(text)
    assert bob.take() == ["alice: one", "alice: two", "alice: three"]


def test_surrounding_spaces_are_trimmed_and_blank_lines_are_not_sent(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    alice.send("   ")
    alice.send("")
    alice.send("  hi  ")
    assert bob.take() == ["alice: hi"]
    assert alice.take() == []


def test_a_double_slash_sends_a_line_that_starts_with_a_slash(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    alice.send("//etc/passwd is a file")
    assert bob.take() == ["alice: /etc/passwd is a file"]


def test_invalid_utf8_in_a_message_is_replaced_not_dropped(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send(b"caf\xc3 \xff\xfe ok")
    assert bob.take() == ["alice: caf\ufffd \ufffd\ufffd ok"]
    assert [m.params for m in irc.take()] == [(ROOM, "caf\ufffd \ufffd\ufffd ok")]


def test_escape_sequences_from_a_plain_user_reach_nobody(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send(b"\x1b[2J\x1b[Hhello \x1b]0;pwned\x07\x1b[31mred\x1b[0m\x07\x08\x7f")
    assert bob.take() == ["alice: hello red"]
    assert [m.params for m in irc.take()] == [(ROOM, "hello red")]


def test_a_line_that_was_too_long_is_refused_to_its_sender_only(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send(LineTooLong("line over 4608 bytes"))
    assert alice.take() == ["Your line was too long and was not sent."]
    assert bob.take() == []
    assert irc.take() == []
    alice.send("still here")
    assert bob.take() == ["alice: still here"]


# -- long text -------------------------------------------------------------------------


def relayed_texts(raw: bytes) -> list[str]:
    """The texts of the PRIVMSG lines in ``raw``, after checking each fits in 512 bytes."""
    out = []
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) + 2 <= 512, (len(line) + 2, line[:80])
        out.append(parse(line).params[-1])
    return out


@pytest.mark.parametrize(
    "text",
    [
        " ".join(f"word{i}" for i in range(400)),
        "x" * 3000,
        "я" * 1500,
        "👋" * 800,
        "ab " + "漢字" * 700,
    ],
    ids=["words", "one-long-word", "cyrillic", "emoji", "cjk"],
)
def test_long_text_is_split_into_several_messages_that_each_fit_an_irc_line(
    door: PlainDoor, harness: Harness, text: str
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send(text)
    pieces = relayed_texts(irc.take_raw())
    assert len(pieces) > 1
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert bob.take() == [f"alice: {piece}" for piece in pieces]


def test_long_text_split_for_a_long_name_in_a_long_room_still_fits_an_irc_line(
    door: PlainDoor, harness: Harness
) -> None:
    """The worst case: the longest nick and channel name the server allows."""
    room = "#" + "c" * 63
    irc = harness.register("ircbob", room)
    alice = door.connect("a" * 30)
    alice.send(f"/join {room}")
    irc.take()
    alice.send("x" * 1000)
    pieces = relayed_texts(irc.take_raw())
    assert "".join(pieces) == "x" * 1000


def test_a_long_private_message_is_split_to_fit_an_irc_line(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob")
    alice = door.connect("alice")
    irc.take()
    alice.send("/msg ircbob " + "слово " * 300)
    pieces = relayed_texts(irc.take_raw())
    assert len(pieces) > 1
    assert " ".join(pieces) == ("слово " * 300).strip()


# -- leaving ---------------------------------------------------------------------------


def test_a_lost_connection_is_announced_to_the_room_as_left(
    door: PlainDoor, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc.take()
    bob.plain.connection_lost("Connection closed")
    assert alice.take() == ["bob left (Connection closed)."]
    assert lines(irc) == [b":bob!~bob@127.0.0.1 QUIT :Connection closed"]
    assert harness.hub.find_user("bob") is None


def test_a_connection_lost_before_naming_announces_nothing(door: PlainDoor) -> None:
    alice = door.connect("alice")
    other = door.client()
    other.plain.connection_lost("Connection closed")
    assert alice.take() == []


def test_the_registration_deadline_says_why_and_closes(door: PlainDoor) -> None:
    client = door.client()
    client.take()
    client.plain.close("Registration timeout")
    assert client.take() == ["Registration timeout"]
    assert client.closed
    client.send("alice")
    assert client.take() == []


def test_a_server_shutdown_says_goodbye_and_announces_the_quit(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    bob.plain.close("Server shutting down")
    assert bob.take() == ["Server shutting down"]
    assert bob.closed
    assert alice.take() == ["bob left (Server shutting down)."]


def test_nothing_is_delivered_after_the_session_closed(door: PlainDoor) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    alice.plain.close("Goodbye!")
    alice.take()
    bob.send("anyone?")
    assert alice.sent == []


def test_an_internal_error_is_answered_with_a_generic_line(door: PlainDoor) -> None:
    alice = door.connect("alice")
    alice.plain.internal_error()
    assert alice.take() == ["Something went wrong on the server; please try again."]


# -- Russian ---------------------------------------------------------------------------


def test_russian_prompt_is_the_seeds_wording_on_its_own_line(door: PlainDoor) -> None:
    client = door.client("ru")
    assert client.take_raw() == "Введите ваше имя: \n".encode()


def test_russian_join_and_leave_notices_are_the_seeds_wording(door: PlainDoor) -> None:
    anna = door.connect("Анна", "ru")
    boris = door.connect("Борис", "ru")
    assert anna.take() == ["Борис подключился к чату!"]
    boris.send("привет")
    assert anna.take() == ["Борис: привет"]
    boris.plain.connection_lost("Connection closed")
    assert anna.take() == ["Борис отключился (Connection closed)."]


def test_russian_refusals_and_prompt_again(door: PlainDoor) -> None:
    door.connect("Анна")
    client = door.client("ru")
    client.take()
    client.send("")
    assert client.take() == ["Имя не может быть пустым.", "Введите ваше имя: "]
    client.send("анна")
    assert client.take() == ["Имя анна уже занято. Попробуйте другое.", "Введите ваше имя: "]
    client.send("Борис")
    assert client.take() == ["Добро пожаловать, Борис! Вы в #lobby. Команды: /help."]


def test_russian_registration_timeout_and_shutdown_are_translated(door: PlainDoor) -> None:
    waiting = door.client("ru")
    waiting.take()
    waiting.plain.close("Registration timeout")
    assert waiting.take() == ["Время ожидания имени истекло."]
    anna = door.connect("Анна", "ru")
    anna.plain.close("Server shutting down")
    assert anna.take() == ["Сервер выключается."]


def test_each_user_sees_the_door_in_its_own_contexts_language(door: PlainDoor) -> None:
    anna = door.connect("Анна", "ru")
    alice = door.connect("alice", "en")
    assert anna.take() == ["alice подключился к чату!"]
    door.connect("bob", "ru")
    assert alice.take() == ["bob joined the chat!"]


def test_a_long_action_is_split_to_fit_an_irc_line_with_its_ctcp_wrapping(
    door: PlainDoor, harness: Harness
) -> None:
    room = "#" + "c" * 63
    irc = harness.register("ircbob", room)
    alice = door.connect("a" * 30)
    alice.send(f"/join {room}")
    irc.take()
    alice.send("/me " + "x" * 1000)
    for line in irc.take_raw().split(b"\r\n")[:-1]:
        assert len(line) + 2 <= 512, (len(line) + 2, line[:80])


def test_a_plain_user_is_told_when_the_rest_of_the_network_goes_and_comes_back(
    door: PlainDoor, harness: Harness
) -> None:
    client = door.client()
    client.send("alice")
    client.take()
    user = harness.hub.find_user("alice")
    assert user is not None
    user.listener.network(False)
    assert client.take() == [
        "This server lost the rest of the network: what you send waits until it is back, "
        "and users on other servers are not heard meanwhile."
    ]
    user.listener.network(True)
    assert client.take() == ["The network is back: what you sent meanwhile goes out now."]
