"""Doubles for testing the web listener's driver: :class:`WebDriver` opens
:class:`~hubbub.doors.web.connection.WebConnection` objects on fake transports, and
:class:`Browser` is a WebSocket client (websockets' own sans-I/O ``ClientProtocol``)
talking to one, so tests read what the driver sends as a real client would."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Origin, Subprotocol
from websockets.uri import parse_uri

from hubbub.doors.gate import Gate
from hubbub.doors.ports import SessionFactory
from hubbub.doors.web.connection import WebConnection
from hubbub.doors.web.context import WebContext
from hubbub.doors.web.files import StaticFiles
from hubbub.settings import Limits
from tests.doors.support import HOST, Driver, FakeTransport, RecordingSession

PAGE = b"<!doctype html><title>hubbub</title>\n"


class WebDriver(Driver):
    """A :class:`~tests.doors.support.Driver` whose connections are web connections,
    serving a folder with an ``index.html``."""

    def __init__(
        self,
        root: Path,
        limits: Limits | None = None,
        gate: Gate | None = None,
        origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(limits, gate)
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_bytes(PAGE)
        self.ctx = WebContext(StaticFiles(root), origins)

    def web(
        self, host: str = HOST, make_session: SessionFactory | None = None
    ) -> tuple[WebConnection, FakeTransport]:
        """A web connection just made, and its transport."""
        connection = WebConnection(
            self.ctx,
            make_session or self._make_session,
            self.limits,
            self.batcher,
            self.connections,
            self.gate,
        )
        transport = FakeTransport(connection, host)
        connection.connection_made(transport)
        return connection, transport


class Browser:
    """A WebSocket client on one :class:`WebConnection`.

    Args:
        connection, transport: the server side, from :meth:`WebDriver.web`.
        subprotocols: offered in the handshake (None: the field is left out).
        origin: the ``Origin`` field, if any.
        path: the request's path.
        fields: more request fields.
    """

    def __init__(
        self,
        connection: WebConnection,
        transport: FakeTransport,
        subprotocols: Sequence[str] | None = ("text.ircv3.net",),
        origin: str | None = None,
        path: str = "/irc",
        fields: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.connection = connection
        self.transport = transport
        self.client = ClientProtocol(
            parse_uri(f"ws://127.0.0.1:8081{path}"),
            origin=Origin(origin) if origin is not None else None,
            subprotocols=[Subprotocol(s) for s in subprotocols] if subprotocols else None,
        )
        self.fields = fields
        self._fed = 0
        self.frames: list[Frame] = []
        self.response: Response | None = None

    def handshake(self) -> Response:
        """Send the opening handshake; the server's answer."""
        request = self.client.connect()
        for name, value in self.fields:
            request.headers[name] = value
        self.client.send_request(request)
        self.connection.data_received(b"".join(self.client.data_to_send()))
        self.read()
        assert self.response is not None
        return self.response

    def send(self, opcode: Opcode, data: bytes, fin: bool = True) -> None:
        """Send one frame (masked, as a client must)."""
        if opcode is Opcode.TEXT:
            self.client.send_text(data, fin)
        elif opcode is Opcode.BINARY:
            self.client.send_binary(data, fin)
        elif opcode is Opcode.CONT:
            self.client.send_continuation(data, fin)
        elif opcode is Opcode.PING:
            self.client.send_ping(data)
        elif opcode is Opcode.CLOSE:
            self.client.send_close(1000)
        self.connection.data_received(b"".join(self.client.data_to_send()))

    def text(self, *lines: str) -> None:
        """Send each line as a text message, all in one read of the server's."""
        for line in lines:
            self.client.send_text(line.encode())
        self.connection.data_received(b"".join(self.client.data_to_send()))

    def read(self) -> list[Frame]:
        """The frames the server sent since the last read."""
        written = self.transport.writes[self._fed :]
        self._fed = len(self.transport.writes)
        self.client.receive_data(b"".join(written))
        new: list[Frame] = []
        for event in self.client.events_received():
            if isinstance(event, Response):
                self.response = event
            else:
                assert isinstance(event, Frame)
                new.append(event)
        self.frames += new
        return new

    async def written(self) -> list[Frame]:
        """The frames of the server's next write, waiting for the end of the loop pass."""
        await self.transport.changes.until(self._unread)
        return self.read()

    def lines(self) -> list[bytes]:
        """The data messages the server sent since the last read."""
        return [bytes(f.data) for f in self.read() if f.opcode in (Opcode.TEXT, Opcode.BINARY)]

    async def expect(self, count: int) -> list[bytes]:
        """The next ``count`` data messages, waiting for output written at the end of
        the loop pass."""
        lines = self.lines()
        while len(lines) < count:
            await self.transport.changes.until(self._unread)
            lines += self.lines()
        return lines

    def _unread(self) -> bool:
        return len(self.transport.writes) > self._fed


def open_websocket(
    driver: WebDriver,
    host: str = HOST,
    make_session: SessionFactory | None = None,
    **options: object,
) -> tuple[Browser, RecordingSession | None]:
    """A handshake done; the browser, and the recording session it got (if any)."""
    made = len(driver.sessions)
    connection, transport = driver.web(host, make_session)
    browser = Browser(connection, transport, **options)  # type: ignore[arg-type]
    browser.handshake()
    session = driver.sessions[-1] if len(driver.sessions) > made else None
    return browser, session
