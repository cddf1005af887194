"""Attacks on plain-door users over real sockets (issue 20): registered names, and
hostile text in every field another user can put on a plain terminal.

IRC users are :class:`LineClient` peers, plain users raw sockets as ``nc`` would be. Each
test checks what the victim's terminal received, byte for byte where it matters, and
that the others go on chatting.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients
from tests.integration.test_plain import (
    PROMPT,
    ROOM,
    TERMINAL_CONTROL,
    TOO_LONG,
    Peers,
    PlainPeer,
    settings_for,
    source_nick,
    still_chatting,
)

PASSWORD = "correct-horse-battery"
PASSWORD_PROMPT = "This server has a password. Password: "
OWNED = "The name {} belongs to a registered account. Try another one."
# Reorders what a terminal shows: embeddings, overrides, isolates, direction marks and
# the line and paragraph separators.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# Everything that may disturb a terminal, and what a plain user must see of it.
HOSTILE = (
    "\x1b[2J\x1b]0;PWNED\x07\x1b[31mred\x1b[0m \x0304colour\x03 \x07bell\x08"
    " \u202egnp.exe\u202c \u2067iso\u2069 \u200fmark\u200e\u061c \u2028sep\u2029 end"
)
SHOWN = "red colour bell gnp.exe iso mark sep end"


def assert_terminal_safe(peer: PlainPeer) -> None:
    """Nothing ``peer`` received can move a cursor, set a title or reorder text."""
    assert TERMINAL_CONTROL.search(peer.raw) is None, peer.raw
    assert BIDI.search(peer.raw.decode()) is None, peer.raw
    assert b"PWNED" not in peer.raw


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    opened = Peers()
    try:
        yield opened
    finally:
        await opened.close_all()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = settings_for(tmp_path).replace(opers=(Oper("oper", "operpass"),))
    async with running_server(settings) as server:
        yield server


@pytest.fixture
async def chatting(
    server: Server, peers: Peers, clients: Clients
) -> tuple[Server, PlainPeer, LineClient]:
    """bob (plain) and carol (IRC, first in the default room: its operator) chat."""
    carol = await clients.connect(server, "carol", ROOM)
    bob = await peers.connect(server, "bob")
    await carol.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "bob")
    await still_chatting(bob, carol, "before")
    return server, bob, carol


async def register_account(clients: Clients, server: Server, nick: str) -> LineClient:
    """An IRC user who registered ``nick`` as an account with NickServ, still online."""
    owner = await clients.connect(server, nick)
    await owner.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    return owner


async def leave(owner: LineClient) -> None:
    """Quit, and wait until the server has let the nick go."""
    await owner.send("QUIT :done")
    assert await owner.closed()


# -- finding 7: registered names ---------------------------------------------------------


@pytest.mark.parametrize("name", ["victor", "VICTOR", "Victor"])
async def test_a_registered_name_is_refused_at_the_prompt_and_asked_again(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, clients: Clients, name: str
) -> None:
    server, bob, carol = chatting
    await leave(await register_account(clients, server, "victor"))
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(name)
    assert await mallory.read_until(PROMPT) == [OWNED.format(name), PROMPT]
    await mallory.send("mallory")
    await mallory.read_until(lambda line: line.startswith("Welcome, mallory!"))
    # Nobody ever saw a victor arrive: only mallory.
    assert await bob.read_until("mallory joined the chat!") == ["mallory joined the chat!"]
    joins = await carol.read_until(lambda m: m.command == "JOIN")
    assert [source_nick(m) for m in joins if m.command == "JOIN"] == ["mallory"]
    await still_chatting(bob, carol, "after")


async def test_a_registered_name_whose_owner_is_online_is_refused_at_the_prompt(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, clients: Clients
) -> None:
    server, bob, carol = chatting
    victor = await register_account(clients, server, "victor")
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send("victor")
    assert await mallory.read_until(PROMPT) == [OWNED.format("victor"), PROMPT]
    # victor was not disturbed: still named victor, still logged in.
    await victor.send("WHOIS victor")
    whois = await victor.read_until(n.RPL_ENDOFWHOIS)
    assert [m.params[2] for m in whois if m.command == n.RPL_WHOISACCOUNT] == ["victor"]
    await still_chatting(bob, carol, "after")


async def test_nick_to_a_registered_name_is_refused_and_the_name_is_kept(
    chatting: tuple[Server, PlainPeer, LineClient], clients: Clients
) -> None:
    server, bob, carol = chatting
    await leave(await register_account(clients, server, "victor"))
    await bob.send("/nick Victor")
    await bob.read_until(OWNED.format("Victor"))
    await bob.send("/who")
    assert (await bob.read_until(lambda line: line.startswith("In "))) == [
        f"In {ROOM}: @carol, bob"
    ]
    await bob.send("/nick robert")
    await bob.read_until("You are now robert.")
    # carol saw one nick change, bob to robert, and never a victor.
    got = await carol.read_until("NICK")
    assert [(source_nick(m), m.params) for m in got if m.command == "NICK"] == [
        ("bob", ("robert",))
    ]


async def test_a_registered_name_is_refused_in_russian_on_a_russian_door(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path, "ru")) as server:
        await register_account(clients, server, "victor")
        mallory = await peers.open(server)
        await mallory.read_until("Введите ваше имя: ")
        await mallory.send("victor")
        assert await mallory.read_until("Введите ваше имя: ") == [
            "Имя victor принадлежит зарегистрированной учётной записи. Попробуйте другое.",
            "Введите ваше имя: ",
        ]


async def test_an_unregistered_name_still_works_beside_registered_ones(
    server: Server, peers: Peers, clients: Clients
) -> None:
    await register_account(clients, server, "victor")
    await peers.connect(server, "victoria")


# -- finding 8: every field another user sends is cleaned --------------------------------


async def test_an_invite_to_a_room_named_with_escapes_never_reaches_a_plain_terminal_raw(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    _server, bob, carol = chatting
    await carol.send("INVITE bob #\x1b]0;PWNED\x07\x1b[2Jx")
    await carol.sync()
    seen = await bob.sync()
    # The core may refuse such a room name; if the invitation is shown, it is clean.
    invitations = [line for line in seen if "invites you" in line]
    assert invitations in ([], ["carol invites you to #x. Type /join #x"])
    assert_terminal_safe(bob)
    await still_chatting(bob, carol, "after")


async def test_an_invite_to_a_room_named_with_bidi_overrides_is_shown_without_them(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    _server, bob, carol = chatting
    await carol.send("INVITE bob #\u202eevil\u202c")
    await carol.sync()
    seen = await bob.sync()
    invitations = [line for line in seen if "invites you" in line]
    assert invitations in ([], ["carol invites you to #evil. Type /join #evil"])
    assert_terminal_safe(bob)


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (f"PRIVMSG {ROOM} :{HOSTILE}", f"carol: {SHOWN}"),
        (f"PRIVMSG {ROOM} :\x01ACTION {HOSTILE}\x01", f"* carol {SHOWN}"),
        (f"NOTICE {ROOM} :{HOSTILE}", f"-carol- {SHOWN}"),
        (f"PRIVMSG bob :{HOSTILE}", f"[private] carol: {SHOWN}"),
        (f"TOPIC {ROOM} :{HOSTILE}", f"carol changed the topic of {ROOM}: {SHOWN}"),
        (f"KICK {ROOM} bob :{HOSTILE}", f"You were kicked from {ROOM} by carol: {SHOWN}"),
    ],
    ids=["privmsg", "action", "notice", "private", "topic", "kick"],
)
async def test_hostile_text_from_an_irc_user_is_shown_cleaned(
    chatting: tuple[Server, PlainPeer, LineClient], command: str, shown: str
) -> None:
    _server, bob, carol = chatting
    await carol.send(command)
    assert await bob.read_until(shown) == [shown]
    assert_terminal_safe(bob)


async def test_a_part_reason_and_another_users_kick_reason_are_shown_cleaned(
    chatting: tuple[Server, PlainPeer, LineClient], clients: Clients
) -> None:
    server, bob, carol = chatting
    dave = await clients.connect(server, "dave", ROOM)
    await bob.read_until("dave joined the chat!")
    await dave.send(f"PART {ROOM} :{HOSTILE}")
    await bob.read_until(f"dave left {ROOM} ({SHOWN})")
    await dave.send(f"JOIN {ROOM}")
    await bob.read_until("dave joined the chat!")
    await carol.send(f"KICK {ROOM} dave :{HOSTILE}")
    await bob.read_until(f"dave was kicked from {ROOM} by carol: {SHOWN}")
    assert_terminal_safe(bob)
    await still_chatting(bob, carol, "after")


async def test_a_topic_is_shown_cleaned_on_join_in_the_room_list_and_on_asking(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    _server, bob, carol = chatting
    await carol.send("JOIN #dev", f"TOPIC #dev :{HOSTILE}")
    await carol.sync()
    await bob.send("/join #dev")
    assert await bob.read_until(f"Topic of #dev: {SHOWN}") == [
        "You are now in #dev.",
        f"Topic of #dev: {SHOWN}",
    ]
    await bob.send("/topic")
    await bob.read_until(f"Topic of #dev: {SHOWN}")
    await bob.send("/rooms")
    await bob.read_until(f"  #dev (2) - {SHOWN}")
    assert_terminal_safe(bob)


async def test_a_kill_reason_reaches_the_killed_plain_user_cleaned(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    _server, bob, carol = chatting
    await carol.send("OPER oper operpass")
    await carol.read_until(n.RPL_YOUREOPER)
    await carol.send(f"KILL bob :{HOSTILE}")
    assert await bob.rest() == [
        f"You were disconnected by carol: {SHOWN}",
        f"Killed (carol ({SHOWN}))",
    ]
    assert_terminal_safe(bob)


async def test_the_recent_lines_shown_on_arrival_are_cleaned(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    await carol.send(f"PRIVMSG {ROOM} :{HOSTILE}")
    await bob.read_until(f"carol: {SHOWN}")
    dave = await peers.open(server)
    await dave.read_until(PROMPT)
    await dave.send("dave")
    got = await dave.read_until(f"  carol: {SHOWN}")
    assert f"Recently in {ROOM}:" in got
    assert_terminal_safe(dave)


# -- finding 14: bidirectional formatting in room names and from plain users -------------


async def test_a_room_cannot_be_named_with_bidi_controls(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    """Format characters would reorder the line a room's name is shown in: the core
    refuses them in names, so no such room exists and no invitation names one."""
    _server, bob, carol = chatting
    await carol.send("JOIN #\u202eved\u2066", "INVITE bob #\u202eved\u2066", "PING :done")
    got = await carol.read_until(lambda m: m.command == "PONG")
    assert [m.command for m in got if m.command.isdigit()] == ["476", "476"]
    await bob.send("/rooms")
    listed = await bob.read_until(lambda line: line.startswith("  #"))
    assert not any("ved" in line for line in listed)
    assert_terminal_safe(bob)


async def test_bidi_controls_a_plain_user_types_reach_nobody(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    await mallory.send("look: \u202egnp.exe\u202c \u2066x\u2069\u200f")
    await bob.read_until("mallory: look: gnp.exe x")
    got = await carol.read_until(lambda m: m.command == "PRIVMSG" and source_nick(m) == "mallory")
    assert got[-1].params == (ROOM, "look: gnp.exe x")
    assert_terminal_safe(bob)


# -- bad names at the prompt ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        b"\xff\xfe" * 200,
        b"v" * 31,
        b"two words",
        b"#lobby",
        b"bob",
        b"\x00" * 300,
        "\u202e\u2066\u200f".encode() * 40,
        "\u202ebob".encode(),
        "ViсtOR".encode(),  # a Cyrillic с among Latin letters
    ],
    ids=[
        "invalid-utf8",
        "too-long",
        "space",
        "room",
        "taken",
        "nuls",
        "bidi-only",
        "bidi-taken",
        "mixed-scripts",
    ],
)
async def test_a_bad_name_at_the_prompt_is_answered_and_nobody_else_notices(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, name: bytes
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(name)
    got = await mallory.read_until(PROMPT)
    assert len(got) == 2, got  # the reason, then the prompt again
    assert_terminal_safe(mallory)
    assert await bob.sync() == []
    await still_chatting(bob, carol, "after")
    await mallory.send("mallory")
    await bob.read_until("mallory joined the chat!")


async def test_many_bad_names_in_one_burst_are_each_answered(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(b"\n".join([b"v" * 5000, b"bob", b"\x1b[2J", b"a b"] * 8))
    for _ in range(32):
        got = await mallory.read_until(PROMPT)
        assert len(got) == 2, got
    assert TOO_LONG.encode() in mallory.raw
    assert_terminal_safe(mallory)
    assert await bob.sync() == []
    await still_chatting(bob, carol, "after")


# -- third probe: look-alikes in other scripts, and blank runs ---------------------------


@pytest.mark.parametrize("name", ["ΑΝΝΑ", "АNNА", "annа"])  # Greek, Cyrillic capitals, mixed
async def test_a_look_alike_of_a_registered_name_in_capitals_of_another_script_is_refused(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, clients: Clients, name: str
) -> None:
    server, bob, carol = chatting
    await leave(await register_account(clients, server, "anna"))
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(name)
    refusal = await mallory.read_until(PROMPT)
    assert refusal[-1] == PROMPT
    assert not any(line.startswith("Welcome") for line in refusal), refusal
    await still_chatting(bob, carol, "after")


@pytest.mark.parametrize(
    "blank",
    ["\u00a0", "\u3000", "\u2800", "\u3164", " ", " " * 16 + "\u034f", " " * 16 + "\ufe0f"],
)
async def test_a_long_run_of_blanks_cannot_push_text_onto_a_line_of_its_own(
    chatting: tuple[Server, PlainPeer, LineClient], blank: str
) -> None:
    _server, bob, carol = chatting
    runs = 60 if len(blank) == 1 else 6
    await carol.send(f"PRIVMSG {ROOM} :hi{blank * runs}alice: log in at evil.example")
    shown = f"carol: hi{' ' * 16}alice: log in at evil.example"
    assert await bob.read_until(shown) == [shown]
    await still_chatting(bob, carol, "after")


@pytest.mark.parametrize("mark", ["\u0e49", "\u0489", "\u05b4", "\u0301"])
async def test_a_stack_of_marks_of_any_script_is_cut_to_two(
    chatting: tuple[Server, PlainPeer, LineClient], mark: str
) -> None:
    _server, bob, carol = chatting
    await carol.send(f"PRIVMSG {ROOM} :T{mark * 40}")
    shown = f"carol: T{mark * 2}"
    assert await bob.read_until(shown) == [shown]
    await still_chatting(bob, carol, "after")


async def test_a_server_password_is_asked_for_on_the_plain_door_too(
    tmp_path: Path, peers: Peers
) -> None:
    settings = settings_for(tmp_path).replace(password="srvpw-secret")
    async with running_server(settings) as server:
        guesser = await peers.open(server)
        assert await guesser.read_until(PASSWORD_PROMPT) == [PASSWORD_PROMPT]
        await guesser.send("srvpw")
        assert await guesser.read_until("Wrong password.") == ["Wrong password."]
        assert await guesser.line() is None  # closed, never a member
        member = await peers.open(server)
        await member.read_until(PASSWORD_PROMPT)
        await member.send("srvpw-secret")
        await member.read_until(PROMPT)
        await member.send("carol")
        await member.read_until(lambda line: line.startswith("Welcome, carol!"))
