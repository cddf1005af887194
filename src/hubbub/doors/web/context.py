"""What every connection of one web listener shares."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
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
        hosts: the names a request's ``Host`` may give (folded to lower case), besides
            addresses: the server's own, which a page's origin is built from. A name
            that is not the server's is a page of another site whose name resolves to
            the server (DNS rebinding); its requests are refused.
        text, binary: the framers of ``text.ircv3.net`` and ``binary.ircv3.net``
            connections (a connection without a subprotocol speaks text).
        readiness: why the server should get no new clients now (None: it may), for
            ``/readyz``.
        metrics: the metrics' text and its content type, made afresh for each
            ``/metrics``; None: there is none here (404).
        only_metrics: a listener of its own for the metrics: every other path is 404.
    """

    files: StaticFiles
    origins: tuple[str, ...] = ()
    hosts: frozenset[str] = frozenset({"localhost"})
    text: Framer = field(default_factory=lambda: Framer(binary=False))
    binary: Framer = field(default_factory=lambda: Framer(binary=True))
    readiness: Callable[[], str | None] = lambda: None
    metrics: Callable[[], tuple[bytes, str]] | None = None
    only_metrics: bool = False

    def own_host(self, host: str | None) -> bool:
        """Whether a request's ``Host`` names this server: an address (which no other
        site's page can have as its origin), or one of :attr:`hosts`. No ``Host`` (an
        HTTP/1.0 client that is no browser) is no page's either."""
        if host is None:
            return True
        name = host.strip().lower()
        if name.startswith("["):  # [IPv6] or [IPv6]:port
            name = name[1:].partition("]")[0]
        elif name.count(":") == 1:  # name:port
            name = name.partition(":")[0]
        name = name.rstrip(".")
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name in self.hosts
        return True
