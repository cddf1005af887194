"""``hubbub chat`` and the private chats of an always-on account, driven with Pilot
against the real hubbub server: what was said privately while no device was attached
gets its buffer, unread, and a private chat opened again shows its history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.text import Text

from hubbub.client.app import ChatApp
from hubbub.client.state import BufferKind
from hubbub.client.widgets.buffers import BufferList
from hubbub.client.widgets.input import ChatInput
from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from tests.client.support import irc_port, make_app, server_settings, showing, until
from tests.helpers import LineClient, running_server

PASSWORD = "correct-horse-battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A server where anna has an always-on account (it stays while no device is on)."""
    async with running_server(server_settings(tmp_path)) as server:
        owner = await LineClient.open(irc_port(server))
        await owner.register("anna")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.read_until(n.RPL_LOGGEDIN)
        await owner.send("NS SET ALWAYS-ON ON")
        await owner.read_until(lambda m: "ALWAYS-ON" in m.params[-1])
        await owner.send("QUIT")
        await owner.closed()
        await owner.close()
        yield server


def laptop(server: Server) -> ChatApp:
    return make_app(
        irc_port(server), join=("#team",), account="anna", password=PASSWORD, device="laptop"
    )


def texts(app: ChatApp, nick: str) -> list[str]:
    buffer = app.state.buffers.get(Key(nick))
    return [] if buffer is None else [line.text for line in buffer.lines if line.nick]


async def type_line(app: ChatApp, text: str) -> None:
    entry = app.query_one(ChatInput)
    entry.value = text
    await entry.action_submit()


async def test_private_messages_sent_while_away_open_unread_buffers_on_reconnecting(
    server: Server,
) -> None:
    bob = await LineClient.open(irc_port(server))
    carol = await LineClient.open(irc_port(server))
    try:
        await bob.send("CAP REQ :away-notify", "CAP END")
        await bob.register("bob")
        await bob.send("JOIN #team")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await carol.register("carol")

        app = laptop(server)
        async with app.run_test(size=(120, 36)):
            state = app.state
            await until(app, lambda: state.active == Key("#team"))
            await carol.send("PRIVMSG anna :earlier from carol")
            await until(app, lambda: texts(app, "carol") == ["earlier from carol"])

            # Closed, then opened again with /query: its history is fetched, as a
            # channel's is on joining, and shown (so read).
            await type_line(app, "/go carol")
            await until(app, lambda: state.active == Key("carol"))
            await type_line(app, "/close")
            await until(app, lambda: Key("carol") not in state.buffers)
            await type_line(app, "/query carol")
            await until(app, showing(app, "<carol> earlier from carol"))
            assert state.active == Key("carol")
            assert [line.history for line in state.buffers[Key("carol")].lines] == [True]
        # Every device gone, anna stays, away.
        await bob.read_until("AWAY")
        await bob.send("PRIVMSG anna :call me tomorrow")
        await bob.read_until(n.RPL_AWAY)

        app = laptop(server)
        async with app.run_test(size=(120, 36)) as pilot:
            state = app.state
            query = Key("bob")
            await until(app, lambda: texts(app, "bob") == ["call me tomorrow"])
            await until(app, lambda: state.buffers[query].unread == 1)
            assert state.buffers[query].kind is BufferKind.QUERY
            assert state.buffers[query].mentions == 1
            assert state.active == Key("#team")  # opened, not focused
            # carol's chat is back too, read on the first run: nothing unread there.
            await until(
                app,
                lambda: texts(app, "carol") == ["earlier from carol"] and not state.batches,
            )
            assert state.buffers[Key("carol")].unread == 0
            # NickServ, spoken to on registering, is no private chat to reopen.
            assert sorted(state.buffers) == ["#team", "*", "bob", "carol"]
            await pilot.pause()
            labels = [
                option.prompt.plain
                for option in app.query_one(BufferList).options
                if isinstance(option.prompt, Text)
            ]
            assert any(label.endswith("bob 1!") for label in labels), labels

            # Read here, and the server is told: bob's line is read on the next start.
            await type_line(app, "/query bob")
            await until(app, lambda: state.buffers[query].unread == 0)
    finally:
        for client in (bob, carol):
            await client.close()
