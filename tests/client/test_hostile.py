"""A hostile IRC server: over-long lines, invalid UTF-8, escape sequences, unknown numerics.

The client must keep running, and nothing the server sends may reach the terminal as a
control character.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from hubbub.client.widgets.messages import MessageView
from hubbub.wire.casemap import Key
from tests.client.support import WAIT, make_app, serving, showing, until

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ESC = "\x1b"
HOSTILE_LINES = [
    b":evil 001 anna :Welcome \x1b[2J\x1b[H to evil",
    b":evil 005 anna PREFIX=(ov)@+ CHANTYPES=# NETWORK=\x1b]0;pwned\x07Evil :ok",
    b":evil 999 anna \x1b[31m :an unknown numeric \x1b[5m blinking",
    b":evil 042 anna",
    b":evil " + b"A" * 20_000,
    b":mallory!m@h PRIVMSG anna :caf\xe9 \xff\xfe invalid utf-8",
    b":mallory!m@h PRIVMSG anna :\x1b[2J\x1b[1;1H\x1b]8;;http://x\x07link\x1b]8;;\x07 \x9b31m",
    b":mallory!m@h NOTICE anna :\x07\x08\x7f\x00bell and nul",
    b":anna!a@h JOIN #evil",
    ":evil 332 anna #evil :\x1b[41mtopic\x1b[0m \u202eevil".encode(),
    b":evil 353 anna = #evil :@anna \x1b[31mred!x@y",
    b":evil 366 anna #evil :end",
    b":mallory\x1b[31m!m@h PRIVMSG #evil :\x1bc reset the terminal",
    b"@time=garbage;msgid=\x1b :mallory!m@h PRIVMSG #evil :bad tags",
    b":mallory!m@h PRIVMSG #evil :" + b"\xe2\x82" * 300,
    b"\x00\x00\x00",
    b":evil MODE #evil +ooooo a b",
    b":evil BATCH +x",
    b"PING :end-of-hostility",
]


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A server that answers any connection with the lines above, then waits."""
    ponged = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\r\n".join(HOSTILE_LINES) + b"\r\n")
        # A partial line split across writes and a line ended by a bare LF.
        writer.write(b":mallory!m@h PRIVMSG #evil :split ")
        await writer.drain()
        writer.write(b"across writes\n")
        while line := await reader.readline():
            if b"PONG" in line and b"end-of-hostility" in line:
                ponged.set()

    async with serving(handle) as port:
        yield port, ponged


async def test_hostile_server_input_never_reaches_the_screen(
    hostile: tuple[int, asyncio.Event],
) -> None:
    port, ponged = hostile
    app = make_app(port, "anna")
    async with app.run_test(size=(120, 36)) as pilot:
        async with asyncio.timeout(WAIT):
            await ponged.wait()
        await until(app, lambda: Key("#evil") in app.state.buffers)
        await pilot.press("alt+2")
        await until(app, showing(app, "split across writes"))
        await pilot.pause()
        assert app.is_running
        for buffer in app.state.buffers.values():
            for line in buffer.lines:
                assert not CONTROL.search(line.text), line
                assert not CONTROL.search(line.nick), line
        view = app.query_one(MessageView)
        assert all(ESC not in strip.text for strip in view.lines)
        screen = app.export_screenshot()
        assert not CONTROL.search(screen.replace("\n", ""))
        assert app.state.buffers[Key("#evil")].topic == "topic evil"
        assert app.state.network == "Evil"
        mallory = app.state.buffers[Key("mallory")]
        assert "caf\ufffd \ufffd\ufffd invalid utf-8" in [line.text for line in mallory.lines]
        assert any("over-long" in line.text for line in app.state.buffers[Key("*")].lines)
        assert app.connection.connected
