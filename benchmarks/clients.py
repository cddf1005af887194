"""The load generator's clients: IRC (over TCP or WebSocket) and plain-text connections
and their setup."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
import time
from collections.abc import Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from benchmarks.common import (
    _FAILURES,
    _STAMP,
    HOST,
    MARK,
    MSS,
    SAMPLE_LIMIT,
    TAIL_LIMIT,
    BenchError,
    Reply,
)

# -- the clients ------------------------------------------------------------------------


class Tally:
    """Deliveries counted by every receiver, and who waits for a total."""

    __slots__ = ("completed_ns", "disconnects", "done", "received", "samples", "target", "wake")

    def __init__(self) -> None:
        self.received = 0
        self.target = sys.maxsize  # the total that completes ``done``
        self.done: asyncio.Future[None] | None = None
        # When the total was reached, taken in the read that reached it: the waiter of
        # ``done`` wakes a loop pass later, which a burst's time must not include.
        self.completed_ns = 0
        self.samples: list[int] = []  # latencies in ns, from the probes
        self.disconnects = 0
        self.wake: Callable[[], None] | None = None  # the closed loop's pump

    def add(self, count: int) -> None:
        self.received += count
        if self.received >= self.target and not self.completed_ns:
            self.completed_ns = time.monotonic_ns()
            if self.done is not None and not self.done.done():
                self.done.set_result(None)
        if self.wake is not None:
            self.wake()


# One receive buffer for every client: the event loop calls ``get_buffer``, reads into it
# and calls ``buffer_updated`` back to back, so no two reads can share it at a time.
_BUFFER = bytearray(256 * 1024)
_NEWLINE = ord("\n")


class Client(asyncio.BufferedProtocol):
    """One connection: a line watcher during setup, a marker counter while measuring.

    Receiving is the generator's own bottleneck (each separately arriving line costs a
    wake-up, a read and a Python call), so the counting path reads into a shared buffer
    and counts markers there without making a ``bytes`` object.
    """

    __slots__ = (
        "counting",
        "expect",
        "first",
        "hints",
        "lost",
        "polled",
        "probe",
        "tail",
        "tally",
        "transport",
        "waiter",
    )

    def __init__(self, tally: Tally, probe: bool) -> None:
        loop = asyncio.get_running_loop()
        self.tally = tally
        self.probe = probe
        self.tail = b""
        self.counting = False
        self.polled = False  # read by the Poller's ticks, not as data arrives
        self.transport: asyncio.Transport | None = None
        self.first: asyncio.Future[None] | None = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.waiter: asyncio.Future[None] | None = None
        self.expect = Reply()
        self.hints: tuple[bytes, ...] = ()

    # -- asyncio.BufferedProtocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> bytearray:
        return _BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        if self.polled:
            assert self.transport is not None
            self.transport.pause_reading()
        buffer = _BUFFER
        if self.tail or not self.counting or self.probe or buffer[nbytes - 1] != _NEWLINE:
            self.receive(bytes(buffer[:nbytes]))
            return
        # The hot path: whole lines, counted where they were read, in one C-speed scan.
        count = buffer.count(MARK, 0, nbytes)
        if count:
            self.tally.add(count)
        if buffer.find(b"PING ", 0, nbytes) >= 0:
            self._pong_all(bytes(buffer[:nbytes]))

    def receive(self, data: bytes) -> None:
        """Handle received bytes: the general path (setup, probes, split lines)."""
        if self.first is not None:
            if not self.first.done():
                self.first.set_result(None)
            self.first = None
        if self.tail:
            data = self.tail + data
        cut = data.rfind(b"\n") + 1
        if not cut:
            if len(data) > TAIL_LIMIT:
                self._fail(BenchError(f"a line of over {TAIL_LIMIT} bytes"))
                data = b""
            self.tail = data
            return
        self.tail = data[cut:]
        if self.counting:
            count = data.count(MARK, 0, cut)
            if count:
                if self.probe:
                    self._stamp(data, cut)
                self.tally.add(count)
            if data.find(b"PING ", 0, cut) >= 0:
                self._pong_all(data[:cut])
            return
        self._watch(data[:cut])

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counting:
            self.tally.disconnects += 1
        self._fail(BenchError(f"connection lost: {exc or 'closed by the server'}"))
        if self.first is not None and not self.first.done():
            _reject(self.first, BenchError("closed before the server answered"))
        if not self.lost.done():
            self.lost.set_result(None)

    # -- setup -------------------------------------------------------------------------

    def arm(self, reply: Reply) -> asyncio.Future[None]:
        """Wait for ``reply`` (armed before sending what it answers)."""
        self.waiter = asyncio.get_running_loop().create_future()
        self.expect = reply
        self.hints = reply.hints
        return self.waiter

    async def request(self, data: bytes, reply: Reply, seconds: float) -> None:
        """Send ``data`` and wait for ``reply``."""
        waiter = self.arm(reply)
        self.write(data)
        async with asyncio.timeout(seconds):
            await waiter

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def _watch(self, chunk: bytes) -> None:
        waiter = self.waiter
        expect = self.expect
        if expect.text is not None:
            if waiter is not None and not waiter.done() and expect.text in chunk:
                waiter.set_result(None)
            return
        # Most setup chunks are welcome lines and other users' JOINs: skip them unparsed.
        if not any(hint in chunk for hint in self.hints):
            return
        for raw in chunk.split(b"\n"):
            line = raw.rstrip(b"\r")
            words = line.split(b" ", 2)
            command = words[1] if line.startswith(b":") and len(words) > 1 else words[0]
            if command == b"PING":
                self._pong(line)
            if waiter is None or waiter.done():
                continue
            if command in _FAILURES:
                self._fail(BenchError(f"refused: {line.decode('utf-8', 'replace')}"))
            elif command in expect.commands:
                waiter.set_result(None)

    def _fail(self, error: BenchError) -> None:
        if self.waiter is not None and not self.waiter.done():
            _reject(self.waiter, error)

    # -- measuring ---------------------------------------------------------------------

    def _stamp(self, data: bytes, cut: int) -> None:
        now = time.monotonic_ns()
        samples = self.tally.samples
        if len(samples) < SAMPLE_LIMIT:
            samples.extend(now - int(m) for m in _STAMP.findall(data, 0, cut))

    def _pong_all(self, chunk: bytes) -> None:
        for line in chunk.split(b"\n"):
            self._pong(line.rstrip(b"\r"))

    def _pong(self, line: bytes) -> None:
        if line.startswith(b":"):
            line = line.partition(b" ")[2]
        if line.startswith(b"PING "):
            self.write(b"PONG " + line[5:] + b"\r\n")


# A PING line inside raw frames: its token ends where printable ASCII does (the next
# frame's header, or the end of the data).
_RAW_PING = re.compile(rb"PING ([\x20-\x7e]*)")


class WebClient(Client):
    """An IRC user over WebSocket (hubbub's web door, IRCv3 WebSocket transport).

    websockets' sans-I/O client makes the handshake and reads the frames while setting
    up, and on the probes. The other receivers count markers in the raw stream, as TCP
    receivers do: frames from a server are not masked, so a line's bytes stand in the
    stream as they are, after a frame header of two or four bytes.

    Args:
        tally, probe: as :class:`Client`'s.
        uri: the door's ``ws://`` address.
    """

    __slots__ = ("_pending", "protocol")

    def __init__(self, tally: Tally, probe: bool, uri: str) -> None:
        super().__init__(tally, probe)
        self.protocol = ClientProtocol(
            parse_uri(uri), subprotocols=[Subprotocol("text.ircv3.net")]
        )
        # What is written before the handshake's answer: RFC 6455 section 4.1, a client
        # sends no frame before it.
        self._pending: list[bytes] | None = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        protocol = self.protocol
        protocol.send_request(protocol.connect())
        self.transport = cast("asyncio.Transport", transport)
        self.transport.write(b"".join(protocol.data_to_send()))

    def buffer_updated(self, nbytes: int) -> None:
        if self.polled:
            assert self.transport is not None
            self.transport.pause_reading()
        data = bytes(_BUFFER[:nbytes])
        if self.counting and not self.probe:
            # Marks split across two reads are counted once: the tail kept is one byte
            # shorter than a mark.
            chunk = self.tail + data
            count = chunk.count(MARK)
            if count:
                self.tally.add(count)
            self.tail = chunk[1 - len(MARK) :]
            if b"PING " in chunk:
                for token in _RAW_PING.findall(chunk):
                    self.write(b"PONG " + token + b"\r\n")
            return
        protocol = self.protocol
        protocol.receive_data(data)
        lines: list[bytes] = []
        for event in protocol.events_received():
            if isinstance(event, Response):
                self._opened(event)
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                lines.append(bytes(event.data) + b"\r\n")
        assert self.transport is not None
        for answer in protocol.data_to_send():
            if answer:
                self.transport.write(answer)
        if lines:
            self.receive(b"".join(lines))

    def _opened(self, response: Response) -> None:
        if response.status_code != 101:
            self._fail(BenchError(f"WebSocket handshake refused: {response.status_code}"))
            return
        if self.first is not None and not self.first.done():
            self.first.set_result(None)
        self.first = None
        pending, self._pending = self._pending, None
        if pending:
            self.write(b"".join(pending))

    def write(self, data: bytes) -> None:
        """Send lines, each as a masked text frame."""
        if self._pending is not None:
            self._pending.append(data)
            return
        assert self.transport is not None
        lines = data.replace(b"\r\n", b"\n").split(b"\n")
        self.transport.write(
            b"".join(Frame(Opcode.TEXT, line).serialize(mask=True) for line in lines if line)
        )


def _reject(future: asyncio.Future[None], error: BenchError) -> None:
    future.set_exception(error)
    # Marked as seen: when one setup fails the others are cancelled, and their futures'
    # errors are consequences, not news. Whoever still awaits one gets the error.
    future.exception()


async def open_client(
    tally: Tally,
    port: int,
    hello: bytes,
    done: Reply,
    setup: asyncio.Semaphore,
    registry: list[Client],
    probe: bool = False,
    web: bool = False,
) -> Client:
    """Connect with the benchmark's socket options, send ``hello``, await ``done``.

    (No time limit of its own: the whole run has one.)

    The setup slot is held until the server first answers, so no more than the
    semaphore's count of connections wait in the server's accept queue; registration
    itself then completes outside the slot. ``registry`` gets the client as soon as it
    exists, so that a failed setup still closes it. ``web``: over WebSocket, at ``/irc``.
    """

    def make() -> Client:
        if web:
            return WebClient(tally, probe, f"ws://{HOST}:{port}/irc")
        return Client(tally, probe)

    loop = asyncio.get_running_loop()
    async with setup:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            await loop.sock_connect(sock, (HOST, port))
            _, client = await loop.create_connection(make, sock=sock)
        except BaseException:
            sock.close()
            raise
        registry.append(client)
        # Armed before sending: the whole welcome may arrive in one chunk.
        waiter = client.arm(done)
        client.write(hello)
        first = client.first
        if first is not None:
            await first
    await waiter
    return client


def irc_hello(nick: bytes) -> bytes:
    # CAP LS first: every server answers it at once, which releases the setup slot even
    # where registration itself waits for a timer (InspIRCd registers once a second).
    return b"CAP LS 302\r\nNICK %s\r\nUSER %s 0 * :%s\r\nCAP END\r\n" % (nick, nick, nick)
