"""IRC messages: parse a line into a :class:`Message`, encode a message into a line.

Grammar (modern IRC client protocol, "Message format")::

    message ::= ['@' tags SPACE] [':' source SPACE] command [params] CRLF
    params  ::= *(SPACE middle) [SPACE ':' trailing]

Tags follow the IRCv3 message-tags specification, including its value escaping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from hubbub.wire.errors import EmptyMessage, InvalidUtf8, MalformedMessage

# IRCv3 message-tags: "\:" is ";", "\s" is SPACE, "\\" is "\", "\r" CR and "\n" LF.
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})
_EMPTY_TAGS: Mapping[str, str] = MappingProxyType({})
# IRCv3 message-tags: a client-only tag is "+", an optional vendor (a host name) and
# "/", and a name of ASCII letters, digits and hyphens.
# C0 and C1 controls but tab, CR and LF (which the spec's escaping carries: "\r", "\n"),
# DEL, and the bidirectional marks, embeddings, overrides and isolates (joiners stay:
# emoji sequences are made with them).
_UNSHOWABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_CLIENT_TAG_KEY = re.compile(r"\+(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?/)?[A-Za-z0-9-]+")


class Message(NamedTuple):
    """One IRC message; a named tuple, immutable and made for every line read (a frozen
    dataclass took twice as long to make).

    Attributes:
        command: the verb, upper-cased for words (``PRIVMSG``) or three digits.
        params: the parameters; the last one may contain spaces.
        source: the prefix without its colon (``nick!user@host`` or a server name).
        tags: IRCv3 tags, unescaped; a tag without value maps to ``""``.
    """

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = _EMPTY_TAGS


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag escaping; an unknown escape drops the backslash."""
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_UNESCAPE.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Apply IRCv3 tag escaping."""
    return value.translate(_ESCAPE)


def client_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The client-only tags of a message that are well formed: what a server relays.
    Others are dropped: keys with controls, bidi overrides or a bare "+" (probe 17),
    and values with control characters (but tab, CR and LF, which the spec's escaping
    carries) or bidi overrides (a reaction's value is text a client may show, probe
    18)."""
    match = _CLIENT_TAG_KEY.fullmatch
    return {
        key: value
        for key, value in tags.items()
        if key[:1] == "+" and match(key) and _showable(value)
    }


def _showable(value: str) -> bool:
    """Whether a tag's value holds nothing that hides or rearranges text: controls,
    bidi marks, line and paragraph separators, format characters but the joiner (emoji
    are made with it; the tag letters, which hide text, are refused), private-use,
    unassigned and blank-drawn characters (probes 18 and 19)."""
    if value.isascii():
        return not _UNSHOWABLE.search(value)
    marks = 0
    for char in value:
        category = unicodedata.category(char)
        if category in _HIDDEN or (category == "Cf" and char != "\u200d"):
            return False
        if char in _BLANK or char in _INVISIBLE or _UNSHOWABLE.match(char):
            return False
        marks = marks + 1 if category == "Mn" else 0
        if marks > _MARKS:
            return False  # marks stacked over the lines around it (probe 20)
    return True


_HIDDEN = frozenset({"Zl", "Zp", "Co", "Cs", "Cn"})
# Marks drawn as nothing, that can carry hidden data (probe 20): variation selectors
# 17 to 256, the Mongolian free variation selectors, the Khmer inherent vowels and the
# combining grapheme joiner.
_INVISIBLE = frozenset(
    [chr(c) for c in range(0xE0100, 0xE01F0)]
    + ["\u180b", "\u180c", "\u180d", "\u180f", "\u17b4", "\u17b5", "\u034f"]
)
# Combining marks one letter may carry (Vietnamese takes two).
_MARKS = 4
# Drawn as nothing (as wire/casemap.py refuses in names).
_BLANK = frozenset("\u2800\u3164\u115f\u1160\uffa0\U00016fe4\ufffc\U0001d159\u303f")


def parse_tags(text: str) -> dict[str, str]:
    """Parse the tag section of a line (without ``@``)."""
    tags: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key:
            raise MalformedMessage("tag without a key")
        # IRCv3 message-tags: "If there are multiple tags with the same key, clients
        # MUST use the last one" - a dict does exactly that.
        tags[key] = unescape_tag_value(value)
    return tags


def parse(line: bytes) -> Message:
    """Parse one line (without its terminator) into a :class:`Message`.

    Raises:
        InvalidUtf8: the line is not UTF-8.
        MalformedMessage: the line has no command, contains NUL, or its tags are broken.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUtf8(_command_of(line)) from None
    if "\0" in text or "\r" in text or "\n" in text:
        # A line break inside a parameter would become a line of its own on the way out.
        raise MalformedMessage("NUL, CR or LF inside a line")
    tags: Mapping[str, str] = _EMPTY_TAGS
    source = None
    rest = text.lstrip(" ")
    if rest.startswith("@"):
        tag_text, _, rest = rest[1:].partition(" ")
        tags = parse_tags(tag_text)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    trailing: str | None = None
    head, sep, tail = rest.partition(" :")
    if sep:
        trailing = tail
    elif head.startswith(":"):
        head, trailing = "", head[1:]
    # Split on spaces only: str.split() would also split on tabs and other separators.
    words = head.split(" ")
    if "" in words:  # runs of spaces, or spaces at either end
        words = [word for word in words if word]
    if not words:
        raise EmptyMessage("no command")
    command = words[0]
    params = words[1:]
    if trailing is not None:
        params.append(trailing)
    if command.isascii() and command.isalpha():
        command = command.upper()
    return Message(command, tuple(params), source or None, tags)


def _command_of(line: bytes) -> str:
    """Best-effort command word of an undecodable line, for the error reply."""
    words = line.split()
    while words and words[0][:1] in (b"@", b":"):
        words.pop(0)
    if words and words[0].isalnum() and words[0].isascii():
        return words[0].decode("ascii").upper()
    return ""


def encode_tags(tags: Mapping[str, str]) -> str:
    """Encode a tag section without the leading ``@``."""
    return ";".join(
        f"{key}={escape_tag_value(value)}" if value else key for key, value in tags.items()
    )


def encode(message: Message, line_length: int | None = None) -> bytes:
    """Encode a message as one line, CRLF included.

    The last parameter is sent as a trailing parameter when it must be (empty, with a
    space, or starting with a colon). With ``line_length``, a line too long has its
    last parameter sent as a trailing one, and cut (see :func:`fit_line`).
    """
    parts: list[str] = []
    if message.tags:
        parts.append("@" + encode_tags(message.tags))
    if message.source:
        parts.append(":" + message.source)
    parts.append(message.command)
    params = message.params
    if params:
        parts.extend(map(_middle, params[:-1]))
        last = params[-1]
        if not last or " " in last or last.startswith(":"):
            last = ":" + last
        parts.append(last)
    line = " ".join(parts)
    if line_length is not None and params:
        # Only a trailing parameter is cut: the last one becomes one if it must be cut.
        trailing = line if parts[-1].startswith(":") else " ".join([*parts[:-1], ":" + parts[-1]])
        fitted = fit_line(trailing, line_length)
        if fitted != trailing:
            line = fitted
    return (line + "\r\n").encode("utf-8")


def _middle(param: str) -> str:
    """A parameter before the last, made sendable: the protocol cannot carry an empty
    one, a space, or a leading colon there, so those are replaced rather than let
    shift the parameters after them (a refused name echoed back, for instance)."""
    if is_middle(param):
        return param
    return param.replace(" ", "_").lstrip(":") or "*"


def is_middle(param: str) -> bool:
    """Whether ``param`` can be sent in any position (no space, no leading colon)."""
    return bool(param) and " " not in param and not param.startswith(":")


def fit_line(line: str, line_length: int = 512) -> str:
    """``line`` (no CRLF) cut, on character boundaries, so that it has at most
    ``line_length`` bytes with CRLF, its tags aside.

    Modern IRC client protocol: "Most IRC servers limit messages to 512 bytes in length,
    including the trailing CR-LF characters", "the tags ... excluded". The trailing
    parameter is cut first. When what comes before it fills the line by itself (a
    client's long word echoed back as a middle parameter, say), the longest parameters
    before it are cut instead, each to the same length, and the trailing one is kept
    whole if it can be (it is most often the reply's description), else left empty. A
    line whose source and command alone are too long is left as it is.
    """
    data = line.encode()
    body = data.find(b" ") + 1 if data.startswith(b"@") else 0
    if len(data) - body + 2 <= line_length:
        return line
    # The first " :" after the source starts the trailing parameter: no middle
    # parameter starts with a colon, and the source has no space.
    trailing = data.find(b" :", body + 1)
    if trailing >= 0 and trailing + 4 - body <= line_length:
        return data[: body + line_length - 2].decode("utf-8", "ignore")
    return _fit_middles(data, body, trailing, line_length)


def _fit_middles(data: bytes, body: int, trailing: int, line_length: int) -> str:
    """The fallback of :func:`fit_line`: the parameters before the trailing one (all of
    them when there is none) fill the line by themselves."""
    if trailing >= 0:
        words, last = data[body:trailing].split(b" "), data[trailing + 2 :]
    else:
        words, last = data[body:].split(b" "), b""
    fixed = 2 if words[0].startswith(b":") else 1  # the source and the command
    head, params = words[:fixed], words[fixed:]
    # Each word takes a space before it but the first; the CRLF takes two bytes.
    room = line_length - 2 - sum(len(word) + 1 for word in head) + 1
    for kept in (last, b"") if trailing >= 0 else (None,):
        # The trailing parameter takes " :" and itself, when there is one.
        budget = room - (0 if kept is None else len(kept) + 2)
        cut = _level(params, budget)
        if cut is not None:
            out = b" ".join([*head, *cut])
            if kept is not None:
                out += b" :" + kept
            return data[:body].decode() + out.decode()
    return data.decode()


def _level(params: list[bytes], budget: int) -> list[bytes] | None:
    """``params`` with the longest cut to one length (on character boundaries, each
    keeping its first character) so that they take at most ``budget`` bytes with a
    space before each; None if they cannot."""

    def cut_to(width: int) -> list[bytes]:
        return [_prefix(param, width) for param in params]

    def size(cut: list[bytes]) -> int:
        return sum(len(param) + 1 for param in cut)

    if size(cut_to(1)) > budget:
        return None
    # The widest cut that fits: size(cut_to(width)) grows with width.
    low, high = 1, max(map(len, params), default=1)
    while low < high:
        middle = (low + high + 1) // 2
        if size(cut_to(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return cut_to(low)


def _prefix(param: bytes, width: int) -> bytes:
    """At most ``width`` bytes of ``param`` on a character boundary, but never less
    than its first character (a parameter cannot be empty)."""
    if len(param) <= width:
        return param
    # A character cut in two is dropped whole ("ignore" drops only an incomplete tail:
    # the parameter came from a str, so it is otherwise valid UTF-8).
    cut = param[:width].decode("utf-8", "ignore").encode()
    return cut or param.decode()[0].encode()
