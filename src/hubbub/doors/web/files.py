"""The web client's static files: which file a request names, and the HTTP answer for it
(content type, validators, caching, compression).

Only regular files inside the root, of a known type, are served: a path with an empty,
dot or dot-dot segment, a hidden name, a backslash or a NUL names nothing, and neither
does one that leaves the root through a symbolic link. ``/`` is ``index.html``.

Caching (RFC 9111): a name carrying a content hash (``app.3f2a9c1e.js``) or a ``v=``
query is a versioned asset, cached for a year as ``immutable``; everything else,
``index.html`` first, is ``no-cache``: kept, but revalidated each time with its ETag,
which costs a 304 and no body while the file is unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote_to_bytes

# What a browser is told each file is; a name of any other type is not served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Already compressed formats gain nothing from gzip.
_COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt"}
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# A content hash in a file name: a dot or dash, then 8 or more hex digits (at least one
# a digit, so that a word such as "-deadbeef" is not taken for one), then the suffix.
_HASHED = re.compile(r"[.-](?=[0-9a-f]*[0-9])[0-9a-f]{8,}\.[A-Za-z0-9]+$")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file as it is served: its bytes, and gzip's when they are smaller."""

    body: bytes
    content_type: str
    etag: str
    gzipped: bytes | None
    gzip_etag: str


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer, before the headers every answer carries."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


class StaticFiles:
    """The files of one folder, read once and kept while they stay unchanged.

    Args:
        root: the folder (the ``hubbub/web`` package folder, by default).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved = root.resolve()
        # By path inside the root: the file's (mtime_ns, size) when read, and its asset.
        self._cache: dict[str, tuple[tuple[int, int], Asset]] = {}

    def find(self, path: str) -> Asset | None:
        """The file a URL path (percent-encoded, without the query) names, if any."""
        relative = _relative(path)
        if relative is None or Path(relative).suffix not in CONTENT_TYPES:
            return None
        candidate = self.root / relative
        try:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(self._resolved) or not resolved.is_file():
                return None
            stat = resolved.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(relative)
            if cached is not None and cached[0] == version:
                return cached[1]
            body = resolved.read_bytes()
        except (OSError, ValueError):
            return None
        asset = _asset(body, Path(relative).suffix)
        self._cache[relative] = (version, asset)
        return asset

    def answer(self, method: str, target: str, headers: HeaderLookup) -> Reply:
        """The answer to a GET or HEAD of ``target`` (path and query)."""
        path, _, query = target.partition("?")
        asset = self.find(path)
        if asset is None:
            return Reply(404, (("Content-Type", "text/plain; charset=utf-8"),), b"Not found\n")
        versioned = _HASHED.search(path) is not None or "v" in parse_qs(query)
        cache_control = _IMMUTABLE if versioned else _REVALIDATE
        body, etag = asset.body, asset.etag
        fields = [("Content-Type", asset.content_type), ("Cache-Control", cache_control)]
        if asset.gzipped is not None:
            fields.append(("Vary", "Accept-Encoding"))
            if accepts_gzip(field(headers, "Accept-Encoding")):
                body, etag = asset.gzipped, asset.gzip_etag
                fields.append(("Content-Encoding", "gzip"))
        fields.append(("ETag", etag))
        if matches(field(headers, "If-None-Match"), etag):
            # RFC 9110 section 15.4.5: a 304 has no content; the validator fields stay.
            return Reply(304, tuple(f for f in fields if f[0] != "Content-Type"))
        fields.append(("Content-Length", str(len(body))))
        return Reply(200, tuple(fields), b"" if method == "HEAD" else body)


class HeaderLookup(Protocol):
    """What :meth:`StaticFiles.answer` reads of the request's headers (a
    :class:`websockets.datastructures.Headers` is one)."""

    def get_all(self, key: str) -> list[str]:
        """Every value of a field (a field may be sent more than once)."""
        ...


def field(headers: HeaderLookup, name: str) -> str | None:
    """A field's values as one (RFC 9110 section 5.3), or None when it is absent."""
    values = headers.get_all(name)
    return ", ".join(values) if values else None


def _relative(path: str) -> str | None:
    """The file path inside the root a URL path names, or None if it names none."""
    if not path.startswith("/"):
        return None
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if decoded == "/":
        return "index.html"
    segments = decoded[1:].split("/")
    for segment in segments:
        if not segment or segment.startswith(".") or "\\" in segment or "\0" in segment:
            return None
    return "/".join(segments)


def _asset(body: bytes, suffix: str) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    gzipped = None
    if suffix in _COMPRESSIBLE:
        # mtime=0: the same file always compresses to the same bytes (and ETag).
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        if len(packed) < len(body):
            gzipped = packed
    return Asset(body, CONTENT_TYPES[suffix], f'"{digest}"', gzipped, f'"{digest}-gz"')


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding field admits gzip (RFC 9110 section 12.5.3)."""
    if not header:
        return False
    for item in header.split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        weight = parameters.strip().lower()
        if weight.startswith("q="):
            try:
                return float(weight[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match field names ``etag`` (weak comparison, RFC 9110
    section 13.1.2)."""
    if not header:
        return False
    for item in header.split(","):
        candidate = item.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
