"""Lines and text as they may be logged or shown: credentials replaced, whatever side
sent them, and what a terminal or an IRC client would act on escaped."""

from __future__ import annotations

import re

# Commands whose parameters are secrets (SASL payloads, server and operator passwords),
# and services requests that carry a password (IDENTIFY, REGISTER, PASSWORD, DROP, GHOST).
_SECRET_COMMAND = re.compile(
    rb"^(?P<head>(?:@\S*\s+)?(?::\S+\s+)?(?:AUTHENTICATE|PASS|OPER|REGISTER|VERIFY))(?:\s.*)?$",
    re.IGNORECASE | re.DOTALL,
)
_SERVICES_REQUEST = re.compile(
    rb"^(?P<head>(?:@\S*\s+)?(?::\S+\s+)?(?:(?:PRIVMSG|NOTICE)\s+:?(?:NickServ|NS)(?:@\S*)?\s+:?"
    rb"|(?:NS|NICKSERV)\s+:?)\s*(?:IDENTIFY|REGISTER|PASSWORD|DROP|GHOST|CERT)\b)(?:.*)$",
    re.IGNORECASE | re.DOTALL,
)
_HIDDEN = b" <hidden>"


def redact(data: bytes) -> bytes:
    """``data`` (one line or several) with the parameters of credential-carrying
    commands hidden, for logs.

    Only such a line's head is kept: ``AUTHENTICATE <hidden>``,
    ``PRIVMSG NickServ :IDENTIFY <hidden>``. Other lines come back unchanged.
    """
    if b"\n" in data:
        return b"\n".join(_redact_line(line) for line in data.split(b"\n"))
    return _redact_line(data)


def _redact_line(line: bytes) -> bytes:
    for pattern in (_SECRET_COMMAND, _SERVICES_REQUEST):
        found = pattern.match(line.lstrip())
        if found:
            ending = b"\r" if line.endswith(b"\r") else b""
            return found.group("head") + _HIDDEN + ending
    return line


def shown_url(url: str) -> str:
    """A URL as logs and messages may show it: without the user and password it may
    carry (``nats://user:secret@host`` is ``nats://***@host``, probe 20)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    # The last @: a password may hold one (as URL parsers read it, probe 21), or a /.
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def shown_text(text: str) -> str:
    """``text`` as one line a terminal or an IRC client shows as it is: what is not
    printable (CR and LF that would end the line and forge the next, terminal escapes,
    bidi and other format characters) as ``\\uXXXX``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
