"""Making text from a server safe to show, and the small text helpers of the view.

A server or another user controls every byte the client shows. Terminal escape
sequences, C0/C1 controls and bidirectional overrides could move the cursor, recolour
or reorder the screen, so they are removed before anything is displayed; IRC's own
formatting codes are removed too (the view draws its own colours). Lengths are bounded.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime

# The longest text kept for one displayed line; a line from the wire is at most a few
# KiB, and no reader wants more than this in one go.
MAX_SHOWN = 2000

_ESCAPE_SEQUENCES = re.compile(
    r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI (cursor moves, colours)
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC strings
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # other escapes (charset changes, resets)
    r"|\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # 8-bit CSI
)
_IRC_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"  # mIRC colour: ^C fg[,bg]
    r"|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"  # hex colour
    r"|[\x02\x0f\x11\x16\x1d\x1e\x1f]"  # bold, reset, monospace, reverse, italic, ...
)
# Controls (Cc), bidirectional embeddings, overrides and isolates, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def decode(data: bytes) -> str:
    """Bytes from a server as text: UTF-8, with undecodable bytes replaced."""
    return data.decode("utf-8", "replace")


def clean(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` with escape sequences, IRC formatting and controls removed, cut to ``limit``.

    Tabs become spaces. The result contains no character below U+0020.
    """
    if len(text) > limit:
        text = text[:limit] + "…"
    if _UNSAFE.search(text) is None:
        return text
    text = _ESCAPE_SEQUENCES.sub("", text)
    text = _IRC_FORMATTING.sub("", text).replace("\t", " ")
    return _UNSAFE.sub("", text)


# Colours that read on dark and light backgrounds alike; no red (errors) or grey (quiet).
NICK_COLOURS = (
    "#e5a50a",
    "#33b3e6",
    "#57c757",
    "#c061cb",
    "#f66151",
    "#2ec27e",
    "#62a0ea",
    "#e66100",
    "#dc8add",
    "#26a269",
    "#f5c211",
    "#99c1f1",
)


def nick_colour(nick: str) -> str:
    """A colour for ``nick`` that stays the same across runs and machines."""
    return NICK_COLOURS[zlib.crc32(nick.lower().encode()) % len(NICK_COLOURS)]


def split_utf8(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-8 bytes, at spaces where it can."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode("utf-8", "ignore"))
        space = text.rfind(" ", 0, cut + 1)
        if space > cut // 2:
            cut = space
        pieces.append(text[:cut])
        text = text[cut:].lstrip(" ")
    if text or not pieces:
        pieces.append(text)
    return pieces


def mentions(text: str, nick: str) -> bool:
    """Whether ``text`` names ``nick`` as a word (any case)."""
    if not nick:
        return False
    pattern = r"(?<![\w\-\[\]\\`^{|}])" + re.escape(nick) + r"(?![\w\-\[\]\\`^{|}])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def duration(seconds: int) -> str:
    """``42 seconds``, ``5 minutes``, ``2 hours 5 minutes``, ``3 days 4 hours``."""
    seconds = max(seconds, 0)
    if seconds < 60:
        return _units(seconds, "second")
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return _units(minutes, "minute")
    if days == 0:
        rest = minutes % 60
        return _units(hours, "hour") + (" " + _units(rest, "minute") if rest else "")
    rest = hours % 24
    return _units(days, "day") + (" " + _units(rest, "hour") if rest else "")


def moment(when: float, now: float) -> str:
    """A time in words, local: ``17:44 today`` or ``3 Dec 2026, 17:44``."""
    then, today = datetime.fromtimestamp(when), datetime.fromtimestamp(now)
    if then.date() == today.date():
        return f"{then:%H:%M} today"
    return f"{then.day} {then:%b %Y}, {then:%H:%M}"


def _units(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
