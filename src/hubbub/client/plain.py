"""Plain text, sans-I/O: for a plain-text chat server such as hubbub's plain door.

Theory of operation
-------------------
The server asks for a name, then relays lines of text; it has no commands the client must
understand. The client answers the first prompt with the configured nick, then sends what
the user types. Everything arrives in the one server buffer.

A minimal chat server (a socket loop of ``send`` and ``recv``) sends each message as one
``send()`` without a newline and reads each ``recv()`` as one message; hubbub's plain door
ends every line with a newline and reads lines (or text followed by a pause). So the
client mirrors the server: until a newline has been seen, each received chunk is a line
and input is sent without one; once the server has sent a newline, lines are framed by
newlines both ways. A received line that reads ``name: text`` is shown as a message from
``name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hubbub.client.config import Network
from hubbub.client.state import SERVER, ChatState, Line, LineKind, QuitRequested, Update
from hubbub.client.text import clean, decode, mentions
from hubbub.wire.casemap import Key
from hubbub.wire.errors import LineTooLong
from hubbub.wire.lines import LineBuffer

MAX_LINE = 4096
_SPEECH = re.compile(r"^(\[[^\]]{1,20}\] )?([^\s:\[\]]{1,40}): (.*)$")


class PlainSession:
    """The plain dialect for one server (see the module docstring).

    Args:
        network: where and as whom.
        state: the buffers; plain mode uses only the server buffer.
    """

    def __init__(self, network: Network, state: ChatState) -> None:
        self.network = network
        self.state = state
        self._send: Callable[[bytes], None] = _nowhere
        self._lines = LineBuffer(MAX_LINE, keep_empty=False)
        self.newlines = False
        self.named = False

    def connection_made(self, send: Callable[[bytes], None]) -> list[Update]:
        self._send = send
        self._lines = LineBuffer(MAX_LINE)
        self.newlines = self.named = False
        return self.state.connection_made()

    def connection_lost(self, reason: str) -> list[Update]:
        self._send = _nowhere
        return self.state.connection_lost(reason)

    def receive_data(self, data: bytes) -> list[Update]:
        if b"\n" in data or b"\r" in data:
            self.newlines = True
        lines = self._lines.feed(data)
        if not self.newlines:
            lines.append(self._lines.take_partial())
        for line in lines:
            self._show(line)
        if not self.named and lines:
            self._send_line(self.state.nick)
            self.named = True
            self.state.registered = True
        return self.state.take_updates()

    def submit(self, key: Key, text: str) -> list[Update]:
        """Send what the user typed; ``/quit`` also closes the client."""
        state = self.state
        if text.split(" ")[0].lower() == "/quit":
            if self.newlines:
                self._send_line(text)
            state.emit(QuitRequested(text[5:].strip()))
            return state.take_updates()
        if not text:
            return []
        if not state.connected:
            state.note("Not connected; the line was not sent.", SERVER, LineKind.ERROR)
            return state.take_updates()
        self._send_line(text)
        if not self.named:
            self.named = state.registered = True
        elif not text.startswith("/"):
            line = Line(state.clock(), LineKind.MESSAGE, state.nick, clean(text), own=True)
            state.show(line)
        return state.take_updates()

    def _send_line(self, text: str) -> None:
        self._send(text.encode() + (b"\n" if self.newlines else b""))

    def _show(self, raw: bytes | LineTooLong) -> None:
        state = self.state
        if isinstance(raw, LineTooLong):
            state.note("(an over-long line from the server was dropped)", SERVER)
            return
        text = clean(decode(raw)).strip()
        if not text:
            return
        match = _SPEECH.match(text)
        if match is None:
            state.show(Line(state.clock(), LineKind.INFO, "", text))
            return
        private, nick, said = match.groups()
        line = Line(
            state.clock(),
            LineKind.MESSAGE,
            nick,
            (private or "") + said,
            mention=bool(private) or mentions(said, state.nick),
        )
        state.show(line)


def _nowhere(data: bytes) -> None:
    """Input while disconnected goes nowhere (the user is told)."""
