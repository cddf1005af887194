"""Plain mode (``hubbub chat --plain``) against hubbub's plain door and the seed's server.py.

The seed's ``server.py`` runs unmodified in a subprocess; a small bootstrap in the child
moves its fixed ``bind(('localhost', 8080))`` to port 0 on 127.0.0.1 and reports the port
the system chose, so the test never depends on a fixed port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.client.app import ChatApp
from hubbub.client.state import LineKind
from hubbub.client.widgets.bars import StatusBar
from hubbub.server import Server
from tests.client.support import (
    WAIT,
    make_app,
    plain_port,
    server_settings,
    serving,
    showing,
    shown,
    until,
)
from tests.helpers import LineClient, running_server

SEED_SERVER = Path(
    os.environ.get(
        "HUBBUB_SEED_SERVER",
        Path(__file__).resolve().parents[3] / "shared" / "seed" / "server.py",
    )
)
BOOTSTRAP = """\
import runpy, socket, sys
path = sys.argv[1]
bind = socket.socket.bind
def redirected(self, address):
    if address == ('localhost', 8080):
        address = ('127.0.0.1', 0)
    bind(self, address)
    sys.stderr.write(f"PORT {self.getsockname()[1]}\\n")
    sys.stderr.flush()
socket.socket.bind = redirected
sys.argv = [path]
runpy.run_path(path, run_name='__main__')
"""


class RawClient:
    """A socket client like ``nc``: bytes out, bytes in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received = b""

    @classmethod
    async def open(cls, port: int) -> RawClient:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    @classmethod
    async def named(cls, port: int, name: str, *lines: str) -> RawClient:
        """A plain-door user called ``name``, who said ``lines`` on arriving."""
        client = await cls.open(port)
        await client.read_until("Enter your name")
        await client.send("".join(f"{line}\n" for line in (name, *lines)))
        await client.read_until(f"Welcome, {name}!")
        if lines:
            # Answered once the lines before it were: said, not still on the way (a
            # client arriving next saw them live, not as the room's last lines).
            await client.send("/who\n")
            await client.read_until("In #lobby: ")
        return client

    async def send(self, text: str) -> None:
        self.writer.write(text.encode())
        await self.writer.drain()

    async def read_until(self, text: str) -> str:
        async with asyncio.timeout(WAIT):
            while text.encode() not in self.received:
                data = await self.reader.read(4096)
                if not data:
                    raise EOFError(self.received)
                self.received += data
        return self.received.decode()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(server_settings(tmp_path)) as server:
        yield server


async def test_plain_mode_chats_through_hubbubs_plain_door(server: Server) -> None:
    app = make_app(plain_port(server), "anna", plain=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, showing(app, "Welcome, anna!"))
        bob = await RawClient.open(plain_port(server))
        await bob.read_until("Enter your name")
        await bob.send("bob\n")
        await until(app, showing(app, "bob joined the chat!"))
        await bob.send("hi anna\n")
        await until(app, showing(app, "<bob> hi anna"))
        assert app.state.current.lines[-1].mention

        await pilot.press(*"hello bob", "enter")
        await bob.read_until("anna: hello bob\n")
        assert showing(app, "<anna> hello bob")()

        # IRC users share the room: the door relays between the dialects.
        irc = await LineClient.open(server.addresses[0][1])
        await irc.register("carol")
        await irc.send("JOIN #lobby", "PRIVMSG #lobby :from irc")
        await until(app, showing(app, "<carol> from irc"))
        await irc.close()

        await pilot.press(*"/join #b", "enter")
        await until(app, showing(app, "You are now in #b."))
        await bob.close()


async def test_plain_mode_shows_connected_and_the_room_s_last_lines_as_earlier_ones(
    tmp_path: Path,
) -> None:
    async with running_server(server_settings(tmp_path)) as server:
        port = plain_port(server)
        bob = await RawClient.named(port, "bob", "said before anna came", "anna: are you there?")
        app = make_app(port, "anna", plain=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(app, showing(app, "Welcome, anna!"))
            status = app.query_one(StatusBar)
            await until(app, lambda: " on test " in str(status.render()))
            # The name prompt, answered by the client, is not a line of the chat.
            assert showing(app, "   Enter your name: anna")()
            await pilot.press(*"/who", "enter")
            await until(app, showing(app, "In #lobby: "))
            lines = list(app.state.current.lines)
            earlier = [line for line in lines if line.nick == "bob"]
            assert [line.text for line in earlier] == [
                "said before anna came",
                "anna: are you there?",
            ]
            # Earlier lines: read, naming nobody, and with no time, as none was said.
            assert all(line.history and not line.mention for line in earlier)
            assert showing(app, "--:-- <bob> said before anna came")()
            await bob.close()


async def test_plain_mode_answers_the_name_prompt_again_with_what_the_user_types(
    server: Server,
) -> None:
    port = plain_port(server)
    bob = await RawClient.named(port, "anna")
    app = make_app(port, "anna", plain=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, showing(app, "The name anna is taken."))
        # Asked again: the user's next line is a name, not a line of chat.
        await until(app, lambda: not app.state.registered)
        await pilot.press(*"anna2", "enter")
        await until(app, showing(app, "Welcome, anna2!"))
        assert showing(app, "(your name) anna2")()
        assert not [line for line in app.state.current.lines if line.own]
        await pilot.press(*"hello", "enter")
        await bob.read_until("anna2: hello")
        await bob.close()


async def test_plain_mode_shows_no_last_line_twice_after_a_reconnection() -> None:
    """The door's last lines come again on each connection: only new ones are shown."""
    visits: list[bytes] = [
        b"  bob: first\n  bob: second\n",
        b"  bob: second\n  carol: third\n",
        b"  bob: second\n  carol: third\n",
    ]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recent = visits.pop(0)
        writer.write(b"Enter your name: \n")
        await reader.readline()
        writer.write(b"Welcome, anna!\nRecently in #lobby:\n" + recent + b"after\n")
        if visits:
            writer.close()  # the connection drops: the client comes back
        else:
            await reader.read()

    async with serving(handle) as port:
        app = make_app(port, "anna", plain=True)
        async with app.run_test(size=(100, 30)):
            await until(app, lambda: not visits and _afters(app) == 3)
            said = [(line.nick, line.text) for line in app.state.current.lines if line.history]
            assert said == [("bob", "first"), ("bob", "second"), ("carol", "third")]
            headings = [line for line in shown(app) if "Recently in #lobby:" in line]
            # A heading with nothing new under it is not shown.
            assert len(headings) == 2


def _afters(app: ChatApp) -> int:
    return sum(line.endswith("-- after") for line in shown(app))


@pytest.mark.skipif(not SEED_SERVER.is_file(), reason=f"no seed server at {SEED_SERVER}")
async def test_plain_mode_chats_through_the_seeds_server(tmp_path: Path) -> None:
    script = tmp_path / "bootstrap.py"
    script.write_text(BOOTSTRAP)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        str(script),
        str(SEED_SERVER),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(WAIT):
            announced = (await process.stderr.readline()).decode()
        assert announced.startswith("PORT ")
        port = int(announced.split()[1])

        app = make_app(port, "anna", plain=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(app, showing(app, "Введите ваше имя:"))
            await until(app, lambda: app.session.named)  # type: ignore[attr-defined]
            bob = await RawClient.open(port)
            await bob.read_until("Введите ваше имя:")
            await bob.send("bob")
            await until(app, showing(app, "bob подключился к чату!"))
            await pilot.press(*"привет, bob", "enter")
            await bob.read_until("anna: привет, bob")
            await bob.send("hi anna")
            await until(app, showing(app, "<bob> hi anna"))
            line = app.state.current.lines[-1]
            assert (line.kind, line.nick, line.text) == (LineKind.MESSAGE, "bob", "hi anna")
            await bob.close()
            await until(app, showing(app, "bob отключился."))
    finally:
        process.kill()
        await process.wait()
