"""Line framing: bytes from a stream in, bounded lines out."""

from __future__ import annotations

import re

from hubbub.wire.errors import LineTooLong

# Modern IRC client protocol: "messages are terminated by CR LF"; servers here also
# accept a bare CR or LF, as most clients and servers do, so that a stray CR can never
# stay inside a line and start a new one on a peer's screen.
_TERMINATOR = re.compile(rb"\r\n|\r|\n")
# Where empty lines are dropped anyway, a run of terminators is one: a flood of blank
# lines is then one match in C, not a Python loop turn per line.
_TERMINATORS = re.compile(rb"[\r\n]+")


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
        "_terminator",
        "keep_empty",
        "max_length",
    )

    def __init__(self, max_length: int, keep_empty: bool = False) -> None:
        self.max_length = max_length
        self.keep_empty = keep_empty
        self._terminator = _TERMINATOR if keep_empty else _TERMINATORS
        self._pending = b""
        self._discarding = False
        # A CR ended the last chunk: an LF starting the next one belongs to it.
        self._after_cr = False

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        """Add received bytes; return the complete lines (empty lines are skipped)."""
        if self._after_cr and data.startswith(b"\n"):
            data = data[1:]
        self._after_cr = data.endswith(b"\r")
        buffer = self._pending + data if self._pending else data
        out: list[bytes | LineTooLong] = []
        start = 0
        for match in self._terminator.finditer(buffer):
            line = buffer[start : match.start()]
            start = match.end()
            if self._discarding:
                self._discarding = False
                out.append(LineTooLong(f"line over {self.max_length} bytes"))
            elif len(line) > self.max_length:
                out.append(LineTooLong(f"line over {self.max_length} bytes"))
            elif line or self.keep_empty:
                out.append(line)
        rest = buffer[start:]
        if len(rest) > self.max_length:
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
