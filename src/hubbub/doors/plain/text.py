"""Making text safe for a plain terminal, and fitting it to IRC's line length."""

from __future__ import annotations

import re
import unicodedata
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


# C0 and C1 controls and DEL (Unicode category Cc), and lone surrogates. Then what
# reorders or breaks a line without being a control: the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069) let a sender show their text,
# or the door's words after it, in an order other than the one sent ("Trojan Source",
# CVE-2021-42574); the direction marks (U+200E, U+200F, U+061C) flip the neutral
# characters beside them; the line and paragraph separators (U+2028, U+2029) may break
# the line in the reader's client. Then the other format characters (category Cf):
# zero-width spaces and joiners, word joiners, the byte-order mark, the deprecated
# shaping controls, interlinear annotations and the tag block (U+E0000-U+E007F), which
# hide text from a reader ("ASCII smuggling"); and private-use characters (Co), which
# mean whatever the reader's font makes of them. A plain terminal shows none of them as
# what they are. And the rest of what Unicode says is drawn as nothing
# (Default_Ignorable_Code_Point): the grapheme joiner, variation selectors, Khmer and
# Mongolian invisibles, which would split a run of blanks or a stack of marks in two.
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\ud800-\udfff\u034f\u17b4\u17b5\u180b-\u180f"
    "\ufe00-\ufe0f\ufff0-\ufff8\U000e0080-\U000e0fff"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ue000-\uf8ff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000f0000-\U0010ffff]"
)
# What else makes a line lie about its shape: combining marks (of any script) stacked
# past two on one letter spill over the lines around it, and a long run of spaces wraps
# the rest of a line to look like a new line from someone else.
_MARKS = ("Mn", "Me")
# Spaces of every width, and the letters drawn as nothing (braille blank, Hangul
# fillers): a long run of them pushes the rest of a line onto a row of its own, where it
# reads as a line from someone else.
_LONG_SPACES = re.compile(
    "[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800\u3164\u115f\u1160\uffa0]{17,}"
)
_SUSPECT = re.compile(f"{_CONTROLS.pattern}|{_LONG_SPACES.pattern}")


def clean(text: str) -> str:
    """Text with escape sequences, IRC formatting, other control and format characters
    and bidirectional formatting removed, stacks of combining marks cut to two and runs
    of blanks to sixteen spaces (the door's own lines align with fewer): nothing a sender
    writes can move another user's cursor, recolour their screen, hide text, or reorder
    or reshape what they read."""
    if _SUSPECT.search(text) is None and (text.isascii() or _cut_stacks(text) == text):
        return text
    text = _IRC_COLOURS.sub("", _ESCAPES.sub("", text)).replace("\t", " ")
    text = _CONTROLS.sub("", text)
    return _LONG_SPACES.sub(" " * 16, _cut_stacks(text))


def _cut_stacks(text: str) -> str:
    """Text with every stack of combining marks cut to its first two."""
    kept = []
    stacked = 0
    for char in text:
        if unicodedata.category(char) in _MARKS:
            stacked += 1
            if stacked > 2:
                continue
        else:
            stacked = 0
        kept.append(char)
    return "".join(kept)


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
