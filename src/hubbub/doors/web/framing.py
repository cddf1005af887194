"""IRC lines as WebSocket messages, both ways (IRCv3 WebSocket transport).

IRCv3 websocket: "each message MUST consist of a single IRC line, except that servers
and clients MUST NOT include trailing \\r or \\n characters in the message."

Out, a session's output (whole lines, each ending with CR LF) becomes one frame per line
(:class:`Framer`). In, a message is a line as the line driver would have read it, or a
:class:`~hubbub.wire.errors.LineTooLong` in its place (:func:`line_of`,
:class:`Fragments`); a CR or LF inside one reaches the session, which refuses the line
as malformed.
"""

from __future__ import annotations

from websockets.frames import Frame, Opcode

from hubbub.wire.errors import LineTooLong

# How much bigger than the longest line a single frame may be: frames up to this are
# read whole and answered like an over-long TCP line; past it the connection fails
# (RFC 6455 close code 1009), since a frame is only parsed once all of it is held.
FRAME_ALLOWANCE = 4


class Framer:
    """Makes the frames of a session's output, for every connection of one message type.

    The fan-out hands the same rendered line (the same bytes object) to every
    recipient of a capability variant; the last framing is kept, so a message reaching
    many WebSocket users is framed once, not once per user. Frames from a server are
    not masked (RFC 6455 section 5.1), so the bytes are the same for all of them.

    Args:
        binary: binary frames (``binary.ircv3.net``) rather than text ones.
    """

    __slots__ = ("_last", "_last_frames", "opcode")

    def __init__(self, binary: bool) -> None:
        self.opcode = Opcode.BINARY if binary else Opcode.TEXT
        self._last: bytes | None = None
        self._last_frames = b""

    def frames(self, data: bytes) -> bytes:
        """The frames of ``data``: one per line, without its CR LF."""
        if data is self._last:
            return self._last_frames
        lines = data.split(b"\r\n")
        if not lines[-1]:
            lines.pop()
        opcode = self.opcode
        # Lines the IRC door renders are UTF-8 (it encodes str and reads nothing else),
        # so they may go out as text frames as they are.
        framed = b"".join([Frame(opcode, line).serialize(mask=False) for line in lines])
        self._last = data
        self._last_frames = framed
        return framed


def line_of(data: bytes, longest: int) -> bytes | LineTooLong:
    """A whole message as the line it carries, or the over-long line it would be."""
    if len(data) > longest:
        return LineTooLong(f"line over {longest} bytes")
    return data


class Fragments:
    """A message arriving in fragments (RFC 6455 section 5.4), kept only up to the
    longest line: beyond it the rest is dropped as it comes, as the line buffer drops
    an over-long line, and the message ends as a :class:`LineTooLong`.

    Args:
        first: the first fragment's payload.
        longest: the longest line, in bytes.
    """

    __slots__ = ("_longest", "_parts", "_size")

    def __init__(self, first: bytes, longest: int) -> None:
        self._longest = longest
        self._parts: list[bytes] | None = [first]
        self._size = len(first)

    def add(self, data: bytes) -> None:
        if not data:
            return  # an empty fragment adds nothing, and is not kept
        self._size += len(data)
        if self._parts is not None:
            if self._size > self._longest:
                self._parts = None
            else:
                self._parts.append(data)

    def line(self) -> bytes | LineTooLong:
        """The whole message, once its last fragment has been added."""
        if self._parts is None or self._size > self._longest:
            return LineTooLong(f"line over {self._longest} bytes")
        return b"".join(self._parts)
