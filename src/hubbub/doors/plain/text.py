"""Making text safe for a plain terminal, and fitting it to IRC's line length."""

from __future__ import annotations

import re
from collections.abc import Iterable

# ANSI/VT escape sequences (CSI, OSC, and two-character escapes), then mIRC formatting.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement
    # OSC: titles, hyperlinks. Only a terminated one is removed whole: cleaning runs on
    # finished lines, and an open one would swallow the text of the fields after it.
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_IRC_COLOURS = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"  # mIRC colours
    r"|\x04[0-9a-fA-F]{0,6}(?:,[0-9a-fA-F]{6})?"  # hex colours
)


# C0 and C1 controls and DEL (Unicode category Cc), and lone surrogates.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """Text with escape sequences, IRC formatting and other control characters removed,
    so nothing a sender writes can move another user's cursor or recolour their screen."""
    if _CONTROLS.search(text) is None:
        return text
    text = _IRC_COLOURS.sub("", _ESCAPES.sub("", text)).replace("\t", " ")
    return _CONTROLS.sub("", text)


def terminal_bytes(lines: Iterable[str]) -> bytes:
    """Lines as a plain terminal is sent them: each cleaned, each ending with a newline.

    Every byte the door writes to a client goes through here, so a name, room, topic or
    reason from someone else is cleaned wherever a line happens to show it.
    """
    return "".join(clean(line) + "\n" for line in lines).encode()


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most ``limit`` UTF-8 bytes, at spaces where possible."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode("utf-8", "ignore"))
        space = text.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces
