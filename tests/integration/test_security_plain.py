"""Attacks on plain-door users over real sockets (issue 20): registered names.

IRC users are :class:`LineClient` peers, plain users raw sockets as ``nc`` would be. Each
test checks what the victim's terminal received, byte for byte where it matters, and
that the others go on chatting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients
from tests.integration.test_plain import (
    PROMPT,
    ROOM,
    Peers,
    PlainPeer,
    settings_for,
    source_nick,
    still_chatting,
)

PASSWORD = "correct-horse-battery"
OWNED = "The name {} belongs to a registered account. Try another one."


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    opened = Peers()
    try:
        yield opened
    finally:
        await opened.close_all()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(settings_for(tmp_path)) as server:
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
