"""What a newcomer meets on starting ``hubbub chat``, driven with Pilot against the real
hubbub server: where they land, how history on joining reads, the words in place of raw
numerics, and the buffer list's badges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.client.app import ChatApp
from hubbub.client.config import resolve
from hubbub.client.state import SERVER, BufferKind
from hubbub.server import Server
from hubbub.wire.casemap import Key
from tests.client.support import (
    FAST,
    irc_port,
    scripted_server,
    server_settings,
    showing,
    shown,
    until,
)
from tests.helpers import running_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(server_settings(tmp_path)) as server:
        yield server


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
