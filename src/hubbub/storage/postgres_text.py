"""Text as the PostgreSQL store keeps it (NUL, which PostgreSQL's text cannot hold,
escaped; see :mod:`hubbub.storage.postgres`), and database URLs as messages show them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

_ESCAPE = "\uffff"
_ESCAPED = re.compile("\uffff([\uffff0])")


def put(text: str) -> str:
    """Text as stored: NUL and the escape character escaped (see the module docstring)."""
    if "\0" not in text and _ESCAPE not in text:
        return text
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("\0", _ESCAPE + "0")


def get(text: str) -> str:
    """Text as it was written, from its stored form."""
    if _ESCAPE not in text:
        return text
    return _ESCAPED.sub(lambda m: "\0" if m[1] == "0" else _ESCAPE, text)


def changed(status: str) -> int:
    """The row count of a command status such as ``DELETE 3`` or ``INSERT 0 1``."""
    return int(status.rpartition(" ")[2] or 0)


def describe(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    unknown = "the configured PostgreSQL database"
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
    except ValueError:
        return unknown
    user, at, host = parts.netloc.rpartition("@")
    # An unescaped "/" or "?" in a password splits the URL elsewhere, leaving pieces of
    # the password where a port or a database name should be: show neither.
    ports = [item.rpartition("]")[2].partition(":") for item in host.split(",")]
    if "@" in parts.path or not all(port.isdigit() for _, colon, port in ports if colon):
        return unknown
    user = user.partition(":")[0]
    host = host or ",".join(query.get("host", [])) or "localhost"
    return f"postgresql://{user}{at}{host}{parts.path}"
