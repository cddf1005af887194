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
``name``. The prompt the client answers itself is shown quietly, with the answer; when
the door asks again (the name was refused), the user's next line is the name.

hubbub's plain door follows a newcomer's welcome with the room's last lines: "Recently
in #room:" and then lines indented by two spaces. Those are history: they name nobody
and count as read, and, the door saying nothing of when they were said, they are shown
without a time rather than with the time they arrived. A reconnection brings them again;
one already in the buffer is not shown twice, and the heading only with a line to head.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hubbub.client.config import Network
from hubbub.client.state import (
    SERVER,
    ChatState,
    Line,
    LineKind,
    QuitRequested,
    StatusChanged,
    Update,
)
from hubbub.client.text import clean, decode, mentions
from hubbub.wire.casemap import Key
from hubbub.wire.errors import LineTooLong
from hubbub.wire.lines import LineBuffer

MAX_LINE = 4096
_SPEECH = re.compile(r"^(\[[^\]]{1,20}\] )?([^\s:\[\]]{1,40}): (.*)$")
# The plain door's heading of a room's last lines, in each of its languages.
_BACKLOG = re.compile(r"^(Recently in|Недавно в) \S{1,200}:$")
_BACKLOG_INDENT = b"  "
# The door's name prompt, in each of its languages: asked again after a refused name.
_NAME_PROMPT = re.compile(r"^(Enter your name|Введите ваше имя):$")


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
        # Inside the door's recent lines: the heading, until a line of them is shown.
        self._backlog = False
        self._heading: Line | None = None

    def connection_made(self, send: Callable[[bytes], None]) -> list[Update]:
        self._send = send
        self._lines = LineBuffer(MAX_LINE)
        self.newlines = self.named = self._backlog = False
        self._heading = None
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
        if not self.named and lines:
            *before, prompt = lines
            for line in before:
                self._show(line)
            self._answer(prompt)
        else:
            for line in lines:
                self._show(line)
        return self.state.take_updates()

    def _answer(self, prompt: bytes | LineTooLong) -> None:
        """Answer the server's first prompt with the nick, shown as a quiet line of its
        own: it is the client's doing, not a line of the conversation."""
        state = self.state
        asked = "" if isinstance(prompt, LineTooLong) else clean(decode(prompt)).strip()
        state.show(Line(state.clock(), LineKind.DETAIL, "", f"{asked} {state.nick}".strip()))
        self._send_line(state.nick)
        self._named()

    def _named(self) -> None:
        self.named = self.state.registered = True
        self.state.emit(StatusChanged())

    def seen(self, key: Key) -> None:
        """The plain dialect keeps no read positions."""

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
            state.show(Line(state.clock(), LineKind.DETAIL, "", f"(your name) {clean(text)}"))
            self._named()
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
        if self.named and _NAME_PROMPT.match(text):
            # The name was refused (taken, or a registered account's): what the user
            # types next is a name again, not a line of chat.
            self.named = state.registered = False
            state.emit(StatusChanged())
        recent = self._backlog and raw.startswith(_BACKLOG_INDENT)
        if not recent:
            self._backlog, self._heading = False, None
        match = _SPEECH.match(text)
        if match is None and _BACKLOG.match(text):
            self._backlog = True
            self._heading = Line(state.clock(), LineKind.INFO, "", text)
            return
        if match is None:
            line = Line(state.clock(), LineKind.INFO, "", text, history=recent, dated=not recent)
        else:
            private, nick, said = match.groups()
            line = Line(
                state.clock(),
                LineKind.MESSAGE,
                nick,
                (private or "") + said,
                mention=not recent and (bool(private) or mentions(said, state.nick)),
                history=recent,
                dated=not recent,
            )
        if recent:
            if self._seen(line):
                return
            if self._heading is not None:
                state.show(self._heading)
                self._heading = None
        state.show(line)

    def _seen(self, line: Line) -> bool:
        """Whether the buffer already shows ``line`` (from before a reconnection)."""
        return any(
            (old.nick, old.text, old.kind) == (line.nick, line.text, line.kind)
            for old in self.state.buffers[SERVER].lines
        )


def _nowhere(data: bytes) -> None:
    """Input while disconnected goes nowhere (the user is told)."""
