"""What a newcomer meets on starting ``hubbub chat``, driven with Pilot against the real
hubbub server: where they land, how history on joining reads, the words in place of raw
numerics, and the buffer list's badges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.text import Text

from hubbub.client.app import ChatApp
from hubbub.client.config import resolve
from hubbub.client.state import SEPARATOR_TEXT, SERVER, BufferKind
from hubbub.client.widgets.buffers import BufferList
from hubbub.server import Server
from hubbub.wire.casemap import Key
from tests.client.support import (
    FAST,
    irc_port,
    make_app,
    scripted_server,
    server_settings,
    showing,
    shown,
    until,
)
from tests.helpers import LineClient, running_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(server_settings(tmp_path)) as server:
        yield server


@pytest.fixture
async def bob(server: Server) -> AsyncIterator[LineClient]:
    client = await LineClient.open(irc_port(server))
    await client.register("bob")
    yield client
    await client.close()


def texts(app: ChatApp, key: Key) -> list[str]:
    buffer = app.state.buffers.get(key)
    return [line.text for line in buffer.lines] if buffer is not None else []


def chat(port: int, nick: str = "anna") -> ChatApp:
    """``hubbub chat 127.0.0.1:<port> --nick <nick>``: no --join, no config file."""
    return ChatApp(resolve(f"127.0.0.1:{port}", nick=nick, config={}), FAST)


async def test_with_no_options_the_client_lands_in_the_servers_lobby(server: Server) -> None:
    app = chat(irc_port(server))
    assert app.network.join == ()
    async with app.run_test(size=(120, 36)):
        await until(app, lambda: app.state.active == Key("#lobby"))
        assert app.state.buffers[Key("#lobby")].joined
        assert showing(app, "You joined #lobby")()
        assert app.state.joined_channels() == ["#lobby"]


async def test_a_server_without_a_lobby_leaves_the_client_in_no_channel() -> None:
    lines = (
        b":irc.test 001 anna :Welcome",
        b":irc.test 005 anna NETWORK=Elsewhere :are supported by this server",
        b":irc.test 376 anna :End of /MOTD command.",
    )
    async with scripted_server(*lines) as port:
        app = chat(port)
        async with app.run_test(size=(120, 36)):
            await until(app, showing(app, "You are in no channel yet"))
            assert app.state.active == SERVER
            assert not any(b.kind is BufferKind.CHANNEL for b in app.state.buffers.values())
            assert any("/join #name" in line for line in shown(app))


def labels(app: ChatApp) -> list[str]:
    """The buffer list's entries as text."""
    return [
        option.prompt.plain
        for option in app.query_one(BufferList).options
        if isinstance(option.prompt, Text)
    ]


async def test_history_on_joining_comes_first_and_names_no_one_again(
    server: Server, bob: LineClient
) -> None:
    await bob.send("JOIN #rust,#lobby", "PRIVMSG #lobby :anna: are you around?")
    await bob.send("PRIVMSG #lobby :ping me when back")
    await bob.sync()
    app = make_app(irc_port(server), "anna", ("#rust", "#lobby"))
    async with app.run_test(size=(120, 36)) as pilot:
        lobby = Key("#lobby")
        await until(app, lambda: SEPARATOR_TEXT in texts(app, lobby))
        assert app.state.active == Key("#rust")  # the lobby is not on screen
        assert (app.state.buffers[lobby].unread, app.state.buffers[lobby].mentions) == (0, 0)
        await pilot.pause()
        assert " 2 #lobby" in labels(app)  # no count, no mark

        await bob.send("PRIVMSG #lobby :anna: back now?")
        await until(app, lambda: app.state.buffers[lobby].mentions == 1)
        await pilot.pause()
        assert " 2 #lobby 1!" in labels(app)

        await pilot.press("alt+2")
        await until(app, lambda: app.state.active == lobby)
        assert [line[6:] for line in shown(app)] == [
            "<bob> anna: are you around?",
            "<bob> ping me when back",
            SEPARATOR_TEXT,
            "-- You joined #lobby",
            "<bob> anna: back now?",
        ]
        lines = app.state.buffers[lobby].lines
        assert [line.mention for line in lines] == [False, False, False, False, True]
        assert [line.history for line in lines] == [True, True, False, False, False]


async def test_a_private_chats_badge_shows_its_count_once(server: Server, bob: LineClient) -> None:
    app = chat(irc_port(server))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#lobby"))
        await bob.send("JOIN #lobby", "PRIVMSG #lobby :hello all", "PRIVMSG anna :psst")
        await until(app, lambda: Key("bob") in app.state.buffers)
        await pilot.press("alt+1")  # the server buffer: #lobby is now unread too
        await bob.send("PRIVMSG #lobby :anyone?")
        await until(app, lambda: app.state.buffers[Key("#lobby")].unread == 1)
        await pilot.pause()
        assert labels(app)[1:] == [" 2 #lobby 1", " 3 bob 1!"]


async def test_the_servers_welcome_reads_as_words_not_raw_numerics(server: Server) -> None:
    app = chat(irc_port(server))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#lobby"))
        await pilot.press("alt+1")
        await until(app, lambda: app.state.active == SERVER)
        lines = [line[6:] for line in shown(app)]
        assert "-- Welcome to the hubbub IRC Network anna" in lines
        assert "-- 1 user online (max 1)" in lines
        assert "-- Welcome to hubbub." in lines  # the MOTD, without its "- " frame
        text = "\n".join(lines)
        for raw in ("Current local users", "1 1 ", "Biorw", "Message of the day", "/MOTD"):
            assert raw not in text
