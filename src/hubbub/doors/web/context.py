"""What every connection of one web listener shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from hubbub.doors.web.files import StaticFiles
from hubbub.doors.web.framing import Framer


@dataclass(slots=True)
class WebContext:
    """Server-wide state of the web listener.

    Attributes:
        files: the web client's files.
        origins: the ``Origin`` values a WebSocket handshake is accepted from besides
            the page's own (``web_origins``; ``*`` for any).
        text, binary: the framers of ``text.ircv3.net`` and ``binary.ircv3.net``
            connections (a connection without a subprotocol speaks text).
    """

    files: StaticFiles
    origins: tuple[str, ...] = ()
    text: Framer = field(default_factory=lambda: Framer(binary=False))
    binary: Framer = field(default_factory=lambda: Framer(binary=True))
