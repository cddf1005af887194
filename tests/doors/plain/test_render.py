"""What a plain user sees of other users' doings, most of them from the IRC door.

Every event becomes a short readable line, and nothing an IRC user writes can put an
escape sequence, a colour code or a bell on a plain user's terminal.
"""

from __future__ import annotations

import pytest

from tests.doors.irc.support import lines
from tests.doors.plain.support import ROOM, TERMINAL_CONTROL, PlainClient, PlainDoor
from tests.helpers import FakeClient, Harness

# Everything an IRC client may put in a message to disturb a terminal.
HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]0;owned\x07"  # set the window title
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\"  # an OSC 8 hyperlink
    "\x0304,01red\x03 \x02bold\x02 \x1funder\x1f \x1ditalic\x1d \x16rev\x16 \x0f"
    "\x04ff0000hex\x04 "
    "\x07\x08\x7f\x9b31m\x85"  # bell, backspace, DEL, 8-bit CSI, NEL
    "\x1bc"  # reset the terminal
    "new line\x0bvt\x0cff"
)


@pytest.fixture
def alice(door: PlainDoor) -> PlainClient:
    return door.connect("alice")


@pytest.fixture
def irc(harness: Harness, alice: PlainClient) -> FakeClient:
    """ircbob, in the default room after alice, with nothing pending on either side."""
    client = harness.register("ircbob", ROOM)
    alice.take()
    return client


# -- people coming and going -----------------------------------------------------------


def test_an_irc_user_joining_the_default_room_joined_the_chat(
    alice: PlainClient, harness: Harness
) -> None:
    harness.register("ircbob", ROOM)
    assert alice.take() == ["ircbob joined the chat!"]


def test_an_irc_user_joining_another_room_is_named_with_the_room(
    alice: PlainClient, irc: FakeClient, harness: Harness
) -> None:
    harness.register("devbob", "#dev")
    alice.send("/join #dev")
    alice.take()
    harness.register("carol", "#dev")
    assert alice.take() == ["carol joined #dev"]


def test_a_plain_users_own_join_is_not_announced_to_itself(door: PlainDoor) -> None:
    alice = door.client()
    alice.take()
    alice.send("alice")
    assert not any("joined" in line for line in alice.take())


def test_an_irc_user_parting_is_shown_with_the_reason(alice: PlainClient, irc: FakeClient) -> None:
    irc.send(f"PART {ROOM} :gone \x1b[31mfishing\x07")
    assert alice.take() == [f"ircbob left {ROOM} (gone fishing)"]


def test_an_irc_user_parting_without_a_reason(alice: PlainClient, irc: FakeClient) -> None:
    irc.send(f"PART {ROOM}")
    assert alice.take() == [f"ircbob left {ROOM}"]


def test_an_irc_user_quitting_left_with_the_reason_cleaned(
    alice: PlainClient, irc: FakeClient
) -> None:
    irc.send("QUIT :\x1b[2Jbye \u202eenod\u202c\x07 " + HOSTILE)
    raw = alice.take_raw()
    assert raw.startswith(b"ircbob left (Quit: bye enod ")
    assert raw.endswith(b").\n")
    assert raw.count(b"\n") == 1
    assert TERMINAL_CONTROL.search(raw[:-1]) is None
    assert "\u202e" not in raw.decode()


def test_a_quit_reason_of_escapes_only_reads_as_no_reason(
    door: PlainDoor, harness: Harness
) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    bob.plain.connection_lost("\x1b[2J\u202e\x07")
    assert alice.take() == ["bob left."]


def test_an_irc_user_quitting_in_russian_is_the_seeds_wording(
    door: PlainDoor, harness: Harness
) -> None:
    anna = door.connect("Анна", "ru")
    irc = harness.register("ircbob", ROOM)
    assert anna.take() == ["ircbob подключился к чату!"]
    irc.send("QUIT :bye")
    assert anna.take() == ["ircbob отключился (Quit: bye)."]


def test_an_irc_user_changing_nick_is_shown(alice: PlainClient, irc: FakeClient) -> None:
    irc.send("NICK Боб")
    assert alice.take() == ["ircbob is now known as Боб"]
    irc.send(f"PRIVMSG {ROOM} :me again")
    assert alice.take() == ["Боб: me again"]


def test_an_irc_user_changing_nick_in_russian(door: PlainDoor, harness: Harness) -> None:
    anna = door.connect("Анна", "ru")
    irc = harness.register("ircbob", ROOM)
    anna.take()
    irc.send("NICK Боб")
    assert anna.take() == ["ircbob теперь Боб"]


# -- topics and kicks ------------------------------------------------------------------


def test_an_irc_user_setting_the_topic_is_shown_cleaned(
    alice: PlainClient, harness: Harness
) -> None:
    op = harness.register("opbob", "#dev")
    alice.send("/join #dev")
    alice.take()
    op.send("TOPIC #dev :\x0304Release\x03 \x1b[5mday\x1b[0m")
    assert alice.take() == ["opbob changed the topic of #dev: Release day"]


def test_a_plain_user_kicked_by_an_irc_operator_is_told_and_leaves_the_room(
    alice: PlainClient, harness: Harness
) -> None:
    op = harness.register("opbob", "#dev")
    alice.send("/join #dev")
    alice.take()
    op.take()
    op.send("KICK #dev alice :\x1b[31mspam\x07")
    assert alice.take() == ["You were kicked from #dev by opbob: spam"]
    assert alice.plain.room == ROOM
    assert lines(op) == [b":opbob!~opbob@127.0.0.1 KICK #dev alice :\x1b[31mspam\x07"]


def test_another_user_kicked_is_shown_to_a_plain_user(
    door: PlainDoor, alice: PlainClient, harness: Harness
) -> None:
    op = harness.register("opbob", "#dev")
    alice.send("/join #dev")
    bob = door.connect("bob")
    bob.send("/join #dev")
    alice.take()
    bob.take()
    op.send("KICK #dev bob :enough")
    assert alice.take() == ["bob was kicked from #dev by opbob: enough"]
    assert bob.take() == ["You were kicked from #dev by opbob: enough"]


def test_kicks_in_russian(door: PlainDoor, harness: Harness) -> None:
    op = harness.register("opbob", "#dev")
    anna = door.connect("Анна", "ru")
    boris = door.connect("Борис", "ru")
    anna.send("/join #dev")
    boris.send("/join #dev")
    anna.take()
    boris.take()
    op.send("KICK #dev Борис :хватит")
    assert anna.take() == ["opbob выгнал Борис из #dev: хватит"]
    assert boris.take() == ["opbob выгнал вас из #dev: хватит"]


# -- messages --------------------------------------------------------------------------


def test_a_private_message_from_an_irc_user_is_marked_private(
    alice: PlainClient, irc: FakeClient
) -> None:
    irc.send("PRIVMSG alice :just between us")
    assert alice.take() == ["[private] ircbob: just between us"]


def test_a_private_message_in_russian_is_marked_in_russian(
    door: PlainDoor, harness: Harness
) -> None:
    anna = door.connect("Анна", "ru")
    irc = harness.register("ircbob")
    irc.send("PRIVMSG Анна :тсс")
    assert anna.take() == ["[лично] ircbob: тсс"]


def test_an_action_from_an_irc_user_is_shown_with_a_star(
    alice: PlainClient, irc: FakeClient
) -> None:
    irc.send(f"PRIVMSG {ROOM} :\x01ACTION dances\x01")
    assert alice.take() == ["* ircbob dances"]


def test_a_notice_from_an_irc_user_is_shown_between_dashes(
    alice: PlainClient, irc: FakeClient
) -> None:
    irc.send(f"NOTICE {ROOM} :heads up")
    irc.send("NOTICE alice :just you")
    assert alice.take() == ["-ircbob- heads up", "[private] -ircbob- just you"]


def test_other_ctcp_requests_are_not_shown(alice: PlainClient, irc: FakeClient) -> None:
    irc.send("PRIVMSG alice :\x01VERSION\x01")
    irc.send(f"PRIVMSG {ROOM} :\x01PING 123\x01")
    assert alice.take() == []


def test_a_message_in_another_room_names_the_room(
    alice: PlainClient, irc: FakeClient, harness: Harness
) -> None:
    dev = harness.register("devbob", "#dev")
    alice.send("/join #dev")
    alice.take()
    irc.send(f"PRIVMSG {ROOM} :over here")
    dev.send("PRIVMSG #dev :and here")
    assert alice.take() == [f"[{ROOM}] ircbob: over here", "devbob: and here"]


def test_an_invitation_says_how_to_accept_it(alice: PlainClient, harness: Harness) -> None:
    op = harness.register("opbob", "#club")
    op.send("INVITE alice #club")
    assert alice.take() == ["opbob invites you to #club. Type /join #club"]


def test_modes_are_not_shown(alice: PlainClient, irc: FakeClient) -> None:
    alice.send("/join #dev")
    alice.take()
    irc.send("JOIN #dev")
    alice.take()
    irc.send("MODE #dev +nt")
    assert alice.take() == []


# -- hostile text from IRC users -------------------------------------------------------


def test_escape_sequences_and_colours_in_a_message_never_reach_a_plain_terminal(
    alice: PlainClient, irc: FakeClient
) -> None:
    irc.send(f"PRIVMSG {ROOM} :{HOSTILE}")
    raw = alice.take_raw()
    assert TERMINAL_CONTROL.search(raw) is None, raw
    assert raw.startswith(b"ircbob: ")
    assert raw.endswith(b"\n")
    assert raw.count(b"\n") == 1
    text = raw.decode()
    for word in ["red", "bold", "under", "italic", "rev", "hex", "new line", "vt", "ff"]:
        assert word in text


@pytest.mark.parametrize(
    "command",
    [
        f"PRIVMSG {ROOM} :{{}}",
        f"PRIVMSG {ROOM} :\x01ACTION {{}}\x01",
        f"NOTICE {ROOM} :{{}}",
        "PRIVMSG alice :{}",
        "NOTICE alice :{}",
        f"TOPIC {ROOM} :{{}}",
        f"PART {ROOM} :{{}}",
        "QUIT :{}",
    ],
    ids=["privmsg", "action", "notice", "private", "private-notice", "topic", "part", "quit"],
)
def test_no_irc_command_carries_control_bytes_to_a_plain_user(
    door: PlainDoor, harness: Harness, command: str
) -> None:
    irc = harness.register("ircbob", ROOM)  # first in the room: its operator
    alice = door.connect("alice")
    alice.send("/topic")
    alice.take()
    irc.send(command.format(HOSTILE))
    raw = alice.take_raw()
    assert raw
    assert TERMINAL_CONTROL.search(raw) is None, raw
    assert raw.count(b"\n") == 1


def test_control_bytes_in_a_kick_reason_and_room_listing_never_reach_a_plain_user(
    door: PlainDoor, harness: Harness
) -> None:
    op = harness.register("opbob", "#dev")
    op.send(f"TOPIC #dev :{HOSTILE}")
    alice = door.connect("alice")
    bob = door.connect("bob")
    for client in (alice, bob):
        client.send("/join #dev")
        client.send("/rooms")
        client.send("/topic")
    op.send(f"KICK #dev bob :{HOSTILE}")
    for client in (alice, bob):
        raw = client.take_raw()
        assert TERMINAL_CONTROL.search(raw) is None, raw


def test_a_multiline_message_is_shown_one_line_per_part(door: PlainDoor, harness: Harness) -> None:
    alice = door.connect("alice")
    irc = harness.client()
    irc.send("CAP REQ :batch draft/multiline")
    irc.send("NICK ircbob")
    irc.send("USER ircbob 0 * :Real")
    irc.send("CAP END")
    irc.send(f"JOIN {ROOM}")
    alice.take()
    irc.send(f"BATCH +b1 draft/multiline {ROOM}")
    irc.send(f"@batch=b1 PRIVMSG {ROOM} :first \x1b[31mline")
    irc.send(f"@batch=b1 PRIVMSG {ROOM} :second line\x07")
    irc.send("BATCH -b1")
    assert alice.take() == ["ircbob: first line", "ircbob: second line"]
