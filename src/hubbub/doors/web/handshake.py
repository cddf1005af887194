"""The web listener's HTTP side: how a request is routed, the headers every answer
carries, and what the WebSocket handshake decides (subprotocol, origin, the client's
address).

A request with an ``Upgrade`` field on ``/irc`` (or ``/``, where clients that know only a
host connect) is a WebSocket handshake; any other GET or HEAD is for a static file; any
other method is answered 405.
"""

from __future__ import annotations

import email.utils
import http
import ipaddress
import re
from collections.abc import Callable, Sequence

from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.typing import Origin, Subprotocol

from hubbub.doors.addresses import plain_address
from hubbub.doors.web.files import HeaderLookup, Reply, field

# Where the WebSocket door is; "/" too, for clients given only ws://host:port.
WEBSOCKET_PATHS = ("/irc", "/")
# IRCv3 websocket: "Servers implementing this specification MUST support
# binary.ircv3.net and SHOULD support text.ircv3.net."
BINARY = Subprotocol("binary.ircv3.net")
TEXT = Subprotocol("text.ircv3.net")
SUBPROTOCOLS = (BINARY, TEXT)
# Scripts, styles and fonts only from the page's own origin, and no inline script or
# style; images from there, inline ones, and https (avatars, draft/metadata-3: the page
# shows them and the server never fetches them); the page may open WebSocket connections
# and may not be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "font-src 'self'; connect-src 'self' ws: wss:; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    # For browsers that predate frame-ancestors.
    ("X-Frame-Options", "DENY"),
)


class BadForwarding(ValueError):
    """An ``X-Forwarded-For`` field from a trusted proxy that names no address."""


def select_subprotocol(offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The subprotocol to speak: the client's first choice among those supported.

    IRCv3 websocket: "The server MUST accept any subprotocol it supports, respecting
    the client's order of preference. If no subprotocol can be agreed on, the server
    MAY continue connection establishment without sending the Sec-WebSocket-Protocol
    header." Without one, the connection exchanges text messages.
    """
    for subprotocol in offered:
        if subprotocol in SUBPROTOCOLS:
            return subprotocol
    return None


def client_address(peer: str, headers: HeaderLookup, trusted: Callable[[str], bool]) -> str:
    """The client's address: the socket's, or, when the socket's peer is a trusted
    proxy, the last address the proxies in front of it name in ``X-Forwarded-For``.

    Proxies append the address they received from, so the list is read from its end,
    skipping trusted proxies, to the first address that is not one.

    Raises:
        BadForwarding: a trusted peer's ``X-Forwarded-For`` holds something that is
            not an IP address.
    """
    forwarded = field(headers, "X-Forwarded-For") if trusted(peer) else None
    if forwarded is None:
        return peer
    address = peer
    for item in reversed(forwarded.split(",")):
        candidate = item.strip()
        try:
            address = plain_address(str(ipaddress.ip_address(candidate)))
        except ValueError:
            raise BadForwarding(f"not an address in X-Forwarded-For: {candidate[:60]!r}") from None
        if not trusted(address):
            break
    return address


def allowed_origins(
    headers: HeaderLookup, secure: bool, configured: Sequence[str]
) -> list[Origin | re.Pattern[str] | None]:
    """The ``Origin`` values a handshake is accepted from, as
    :class:`websockets.server.ServerProtocol` checks them.

    None: a client that is not a browser sends no Origin, and is not a cross-site
    page. The page's own origin (the scheme of the connection and the ``Host`` the
    browser asked for), and the configured ones, ``*`` meaning any.
    """
    origins: list[Origin | re.Pattern[str] | None] = [None]
    host = field(headers, "Host")
    if host:
        scheme = "https" if secure else "http"
        origins.append(re.compile(re.escape(f"{scheme}://{host}"), re.IGNORECASE))
    for origin in configured:
        if origin == "*":
            origins.append(re.compile(".*"))
        else:
            origins.append(re.compile(re.escape(origin.rstrip("/")), re.IGNORECASE))
    return origins


def forwarded_secure(headers: HeaderLookup) -> bool:
    """Whether a trusted proxy says the client reached it over TLS."""
    proto = field(headers, "X-Forwarded-Proto")
    return proto is not None and proto.split(",")[0].strip().lower() == "https"


def response(reply: Reply) -> Response:
    """A :class:`Reply` as an HTTP response, with the fields every answer carries."""
    status = http.HTTPStatus(reply.status)
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            *SECURITY_HEADERS,
            *reply.headers,
        ]
    )
    if reply.status not in (304,) and "Content-Length" not in headers:
        headers["Content-Length"] = str(len(reply.body))
    return Response(status.value, status.phrase, headers, reply.body)


def error(status: int, text: str, *extra: tuple[str, str]) -> Response:
    """A short plain-text error answer."""
    fields = (("Content-Type", "text/plain; charset=utf-8"), *extra)
    return response(Reply(status, fields, text.encode() + b"\n"))
