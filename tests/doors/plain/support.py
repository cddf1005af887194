"""Plain sessions with their output captured, on the same hub as the IRC test harness."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.session import PlainSession
from hubbub.wire.errors import LineTooLong
from tests.helpers import FakePeer, Harness

HOST = "127.0.0.1"
ROOM = "#lobby"
# Bytes that can move a cursor, ring a bell or recolour a terminal: C0 controls other
# than the newline, DEL, and C1 controls (UTF-8 encoded as C2 80..C2 9F).
TERMINAL_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


@dataclass
class PlainClient:
    """A :class:`PlainSession` with everything it sends recorded."""

    sent: list[bytes] = field(default_factory=list)
    closed: bool = False
    session: PlainSession | None = None

    @property
    def plain(self) -> PlainSession:
        assert self.session is not None
        return self.session

    def send(self, line: str | bytes | LineTooLong) -> None:
        """Feed one line (without its newline) to the session."""
        self.plain.receive_line(line.encode() if isinstance(line, str) else line)

    def close(self) -> None:
        self.closed = True

    def take_raw(self) -> bytes:
        """The bytes sent since the last take; every write ends with a newline."""
        assert all(chunk.endswith(b"\n") for chunk in self.sent), self.sent
        data = b"".join(self.sent)
        self.sent.clear()
        return data

    def take(self) -> list[str]:
        """The lines sent since the last take, newlines removed."""
        return self.take_raw().decode().split("\n")[:-1]


class PlainDoor:
    """Plain contexts (one per language) over the harness's hub, and their sessions."""

    def __init__(self, harness: Harness, room: str = ROOM) -> None:
        self.harness = harness
        self.room = room
        self._contexts: dict[str, PlainContext] = {}

    def context(self, language: str = "en") -> PlainContext:
        if language not in self._contexts:
            self._contexts[language] = PlainContext(self.harness.hub, self.room, language)
        return self._contexts[language]

    def client(self, language: str = "en", host: str = HOST) -> PlainClient:
        """A connected plain client that has been asked for its name."""
        client = PlainClient()
        client.session = PlainSession(
            self.context(language), client.sent.append, FakePeer(host, on_close=client.close)
        )
        return client

    def connect(self, name: str, language: str = "en") -> PlainClient:
        """A plain client named ``name``, in the default room, with its output read."""
        client = self.client(language)
        client.send(name)
        assert client.plain.registered, client.take()
        client.take()
        return client
