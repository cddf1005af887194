"""Slash commands of the plain door, each with its usage, refusals and effect on others."""

from __future__ import annotations

import pytest

from tests.doors.irc.support import lines
from tests.doors.plain.support import ROOM, PlainClient, PlainDoor
from tests.helpers import FakeClient, Harness

HELP = [
    "Commands:",
    "  /join #room        join a room (it becomes your current room)",
    "  /part [#room]      leave a room",
    "  /rooms             list the rooms",
    "  /who [#room]       who is in a room",
    "  /whois name        someone's display name and status",
    "  /msg name text     a private message",
    "  /me text           an action",
    "  /nick name         change your name",
    "  /topic [text]      show or set the topic",
    "  /quit [reason]     leave the chat",
    "Anything else you type is said in your current room.",
]


@pytest.fixture
def alice(door: PlainDoor) -> PlainClient:
    return door.connect("alice")


@pytest.fixture
def irc(harness: Harness, alice: PlainClient) -> FakeClient:
    """ircbob, in the default room after alice, with nothing pending on either side."""
    client = harness.register("ircbob", ROOM)
    alice.take()
    return client


# -- /help and unknown commands --------------------------------------------------------


@pytest.mark.parametrize("line", ["/help", "/HELP", "/?"])
def test_help_lists_every_command(alice: PlainClient, line: str) -> None:
    alice.send(line)
    assert alice.take() == HELP


def test_help_in_russian(door: PlainDoor) -> None:
    anna = door.connect("Анна", "ru")
    anna.send("/help")
    got = anna.take()
    assert got[0] == "Команды:"
    assert "  /quit [причина]    выйти из чата" in got
    assert len(got) == len(HELP)


def test_an_unknown_command_is_named_and_points_to_help(
    alice: PlainClient, irc: FakeClient
) -> None:
    alice.send("/bogus some words")
    assert alice.take() == ["Unknown command /bogus. Type /help for the list."]
    assert irc.take() == []


def test_an_unknown_command_in_russian(door: PlainDoor) -> None:
    anna = door.connect("Анна", "ru")
    anna.send("/фу")
    assert anna.take() == ["Неизвестная команда /фу. Список команд: /help."]


# -- /join and /part -------------------------------------------------------------------


@pytest.mark.parametrize("line", ["/join #dev", "/join dev", "/j #dev", "/JOIN #dev extra"])
def test_join_enters_a_room_which_becomes_the_current_one(
    alice: PlainClient, irc: FakeClient, harness: Harness, line: str
) -> None:
    dev = harness.register("devbob", "#dev")
    alice.send(line)
    assert alice.take() == ["You are now in #dev."]
    assert alice.plain.room == "#dev"
    assert lines(dev) == [b":alice!~alice@127.0.0.1 JOIN #dev"]
    alice.send("hello dev")
    assert lines(dev) == [b":alice!~alice@127.0.0.1 PRIVMSG #dev :hello dev"]
    assert irc.take() == []


def test_join_shows_the_rooms_topic(alice: PlainClient, harness: Harness) -> None:
    dev = harness.register("devbob", "#dev")
    dev.send("TOPIC #dev :all about \x1b[31mdev\x1b[0m")
    alice.send("/join #dev")
    assert alice.take() == ["You are now in #dev.", "Topic of #dev: all about dev"]


def test_join_without_a_room_shows_its_usage(alice: PlainClient) -> None:
    alice.send("/join")
    assert alice.take() == ["Usage: /join #room"]
    assert alice.plain.room == ROOM


def test_join_of_an_invalid_room_name_is_refused(alice: PlainClient) -> None:
    alice.send("/join #bad,name")
    assert alice.take() == [
        "#bad,name is not a valid room name: channel name has characters that are not allowed."
    ]
    assert alice.plain.room == ROOM


def test_join_of_an_invite_only_room_is_refused(alice: PlainClient, harness: Harness) -> None:
    op = harness.register("opbob", "#secret")
    op.send("MODE #secret +i")
    alice.send("/join #secret")
    assert alice.take() == ["#secret is invite-only."]
    assert alice.plain.room == ROOM


def test_part_leaves_the_current_room_and_falls_back_to_another(
    alice: PlainClient, irc: FakeClient
) -> None:
    alice.send("/join #dev")
    alice.take()
    alice.send("/part #dev see you")
    assert alice.take() == ["You left #dev.", f"You are now in {ROOM}."]
    assert alice.plain.room == ROOM
    alice.send("/part")
    assert alice.take() == [f"You left {ROOM}."]
    assert lines(irc) == [f":alice!~alice@127.0.0.1 PART {ROOM}".encode()]
    assert alice.plain.room is None


def test_talking_outside_any_room_says_how_to_join_one(alice: PlainClient) -> None:
    alice.send("/part")
    alice.take()
    alice.send("hello?")
    assert alice.take() == ["You are not in a room. Use /join #room."]
    alice.send("/topic")
    assert alice.take() == ["You are not in a room. Use /join #room."]
    alice.send("/part")
    assert alice.take() == ["You are not in a room. Use /join #room."]


def test_part_of_a_room_one_is_not_in_is_refused(alice: PlainClient, harness: Harness) -> None:
    harness.register("devbob", "#dev")
    alice.send("/part #dev")
    assert alice.take() == ["You are not in #dev."]
    alice.send("/part #nowhere")
    assert alice.take() == ["There is no room #nowhere."]


# -- /rooms and /who -------------------------------------------------------------------


def test_rooms_lists_visible_rooms_with_sizes_and_topics(
    alice: PlainClient, irc: FakeClient, harness: Harness
) -> None:
    dev = harness.register("devbob", "#dev")
    dev.send("TOPIC #dev :\x0304dev\x03 talk")
    secret = harness.register("spy", "#secret")
    secret.send("MODE #secret +s")
    alice.send("/rooms")
    assert alice.take() == ["Rooms:", f"  {ROOM} (2)", "  #dev (1) - dev talk"]


@pytest.mark.parametrize("line", ["/who", "/who #lobby", "/who lobby", "/names"])
def test_who_lists_the_members_of_a_room(alice: PlainClient, irc: FakeClient, line: str) -> None:
    alice.send(line)
    assert alice.take() == [f"In {ROOM}: @alice, ircbob"]


def test_who_of_a_missing_or_secret_room_says_there_is_none(
    alice: PlainClient, harness: Harness
) -> None:
    harness.register("spy", "#secret").send("MODE #secret +s")
    alice.send("/who #nowhere")
    assert alice.take() == ["There is no room #nowhere."]
    alice.send("/who #secret")
    assert alice.take() == ["There is no room #secret."]


# -- /msg ------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["/msg ircbob hi there", "/query ircbob hi there"])
def test_msg_sends_a_private_message_to_an_irc_user(
    alice: PlainClient, irc: FakeClient, line: str
) -> None:
    alice.send(line)
    # Confirmed to the sender (the server echoes no private message back).
    assert alice.take() == ["→ ircbob: hi there"]
    assert lines(irc) == [b":alice!~alice@127.0.0.1 PRIVMSG ircbob :hi there"]


def test_msg_sends_a_private_message_to_a_plain_user(
    door: PlainDoor, alice: PlainClient, irc: FakeClient
) -> None:
    anna = door.connect("Анна", "ru")
    alice.take()
    irc.take()
    alice.send("/msg анна psst")
    assert anna.take() == ["[лично] alice: psst"]
    # Named as the server knows the recipient, not as typed.
    assert alice.take() == ["→ Анна: psst"]
    assert irc.take() == []


def test_msg_to_nobody_is_refused_and_not_confirmed(alice: PlainClient, irc: FakeClient) -> None:
    alice.send("/msg nobody hello")
    (refusal,) = alice.take()
    assert "nobody" in refusal
    assert not refusal.startswith("→")
    assert irc.take() == []


@pytest.mark.parametrize("line", ["/msg", "/msg ircbob", "/msg ircbob    "])
def test_msg_without_a_name_and_text_shows_its_usage(
    alice: PlainClient, irc: FakeClient, line: str
) -> None:
    alice.send(line)
    assert alice.take() == ["Usage: /msg name text"]
    assert irc.take() == []


def test_msg_to_nobody_is_refused(alice: PlainClient) -> None:
    alice.send("/msg nobody hi")
    assert alice.take() == ["There is nobody called nobody."]


# -- /me -------------------------------------------------------------------------------


def test_me_sends_an_action_seen_by_irc_and_plain_users(
    door: PlainDoor, alice: PlainClient, irc: FakeClient
) -> None:
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send("/me waves")
    assert bob.take() == ["* alice waves"]
    assert lines(irc) == [f":alice!~alice@127.0.0.1 PRIVMSG {ROOM} :\x01ACTION waves\x01".encode()]
    assert alice.take() == []


def test_me_without_text_sends_nothing(alice: PlainClient, irc: FakeClient) -> None:
    alice.send("/me")
    assert alice.take() == []
    assert irc.take() == []


# -- /nick -----------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["/nick Борис", "/name Борис"])
def test_nick_changes_the_name_for_everyone(
    door: PlainDoor, alice: PlainClient, irc: FakeClient, line: str
) -> None:
    bob = door.connect("bob")
    alice.take()
    irc.take()
    alice.send(line)
    assert alice.take() == ["You are now Борис."]
    assert bob.take() == ["alice is now known as Борис"]
    assert lines(irc) == [":alice!~alice@127.0.0.1 NICK Борис".encode()]
    alice.send("hi")
    assert bob.take() == ["Борис: hi"]


def test_nick_to_a_taken_name_is_refused(alice: PlainClient, irc: FakeClient) -> None:
    alice.send("/nick IRCBOB")
    assert alice.take() == ["The name IRCBOB is taken. Try another one."]
    assert irc.take() == []


def test_nick_to_an_invalid_name_is_refused(alice: PlainClient) -> None:
    alice.send("/nick #x")
    assert alice.take() == [
        "The name #x is not allowed: nickname has characters that are not allowed."
    ]


def test_nick_without_a_name_shows_its_usage(alice: PlainClient) -> None:
    alice.send("/nick")
    assert alice.take() == ["Usage: /nick new-name"]


# -- /topic ----------------------------------------------------------------------------


def test_topic_shows_that_there_is_none_then_sets_and_shows_one(
    alice: PlainClient, irc: FakeClient
) -> None:
    alice.send("/topic")
    assert alice.take() == [f"{ROOM} has no topic."]
    alice.send("/topic Tea and chat")
    assert alice.take() == [f"alice changed the topic of {ROOM}: Tea and chat"]
    assert lines(irc) == [f":alice!~alice@127.0.0.1 TOPIC {ROOM} :Tea and chat".encode()]
    alice.send("/topic")
    assert alice.take() == [f"Topic of {ROOM}: Tea and chat"]


def test_topic_of_a_room_where_one_is_not_an_operator_is_refused(
    alice: PlainClient, harness: Harness
) -> None:
    harness.register("devbob", "#dev")
    alice.send("/join #dev")
    alice.take()
    alice.send("/topic mine now")
    assert alice.take() == ["Only operators of #dev can do that."]


# -- /quit -----------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["/quit", "/exit"])
def test_quit_says_goodbye_closes_and_is_announced(
    door: PlainDoor, alice: PlainClient, irc: FakeClient, harness: Harness, line: str
) -> None:
    bob = door.connect("bob")
    irc.take()
    alice.take()
    alice.send(line)
    assert alice.take() == ["Goodbye!"]
    assert alice.closed
    assert bob.take() == ["alice left (Goodbye!)."]
    assert lines(irc) == [b":alice!~alice@127.0.0.1 QUIT :Goodbye!"]
    assert harness.hub.find_user("alice") is None


def test_quit_with_a_reason_gives_it_to_irc_users(alice: PlainClient, irc: FakeClient) -> None:
    alice.send("/quit off to bed")
    assert alice.closed
    assert lines(irc) == [b":alice!~alice@127.0.0.1 QUIT :off to bed"]


def test_quit_in_russian_says_goodbye_in_russian(door: PlainDoor) -> None:
    anna = door.connect("Анна", "ru")
    anna.send("/quit")
    assert anna.take() == ["До свидания!"]
    assert anna.closed


def test_lines_after_quit_are_ignored(door: PlainDoor, alice: PlainClient) -> None:
    bob = door.connect("bob")
    alice.take()
    alice.send("/quit")
    bob.take()
    alice.send("still here?")
    assert bob.take() == []
