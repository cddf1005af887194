"""The whole client, driven with Pilot, against the real hubbub server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from hubbub.client.commands import COMMANDS
from hubbub.client.state import SERVER, BufferKind
from hubbub.client.widgets.bars import TopicBar
from hubbub.client.widgets.buffers import BufferList
from hubbub.client.widgets.input import ChatInput
from hubbub.client.widgets.screens import HelpScreen, help_table
from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from tests.client.support import (
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


async def test_two_people_chat_in_a_channel(server: Server, bob: LineClient) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        await bob.send("JOIN #rust")
        await bob.read_until(n.RPL_ENDOFNAMES)
        rust = app.state.buffers[Key("#rust")]
        await until(app, lambda: Key("bob") in rust.members)
        assert rust.members[Key("anna")].prefixes == "@"

        await pilot.press(*"hello bob", "enter")
        said = await bob.read_until(lambda m: m.command == "PRIVMSG")
        assert said[-1].params == ("#rust", "hello bob")
        assert said[-1].source is not None
        assert said[-1].source.startswith("anna!")
        await until(app, showing(app, "<anna> hello bob"))

        await bob.send("PRIVMSG #rust :hi anna, welcome", "PRIVMSG #rust :\x01ACTION waves\x01")
        await until(app, showing(app, "* bob waves"))
        assert showing(app, "<bob> hi anna, welcome")()
        assert showing(app, "→ bob joined")()


async def test_a_private_message_opens_a_buffer_with_unread_counts(
    server: Server, bob: LineClient
) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        await bob.send("PRIVMSG anna :psst", "PRIVMSG anna :are you there?")
        await until(app, lambda: Key("bob") in app.state.buffers)
        query = app.state.buffers[Key("bob")]
        await until(app, lambda: query.unread == 2)
        assert query.kind is BufferKind.QUERY
        assert query.mentions == 2
        await pilot.pause()
        labels = [
            option.prompt.plain
            for option in app.query_one(BufferList).options
            if isinstance(option.prompt, Text)
        ]
        assert " 3 bob 2!" in labels, labels

        await pilot.press("ctrl+n")  # #rust → bob
        await until(app, lambda: app.state.active == Key("bob"))
        assert query.unread == 0
        assert query.mentions == 0
        assert showing(app, "<bob> are you there?")()
        await pilot.press(*"yes", "enter")
        said = await bob.read_until(lambda m: m.command == "PRIVMSG")
        assert said[-1].params == ("bob", "yes")

        await pilot.press("alt+1")
        await until(app, lambda: app.state.active == SERVER)


async def test_tab_completes_nicks_channels_and_commands(server: Server, bob: LineClient) -> None:
    await bob.send("JOIN #rust")
    await bob.read_until(n.RPL_ENDOFNAMES)
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        rust = Key("#rust")
        await until(
            app, lambda: Key("bob") in app.state.buffers.get(rust, app.state.current).members
        )
        entry = app.query_one(ChatInput)
        await pilot.press("b", "o", "tab")
        assert entry.value == "bob: "
        await pilot.press(*"see #ru", "tab")
        assert entry.value == "bob: see #rust "
        entry.value = ""
        await pilot.press("/", "w", "h", "tab")
        assert entry.value == "/whois "


async def test_a_new_nick_and_a_join_typed_as_commands(server: Server, bob: LineClient) -> None:
    app = make_app(irc_port(server), "anna")
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.registered)
        await pilot.press(*"/nick ann", "enter")
        await until(app, lambda: app.state.nick == "ann")
        await pilot.press(*"/j #new", "enter")
        await until(app, lambda: app.state.active == Key("#new"))
        await bob.send("JOIN #new", "PRIVMSG #new :hello ann")
        await until(app, showing(app, "<bob> hello ann"))
        line = app.state.buffers[Key("#new")].lines[-1]
        assert line.mention  # the nick is named


async def test_history_and_multiline_paste_protection(server: Server, bob: LineClient) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        await bob.send("JOIN #rust")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await pilot.press(*"one", "enter")
        await pilot.press(*"two", "enter")
        entry = app.query_one(ChatInput)
        await pilot.press("up")
        assert entry.value == "two"
        await pilot.press("up")
        assert entry.value == "one"
        await pilot.press("down", "down")
        assert entry.value == ""

        entry.post_message(ChatInput.MultilinePaste(["one", "/two", "three"]))
        await pilot.pause()
        await pilot.press("n")  # refused: nothing is sent
        await pilot.press(*"3", "enter")
        texts = [
            m.params[-1]
            for m in await bob.read_until(lambda m: m.command == "PRIVMSG" and m.params[-1] == "3")
            if m.command == "PRIVMSG"
        ]
        assert texts == ["one", "two", "3"]

        entry.post_message(ChatInput.MultilinePaste(["one", "/two", "three"]))
        await pilot.pause()
        await pilot.press("y")
        said = await bob.read_until(lambda m: m.command == "PRIVMSG" and m.params[-1] == "three")
        assert [m.params[-1] for m in said if m.command == "PRIVMSG"] == ["one", "/two", "three"]


async def start_first(tmp_path: Path) -> tuple[Server, asyncio.Task[None]]:
    """A server the test stops itself (stop_first), to start another on its port."""
    server = Server(server_settings(tmp_path))
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    return server, task


async def stop_first(server: Server, task: asyncio.Task[None]) -> None:
    server.stop()
    async with asyncio.timeout(10):
        await task


async def test_reconnects_and_rejoins_after_the_server_restarts(tmp_path: Path) -> None:
    first, task = await start_first(tmp_path)
    port = irc_port(first)
    app = make_app(port, "anna", ("#rust",))
    async with app.run_test(size=(120, 36)):
        await until(app, lambda: app.state.active == Key("#rust"))
        await stop_first(first, task)
        await until(app, lambda: not app.state.connected)
        assert not app.state.buffers[Key("#rust")].joined
        async with running_server(server_settings(tmp_path, port)) as second:
            await until(app, lambda: app.state.buffers[Key("#rust")].joined)
            assert app.state.active == Key("#rust")  # still where the user was
            peer = await LineClient.open(irc_port(second))
            await peer.register("bob")
            await peer.send("JOIN #rust", "PRIVMSG #rust :welcome back")
            await until(app, showing(app, "<bob> welcome back"))
            await peer.close()
        assert app.connection.attempts >= 2


async def test_a_topic_gone_after_a_server_restart_is_gone_from_the_topic_bar(
    tmp_path: Path,
) -> None:
    first, task = await start_first(tmp_path)
    port = irc_port(first)
    app = make_app(port, "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        await pilot.press(*"/topic old news", "enter")
        await until(app, lambda: "old news" in str(app.query_one(TopicBar).render()))
        await stop_first(first, task)
        await until(app, lambda: not app.state.connected)
        # #rust is not registered: the new server knows no topic for it.
        async with running_server(server_settings(tmp_path, port)):
            rust = app.state.buffers[Key("#rust")]
            # Its names come after the topic the server would send on joining.
            await until(app, lambda: rust.joined and Key("anna") in rust.members)
            assert rust.topic == ""
            assert "old news" not in str(app.query_one(TopicBar).render())


async def test_modes_gone_after_a_server_restart_are_gone_from_the_channel(
    tmp_path: Path,
) -> None:
    first, task = await start_first(tmp_path)
    port = irc_port(first)
    app = make_app(port, "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        rust = app.state.buffers[Key("#rust")]
        await until(app, lambda: rust.modes != "")
        await pilot.press(*"/mode #rust +m", "enter")
        await until(app, lambda: "m" in rust.modes)
        await stop_first(first, task)
        await until(app, lambda: not app.state.connected)
        # #rust is not registered: the new server made it again, without +m.
        async with running_server(server_settings(tmp_path, port)):
            await until(app, lambda: rust.joined and rust.modes != "")
            assert "m" not in rust.modes
            assert "n" in rust.modes


async def test_lines_that_arrive_with_the_join_are_shown_once() -> None:
    lines = (
        b":irc.test 001 anna :Welcome",
        b":anna!a@h JOIN #rust",
        b":irc.test 353 anna = #rust :@anna",
        b":irc.test 366 anna #rust :End",
        b":dan!d@h JOIN #rust",
        b":dan!d@h PRIVMSG #rust :first",
    )
    async with scripted_server(*lines) as port:
        app = make_app(port, "anna", ("#rust",))
        async with app.run_test(size=(120, 36)):
            await until(app, showing(app, "<dan> first"))
            assert [line[6:] for line in shown(app)] == [
                "-- You joined #rust",
                "→ dan joined",
                "<dan> first",
            ]


async def test_f1_shows_every_command_and_key(server: Server) -> None:
    app = make_app(irc_port(server), "anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        console = Console(record=True, width=110)
        console.print(help_table(app.screen.commands))
        text = console.export_text()
        for name, found in COMMANDS.items():
            assert found.usage in text, name
        assert "/part [#channel] [reason]" in text
        assert "ctrl+n / ctrl+p" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_joining_shows_what_was_said_before_from_history(
    server: Server, bob: LineClient
) -> None:
    await bob.send("JOIN #rust", "PRIVMSG #rust :said before anna came")
    await bob.sync()
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)):
        await until(app, showing(app, "<bob> said before anna came"))
        line = next(line for line in app.state.buffers[Key("#rust")].lines if line.nick == "bob")
        assert line.history
        assert app.state.buffers[Key("#rust")].unread == 0
