"""The web listener's asyncio driver: one HTTP request, answered with a file or an error,
or a WebSocket handshake after which the connection carries IRC lines (IRCv3
WebSocket transport) to and from an IRC session, as the line driver does over TCP.

Theory of operation
-------------------
A connection starts in the HTTP phase. :class:`websockets.server.ServerProtocol` reads
the request (bounded: ``web_request_bytes`` in all, ``web_request_timeout`` seconds);
the request is routed (:mod:`hubbub.doors.web.handshake`), and anything but a
successful handshake is answered and closed: a file, 304, 404, 405, 403 for an origin
not allowed, 400 for a broken handshake, 503 for an address with too many connections.

After a handshake (101) the connection is a :class:`~hubbub.doors.driver.Connection`
like a TCP one: the protocol object parses frames, each message is a line for the
session (:mod:`hubbub.doors.web.framing`), control frames are answered by the protocol,
and the session's output leaves as one frame per line through the same coalescing,
SendQ, flood control and timers as TCP output. Closing sends a close frame after the
last line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Callable
from typing import Any

from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from hubbub.doors.driver import Connection
from hubbub.doors.gate import Gate
from hubbub.doors.output import drop_later
from hubbub.doors.ports import Batcher, DoorLimits, Roster, SessionFactory
from hubbub.doors.web.context import WebContext
from hubbub.doors.web.files import Reply, field
from hubbub.doors.web.framing import FRAME_ALLOWANCE, Fragments, Framer, line_of
from hubbub.doors.web.handshake import (
    BINARY,
    SECURITY_HEADERS,
    WEBSOCKET_PATHS,
    BadForwarding,
    allowed_origins,
    client_address,
    error,
    forwarded_secure,
    response,
    select_subprotocol,
)
from hubbub.wire.errors import LineTooLong

logger = logging.getLogger(__name__)


class _Quiet(logging.LoggerAdapter[logging.Logger]):
    """websockets' own log, with its INFO lines (every response sent, every connection
    opened and closed) at DEBUG: hubbub logs its connections itself."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


_PROTOCOL_LOG = _Quiet(logging.getLogger("hubbub.doors.web.websockets"), {})
_TOO_MANY = "Too many connections from your address"
_LOGGED_HOST = 100
_FULL = "The server is full; try again later"


def _not_allowed() -> Response:
    """Made for each answer: one made at start told everyone when the process started
    (its Date, probe 19)."""
    return error(405, "Method not allowed", ("Allow", "GET, HEAD"))


# Health answers are about now: no cache keeps one.
_NO_STORE = ("Cache-Control", "no-store")
# RFC 9110 section 5.6.2: a method is a token.
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]{1,32}")


def _cut(host: str) -> str:
    return host[:_LOGGED_HOST] + ("..." if len(host) > _LOGGED_HOST else "")


def _select(protocol: ServerProtocol, offered: Any) -> Subprotocol | None:
    return select_subprotocol(offered)


class WebConnection(Connection):
    """One connection to the web listener.

    Args:
        ctx: what the listener's connections share (files, origins, framers).
        make_session: builds the IRC session of a WebSocket connection.
        limits: the bounds to apply (read when the connection opens).
        batcher: the server's shared output batcher.
        registry: live connections, for shutdown and timers.
        gate: admission by address, shared by the server's connections.
        nodelay: keep TCP_NODELAY (see :class:`~hubbub.doors.driver.Connection`).
    """

    __slots__ = ("_ctx", "_fragments", "_framer", "_longest", "_protocol", "_received")

    def __init__(
        self,
        ctx: WebContext,
        make_session: SessionFactory,
        limits: DoorLimits,
        batcher: Batcher,
        registry: Roster[Connection],
        gate: Gate,
        nodelay: bool = True,
    ) -> None:
        super().__init__(make_session, limits, batcher, registry, gate, nodelay)
        self._ctx = ctx
        self._longest = limits.tags_length + 2 + limits.line_length
        # Messages of any length arrive (what exceeds a line is dropped as it comes);
        # one frame is read whole, so a frame is bounded.
        self._protocol = ServerProtocol(
            select_subprotocol=_select,
            max_size=(None, self._longest * FRAME_ALLOWANCE),
            logger=_PROTOCOL_LOG,
        )
        # Set when the WebSocket is open: from then on, the connection carries IRC.
        self._framer: Framer | None = None
        self._fragments: Fragments | None = None
        self._received = 0

    # -- the HTTP phase ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        host = self._take_transport(transport)
        banned = self._gate.banned(host)
        if banned is not None:
            # Refused before anything is served, as the IRC doors and the TLS listener
            # refuse it: else a D-lined address still read the files and the metrics
            # and held connections open (probe 22).
            self._gate.log_refusal(host, "D-lined")
            self._dead = True
            transport.write(error(403, banned).serialize())  # type: ignore[attr-defined]
            transport.close()
            return
        if not self._admit(host):
            self._dead = True
            refusal = error(503, _FULL if self._gate.full else _TOO_MANY)
            transport.write(refusal.serialize())  # type: ignore[attr-defined]
            transport.close()
            return
        self._registry.add(self)
        # The whole request must arrive within this; so must a response be read.
        self._schedule(self._limits.web_request_timeout)

    def data_received(self, data: bytes) -> None:
        if self._dead:
            return
        if self._framer is not None:
            self._receive_frames(data)
            return
        protocol = self._protocol
        if not self._received:
            method, space, _ = data.partition(b" ")
            if space and method not in (b"GET", b"HEAD") and _TOKEN.fullmatch(method):
                # Answered before websockets reads the request, which it would refuse
                # without a word if it has a body (a POST's, say).
                self._answer(_not_allowed().serialize())
                return
        self._received += len(data)
        if self._received > self._limits.web_request_bytes:
            self._answer(error(431, "Request too large").serialize())
            return
        protocol.receive_data(data)
        events = protocol.events_received()
        if not events:
            written = protocol.data_to_send()
            if written:
                # The request is malformed: websockets answered 414 or 431, or, for
                # anything else it cannot parse, only ended the stream.
                self._answer(b"".join(written) or error(400, "Bad request").serialize())
            return
        request = events[0]
        assert isinstance(request, Request)
        answer: Response | None = None
        with self._contained("web request"):
            answer = self._route(request)
        if answer is None:
            answer = error(500, "Internal server error")
        if self.debug:
            self.log.debug("%s %s: %d", request.method, request.path, answer.status_code)
        if answer.status_code != 101 or protocol.eof_sent:
            # The parser also fails when a request is followed by data it cannot read:
            # the request is answered all the same, without its protocol.
            self._answer(answer.serialize())
            return
        protocol.send_response(answer)
        transport = self._transport
        assert transport is not None
        transport.write(b"".join(protocol.data_to_send()))
        self._open()
        # Frames sent right behind the handshake were parsed with it.
        self._take_frames(events[1:])

    def _route(self, request: Request) -> Response:
        headers = request.headers
        host = field(headers, "Host")
        if not self._ctx.own_host(host):
            if self.info:  # the name cut short: a header may be 8 KiB of anything
                self.log.info(
                    "refused a request for %r: not a name of this server ([web] hosts)",
                    _cut(host or ""),
                )
            return error(421, "Misdirected request: this server does not answer to that name")
        path = request.path.partition("?")[0]
        if self._ctx.only_metrics and (path != "/metrics" or "Upgrade" in headers):
            return error(404, "Not found")
        if "Upgrade" in headers:
            if path not in WEBSOCKET_PATHS:
                return error(404, "Not found")
            return self._handshake(request)
        if request.method in ("GET", "HEAD"):
            peer = self._host
            assert peer is not None
            try:
                client = client_address(peer, headers, self._gate.is_trusted)
            except BadForwarding as bad:
                return error(400, str(bad))
            # A proxy's client is judged by the address it forwards; a D-line set while
            # the request was on its way is honoured too.
            banned = self._gate.banned(client)
            if banned is not None:
                self._gate.log_refusal(client, "D-lined")
                return error(403, banned)
            if path == "/metrics" and self._ctx.metrics is not None:
                if not self._may_scrape(client):
                    return error(404, "Not found")
                return self._metrics(request.method == "HEAD")
            if path == "/healthz":
                return error(200, "ok", _NO_STORE)
            if path == "/readyz":
                problem = self._ctx.readiness()
                if problem is None:
                    return error(200, "ready", _NO_STORE)
                return error(503, f"not ready: {problem}", _NO_STORE)
            return response(self._ctx.files.answer(request.method, request.path, headers))
        return _not_allowed()

    def _may_scrape(self, client: str) -> bool:
        """Whether ``client`` may read the metrics here: on their own listener anyone
        who reaches it; on the public one only this machine and ``trusted`` networks.
        The counts move with every message, so an outsider polling them learns when
        private messages are sent and how large a quiet channel is (probe 22)."""
        if self._ctx.only_metrics or self._gate.is_trusted(client):
            return True
        try:
            return ipaddress.ip_address(client).is_loopback
        except ValueError:
            return False

    def _metrics(self, head: bool) -> Response:
        """The metrics as they are now (never cached: each scrape must see the counts
        move)."""
        assert self._ctx.metrics is not None
        body, kind = self._ctx.metrics()
        fields = (("Content-Type", kind), ("Content-Length", str(len(body))), _NO_STORE)
        return response(Reply(200, fields, b"" if head else body))

    def _handshake(self, request: Request) -> Response:
        """Accept or refuse a WebSocket handshake; on acceptance the client's address
        (perhaps a proxied one) is what the gate counts from now on."""
        protocol = self._protocol
        headers = request.headers
        peer = self._host
        assert peer is not None
        gate = self._gate
        try:
            host = client_address(peer, headers, gate.is_trusted)
        except BadForwarding as problem:
            return error(400, str(problem))
        secure = self.secure or (gate.is_trusted(peer) and forwarded_secure(headers))
        protocol.origins = allowed_origins(headers, secure, self._ctx.origins)
        answer = protocol.accept(request)
        if answer.status_code != 101:
            self.log.info("WebSocket handshake refused (%d)", answer.status_code)
            for name, value in SECURITY_HEADERS:
                answer.headers[name] = value
            return answer
        banned = gate.banned(host)
        if banned is not None:
            gate.log_refusal(host, "D-lined")
            return error(403, banned)
        if host != peer:
            self.release()
            if not self._admit(host):
                return error(503, _FULL if self._gate.full else _TOO_MANY)
        self.secure = secure
        return answer

    def _answer(self, data: bytes) -> None:
        """Send an HTTP answer and close: one request per connection."""
        self._dead = True
        transport = self._transport
        assert transport is not None
        transport.write(data)
        transport.close()

    def _open(self) -> None:
        """The handshake succeeded: from now on, IRC over WebSocket."""
        protocol = self._protocol
        # Only what checks handshakes holds on to these.
        protocol.origins = None
        self._framer = self._ctx.binary if protocol.subprotocol == BINARY else self._ctx.text
        self._begin()

    # -- the WebSocket phase -----------------------------------------------------------

    def _receive_frames(self, data: bytes) -> None:
        self._last_read = self._batcher.time()
        protocol = self._protocol
        protocol.receive_data(data)
        self._take_frames(protocol.events_received())

    def _take_frames(self, events: list[Any]) -> None:
        """Hand the lines of the messages received to the session, and send what the
        protocol answers (pongs, the close handshake)."""
        lines: list[bytes | LineTooLong | int] = []
        for frame in events:
            self._take(frame, lines)  # type: ignore[arg-type]
        self._send_protocol_output()
        session = self._session
        if session is None or self._dead:
            return
        if lines:
            self._handle(session, lines)
        if len(events) > len(lines):
            # Frames that made no line (control frames, fragments, empty messages)
            # cost parsing all the same.
            self.charge(session, len(events) - len(lines))

    def _take(self, frame: Frame, lines: list[bytes | LineTooLong]) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            # A text frame that is not UTF-8 reaches the session, which answers it as
            # it answers such a line over TCP (FAIL INVALID_UTF8).
            if not frame.fin:
                self._fragments = Fragments(bytes(frame.data), self._longest)
            elif frame.data:
                lines.append(line_of(bytes(frame.data), self._longest))
        elif opcode is Opcode.CONT:
            # The protocol refuses a continuation without a message to continue.
            fragments = self._fragments
            assert fragments is not None
            fragments.add(bytes(frame.data))
            if frame.fin:
                self._fragments = None
                line = fragments.line()
                if line:
                    lines.append(line)
        # PING is answered by the protocol, PONG needs nothing, and CLOSE is answered
        # by the protocol, which then ends the stream.

    def _send_protocol_output(self) -> None:
        protocol = self._protocol
        for data in protocol.data_to_send():
            if data:
                Connection.send(self, data)
            else:
                # The end of the stream: after a close frame, or a protocol error.
                if protocol.parser_exc is not None and self._close_reason is None:
                    self._close_reason = "WebSocket protocol error"
                    if self.info:
                        self.log.info("WebSocket error: %s", protocol.parser_exc)
                self.close_transport()

    @property
    def frames(self) -> Callable[[bytes], bytes] | None:
        """One frame per line: sessions framed alike share one rendering of a channel
        message, framed once."""
        framer = self._framer
        return framer.frames if framer is not None else None

    def send(self, data: bytes) -> None:
        """Send a session's output: one frame per line."""
        framer = self._framer
        if framer is not None:
            Connection.send(self, framer.frames(data))

    def _end(self) -> None:
        """Say goodbye with a close frame after the last line (RFC 6455 section 7.1.2),
        then close."""
        protocol = self._protocol
        transport = self._transport
        assert transport is not None
        if self._framer is not None and protocol.state is OPEN:
            protocol.send_close(CloseCode.NORMAL_CLOSURE)
            for data in protocol.data_to_send():
                if data:
                    transport.write(data)
        transport.close()
        drop_later(transport)

    def pause_writing(self) -> None:
        """Past the SendQ: an IRC client is cut off; a file being read is left to the
        request timeout."""
        if self._framer is not None:
            super().pause_writing()

    def _tick(self) -> None:
        if self._framer is None:
            # The HTTP phase outlived web_request_timeout: a slow request, or a slow
            # reader of an answer.
            if self.info:
                self.log.info("web request timed out")
            self.abort()
            return
        super()._tick()
