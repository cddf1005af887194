"""Doubles for testing the driver on a real event loop: a transport that records what is
written and honours pause and resume, a session that records what it is handed, and
:class:`Driver` and :class:`SocketDriver`, which open connections on them or on a real
socket as a server would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from hubbub.doors.connection import LineConnection
from hubbub.doors.gate import Gate
from hubbub.doors.output import Durability, OutputBatcher
from hubbub.doors.ports import Peer, SessionFactory
from hubbub.doors.registry import Connections
from hubbub.settings import Limits
from hubbub.wire.errors import LineTooLong

# TEST-NET-1 (RFC 5737): an address no real client has.
HOST = "192.0.2.1"
# How long any one wait for an event may take before the test fails.
WAIT = 5.0


class Changes:
    """Something a test can wait on: :meth:`until` returns once a condition holds,
    checking again each time :meth:`changed` is called."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        self._event.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self._event.clear()
                await self._event.wait()


class FakeTransport(asyncio.Transport):
    """A transport that records each ``write`` call, and pauses and resumes reading.

    Its peer reads everything at once unless ``stalled``: then what is written stays in
    the transport's buffer, and past the high-water mark the protocol is told to pause
    writing, as asyncio's own transports do.
    """

    def __init__(self, protocol: asyncio.Protocol, host: str = HOST) -> None:
        super().__init__()
        self.protocol = protocol
        self.host = host
        self.writes: list[bytes] = []
        self.reading = True
        self.reading_paused = 0  # how many times reading was paused
        self.stalled = False
        self.buffered = 0
        self.high_water = 65536
        self._writing_paused = False
        self.closing = False
        self._losing = False
        self.aborted = False
        self.lost = False
        self.changes = Changes()

    @property
    def output(self) -> bytes:
        return b"".join(self.writes)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return (self.host, 50000)
        return default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        assert high is not None
        self.high_water = high

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        if self.stalled:
            self.buffered += len(data)
            if self.buffered > self.high_water and not self._writing_paused:
                self._writing_paused = True
                self.protocol.pause_writing()
        self.changes.changed()

    def pause_reading(self) -> None:
        self.reading = False
        self.reading_paused += 1
        self.changes.changed()

    def resume_reading(self) -> None:
        self.reading = True
        self.changes.changed()

    def is_reading(self) -> bool:
        return self.reading

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        # As asyncio's: what is buffered is written first, and a client that never
        # reads keeps the connection open.
        if self.buffered:
            self.closing = True
            return
        self._lose()

    def abort(self) -> None:
        self.aborted = True
        self._lose()

    def _lose(self) -> None:
        # As asyncio's transports do: the protocol hears of it on a later loop pass.
        if not self._losing:
            self.closing = self._losing = True
            asyncio.get_running_loop().call_soon(self._connection_lost)

    def _connection_lost(self) -> None:
        self.lost = True
        self.protocol.connection_lost(None)
        self.changes.changed()


class RecordingSession:
    """A door's session that records what the driver hands it, with the loop's time.

    Each line is answered with ``<line>\\r\\n`` unless ``echo`` is off. The line ``BOOM``
    raises; ``REGISTER`` makes the session registered; ``WAIT`` returns
    :attr:`waiting`, an awaitable the test completes; ``ASYNC`` returns a coroutine
    (:attr:`coroutine`), as an async command handler does; ``SPEND n`` takes n lines more
    from flood control (as a search of many does).
    """

    keepalive = True

    def __init__(self, send: Callable[[bytes], None], peer: Peer) -> None:
        self.send = send
        self.peer = peer
        self.closed = False
        self.registered = False
        self.exempt = False
        self.echo = True
        self.lines: list[bytes | LineTooLong] = []
        self.handled_at: list[float] = []
        self.pings: list[float] = []
        self.closes: list[tuple[str, float]] = []
        self.lost: list[str] = []
        self.internal_errors = 0
        self.failing_pings = 0  # how many of the next pings raise
        self.waiting: asyncio.Future[None] | None = None
        self.coroutine: Coroutine[Any, Any, None] | None = None  # ASYNC's
        self.ran_async = False
        self.changes = Changes()

    def receive_line(self, line: bytes | LineTooLong) -> Awaitable[None] | None:
        self.lines.append(line)
        self.handled_at.append(asyncio.get_running_loop().time())
        self.changes.changed()
        if line == b"BOOM":
            raise RuntimeError("a bug in a command handler")
        if line == b"REGISTER":
            self.registered = True
        if isinstance(line, bytes) and line.startswith(b"SPEND "):
            self.peer.spend(int(line.split()[1]))
        if self.echo and isinstance(line, bytes):
            self.send(line + b"\r\n")
        if line == b"WAIT":
            self.waiting = asyncio.get_running_loop().create_future()
            return self.waiting
        if line == b"ASYNC":
            self.coroutine = self._async_command()
            return self.coroutine
        return None

    async def _async_command(self) -> None:
        self.ran_async = True

    def connection_lost(self, reason: str) -> None:
        self.closed = True
        self.lost.append(reason)
        self.changes.changed()

    def close(self, reason: str) -> None:
        self.closes.append((reason, asyncio.get_running_loop().time()))
        self.closed = True
        self.peer.close_transport()
        self.changes.changed()

    def ping(self) -> None:
        self.pings.append(asyncio.get_running_loop().time())
        self.changes.changed()
        if self.failing_pings:
            self.failing_pings -= 1
            raise RuntimeError("a bug in a timer")

    def internal_error(self) -> None:
        self.internal_errors += 1
        self.send(b"internal error\r\n")


class Driver:
    """Opens :class:`LineConnection` objects on :class:`FakeTransport` doubles, sharing
    one output batcher, roster and gate, as a server's connections do.

    Args:
        limits: the connections' limits.
        gate: admission by address (by default, no limit and nobody trusted).
        durability: the history writer of the sync history mode, if it is on.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        gate: Gate | None = None,
        durability: Durability | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.gate = gate or Gate()
        self.connections = Connections()
        self.batcher = OutputBatcher(asyncio.get_running_loop(), durability, max_hold=WAIT)
        self.sessions: list[RecordingSession] = []

    def _make_session(self, send: Callable[[bytes], None], peer: Peer) -> RecordingSession:
        session = RecordingSession(send, peer)
        self.sessions.append(session)
        return session

    def connect(
        self,
        host: str = HOST,
        partial_after: float | None = None,
        make_session: SessionFactory | None = None,
    ) -> tuple[LineConnection, FakeTransport]:
        """A connection just made, and its transport."""
        connection = LineConnection(
            make_session or self._make_session,
            self.limits,
            self.batcher,
            self.connections,
            self.gate,
            partial_after=partial_after,
        )
        transport = FakeTransport(connection, host)
        connection.connection_made(transport)
        return connection, transport

    def open(
        self, host: str = HOST, partial_after: float | None = None
    ) -> tuple[LineConnection, FakeTransport, RecordingSession]:
        """A connection just made, its transport, and its recording session."""
        made = len(self.sessions)
        connection, transport = self.connect(host, partial_after)
        assert len(self.sessions) == made + 1, "the connection was refused"
        return connection, transport, self.sessions[-1]


@contextlib.asynccontextmanager
async def sweeping(connections: Connections, interval: float = 0.01) -> AsyncIterator[None]:
    """Run the connections' timer sweep every ``interval`` seconds, as the server does."""
    sweep = asyncio.create_task(connections.keep_time(lambda: interval))
    try:
        yield
    finally:
        sweep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweep


class SocketDriver:
    """The driver behind a real listening socket on 127.0.0.1, port 0."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.made: list[LineConnection] = []
        self.changes = Changes()
        self.server: asyncio.Server | None = None

    def _protocol(self) -> LineConnection:
        driver = self.driver

        def make_session(send: Callable[[bytes], None], peer: Peer) -> RecordingSession:
            session = RecordingSession(send, peer)
            driver.sessions.append(session)
            self.changes.changed()
            return session

        connection = LineConnection(
            make_session, driver.limits, driver.batcher, driver.connections, driver.gate
        )
        self.made.append(connection)
        return connection

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def session(self, index: int) -> RecordingSession:
        await self.changes.until(lambda: len(self.driver.sessions) > index)
        return self.driver.sessions[index]

    async def close(self) -> None:
        for connection in self.made:
            connection.abort()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
