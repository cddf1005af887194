"""Test harnesses shared by the test packages: sans-I/O IRC clients and socket clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.hub import Hub
from hubbub.doors.irc.context import IrcContext
from hubbub.doors.irc.render import RenderCache
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.ports import ConnectionLog, shown_host
from hubbub.server import Server
from hubbub.settings import Listen, Oper, Settings
from hubbub.wire.casemap import Casemap
from hubbub.wire.message import Message, parse

SERVER_NAME = "irc.test"


class Clock:
    """A settable clock for the hub."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeClient:
    """An IrcSession with its output captured: bytes in, parsed lines out."""

    session: IrcSession
    sent: list[bytes] = field(default_factory=list)
    closed: bool = False

    def send(self, line: str | bytes) -> None:
        """Feed one line (without CRLF) to the session."""
        self.session.receive_line(line.encode() if isinstance(line, str) else line)

    def take(self) -> list[Message]:
        """Everything the session sent since the last call, parsed."""
        out = [parse(raw.rstrip(b"\r\n")) for raw in b"".join(self.sent).split(b"\r\n") if raw]
        self.sent.clear()
        return out

    def mark_closed(self) -> None:
        self.closed = True

    def take_raw(self) -> bytes:
        data = b"".join(self.sent)
        self.sent.clear()
        return data

    def numerics(self) -> list[str]:
        return [m.command for m in self.take()]


@dataclass
class FakePeer:
    """A session's connection in tests without sockets: an address, and a note of
    being closed."""

    host: str = "127.0.0.1"
    secure: bool = False
    certfp: str | None = None
    on_close: Callable[[], None] | None = None
    # No batcher here: everything reaches the session's send.
    outbox: None = None
    frames: None = None
    debug: bool = False
    spent: int = 0  # flood control's lines taken beyond one per line
    drains: int = 0  # waits of a long reply for the client to read

    @property
    def shown_host(self) -> str:
        return shown_host(self.host)

    @property
    def log(self) -> ConnectionLog:
        return ConnectionLog(logging.getLogger("hubbub.doors.connection"), {"conn": 0})

    def close_transport(self) -> None:
        if self.on_close is not None:
            self.on_close()

    def spend(self, cost: int) -> None:
        self.spent += cost

    async def drained(self) -> None:
        self.drains += 1


class Harness:
    """A hub and IRC context with no sockets; makes :class:`FakeClient` sessions."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings(
            server_name=SERVER_NAME, opers=(Oper("oper", "operpass"),)
        )
        self.clock = Clock()
        limits = self.settings.limits
        self.hub = Hub(
            Casemap(self.settings.casemapping, limits.nicklen, limits.channellen),
            self.settings.limits,
            clock=self.clock,
            bus=LocalBus(),
            registry=LocalRegistry(),
        )
        # The server-time of events that carry none is the hub's clock too: two
        # harnesses given the same steps render the same bytes.
        self.ctx = IrcContext(self.hub, self.settings, ["Hello"], cache=RenderCache(self.clock))

    def client(self, host: str = "127.0.0.1") -> FakeClient:
        """A connected, unregistered client."""
        sent: list[bytes] = []
        peer = FakePeer(host)
        client = FakeClient(IrcSession(self.ctx, sent.append, peer), sent)
        peer.on_close = client.mark_closed
        return client

    def register(self, nick: str, *joins: str) -> FakeClient:
        """A registered client that joined ``joins``; its output so far is discarded."""
        client = self.client()
        client.send(f"NICK {nick}")
        client.send(f"USER {nick.lower()[:8] or 'u'} 0 * :Real {nick}")
        for channel in joins:
            client.send(f"JOIN {channel}")
        assert client.session.registered, client.take()
        client.take()
        return client


@contextlib.asynccontextmanager
async def running_server(
    settings: Settings | None = None,
) -> AsyncIterator[Server]:
    """A real server on 127.0.0.1 with an ephemeral port, stopped on exit."""
    server = Server(
        settings
        or Settings(
            server_name=SERVER_NAME,
            listen=(Listen("127.0.0.1", 0),),
            plain=Listen("127.0.0.1", 0),
            web=None,
        )
    )
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    try:
        yield server
    finally:
        server.stop()
        async with asyncio.timeout(10):
            await task


class LineClient:
    """A raw IRC client over a real socket, for integration tests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._token = 0

    @classmethod
    async def open(cls, port: int) -> LineClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def send(self, *lines: str | bytes) -> None:
        for line in lines:
            self.writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")
        await self.writer.drain()

    async def read(self, seconds: float = 5.0) -> Message | None:
        """The next line, or None at end of stream."""
        async with asyncio.timeout(seconds):
            raw = await self.reader.readline()
        if not raw:
            return None
        return parse(raw.rstrip(b"\r\n"))

    async def read_until(
        self, match: Callable[[Message], bool] | str, seconds: float = 5.0
    ) -> list[Message]:
        """Lines up to and including the first that matches (a predicate or a command)."""
        check = (lambda m: m.command == match) if isinstance(match, str) else match
        seen: list[Message] = []
        async with asyncio.timeout(seconds):
            while True:
                message = await self.read(seconds)
                if message is None:
                    raise EOFError(f"closed; saw {seen}")
                seen.append(message)
                if check(message):
                    return seen

    async def sync(self) -> list[Message]:
        """Everything the server sent before it answered a PING sent now."""
        self._token += 1
        token = f"sync{self._token}"
        await self.send(f"PING {token}")
        lines = await self.read_until(lambda m: m.command == "PONG" and token in m.params)
        return lines[:-1]

    async def register(self, nick: str) -> list[Message]:
        await self.send(f"NICK {nick}", f"USER {nick[:8]} 0 * :Real {nick}")
        return await self.read_until("376")

    async def log_in(
        self,
        login: str,
        password: str,
        nick: str,
        caps: str = "",
        until: Callable[[Message], bool] | str = "376",
        seconds: float = 5.0,
    ) -> list[Message]:
        """Register as ``nick``, logged in with SASL PLAIN as ``login`` (``account@device``
        names the client's device), with ``caps`` too; what came up to ``until``."""
        await self.send(
            "CAP LS 302",
            f"NICK {nick}",
            f"USER {nick[:8]} 0 * :Real {nick}",
            f"CAP REQ :sasl {caps}".rstrip(),
        )
        await self.read_until(lambda m: m.command == "CAP" and m.params[1] == "ACK")
        await self.send("AUTHENTICATE PLAIN")
        await self.read_until("AUTHENTICATE")
        payload = base64.b64encode(f"\0{login}\0{password}".encode()).decode()
        await self.send(f"AUTHENTICATE {payload}", "CAP END")
        return await self.read_until(until, seconds)

    async def closed(self, seconds: float = 5.0) -> bool:
        """Read until end of stream; True once the server has closed the connection."""
        async with asyncio.timeout(seconds):
            while await self.reader.read(65536):
                pass
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await self.writer.wait_closed()
