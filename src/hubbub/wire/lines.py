"""Line framing: bytes from a stream in, bounded lines out."""

from __future__ import annotations

import re

from hubbub.wire.errors import LineTooLong

_TERMINATORS = re.compile(rb"[\r\n]+")
# Reads up to this many bytes (with what was held) are split on LF after CR became LF.
_SMALL = 2048


class LineBuffer:
    """Splits a byte stream into lines without ever holding more than ``max_length`` bytes.

    An over-long line is not returned: its bytes are dropped up to the next terminator
    and a :class:`LineTooLong` value takes its place in the output, so the reader can
    answer it in order with the lines around it.

    Args:
        max_length: the longest line accepted, terminator excluded.
        keep_empty: return empty lines too (a plain-text user pressing Enter means
            something; an IRC client's blank line does not).
    """

    __slots__ = (
        "_after_cr",
        "_discarding",
        "_pending",
        "keep_empty",
        "max_length",
    )

    def __init__(self, max_length: int, keep_empty: bool = False) -> None:
        self.max_length = max_length
        self.keep_empty = keep_empty
        self._pending = b""
        self._discarding = False
        # A CR ended the last chunk: an LF starting the next one belongs to it.
        self._after_cr = False

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        """Add received bytes; return the complete lines (empty lines are skipped)."""
        if self._after_cr and data[:1] == b"\n":
            data = data[1:]
        self._after_cr = data[-1:] == b"\r"
        buffer = self._pending + data if self._pending else data
        # Modern IRC client protocol: "messages are terminated by CR LF"; a bare CR or LF
        # ends a line too, as for most clients and servers, so that a stray CR can never
        # stay inside a line and start a new one on a peer's screen.
        lines: list[bytes]
        if self.keep_empty:
            if b"\r" in buffer:
                buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = buffer.split(b"\n")
        elif len(buffer) > _SMALL:
            # Blank lines are dropped, so a run of terminators is one: a flood of them is
            # one match in C, not a list entry per blank line.
            lines = _TERMINATORS.split(buffer)
        else:
            # The usual read, a line or a few: splitting on one byte runs in C without a
            # match object (a CR LF leaves an empty line, dropped below).
            if b"\r" in buffer:
                buffer = buffer.replace(b"\r", b"\n")
            lines = buffer.split(b"\n")
        rest = lines.pop()
        limit = self.max_length
        out: list[bytes | LineTooLong] = []
        if self._discarding and lines:
            self._discarding = False
            del lines[0]  # the end of the over-long line
            out.append(LineTooLong(f"line over {limit} bytes"))
        if not self.keep_empty and b"" in lines:
            lines = [line for line in lines if line]
        if len(buffer) > limit and lines and max(map(len, lines)) > limit:
            out += [
                LineTooLong(f"line over {limit} bytes") if len(line) > limit else line
                for line in lines
            ]
        elif out:
            out += lines
        else:
            out = lines  # type: ignore[assignment]  # list is invariant; nothing else holds it
        if len(rest) > limit:  # (the buffer is over the limit too: rare)
            # Keep nothing of a line that is already too long: memory stays bounded
            # however long the sender keeps going without a newline.
            self._discarding = True
            rest = b""
        self._pending = rest
        return out

    @property
    def pending(self) -> int:
        """How many bytes of an unfinished line are held."""
        return len(self._pending)

    @property
    def discarding(self) -> bool:
        """Whether an over-long unfinished line is being dropped."""
        return self._discarding

    def take_partial(self) -> bytes | LineTooLong:
        """Take the unfinished line as it is, for dialects whose clients send no newline.

        A UTF-8 character cut at the end stays held for the rest of its bytes; an
        over-long line that was being dropped ends here, as a :class:`LineTooLong`.
        """
        if self._discarding:
            self._discarding = False
            self._pending = b""
            return LineTooLong(f"line over {self.max_length} bytes")
        data = self._pending
        cut = len(data)
        # Step back over continuation bytes to the lead byte of the last character.
        start = cut - 1
        while start >= 0 and start > cut - 4 and data[start] & 0xC0 == 0x80:
            start -= 1
        if start >= 0:
            lead = data[start]
            width = (
                1 if lead < 0x80 else 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4
            )
            if lead >= 0xC0 and cut - start < width:
                cut = start
        self._pending = data[cut:]
        return data[:cut]
