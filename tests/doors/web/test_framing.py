"""IRC lines as WebSocket messages: one frame per line out, a message as a line in."""

from __future__ import annotations

from websockets.frames import Frame, Opcode
from websockets.protocol import CLIENT, Protocol

from hubbub.doors.web.framing import Fragments, Framer, line_of
from hubbub.wire.errors import LineTooLong


def frames_of(data: bytes) -> list[Frame]:
    """The frames a client reads from the server's bytes."""
    client = Protocol(CLIENT)
    client.receive_data(data)
    events = client.events_received()
    assert all(isinstance(event, Frame) for event in events)
    return [event for event in events if isinstance(event, Frame)]


def test_each_line_becomes_one_text_frame_without_its_crlf() -> None:
    frames = frames_of(Framer(binary=False).frames(b":a PRIVMSG #r :hi\r\n:a PART #r\r\n"))
    assert [(f.opcode, f.fin, bytes(f.data)) for f in frames] == [
        (Opcode.TEXT, True, b":a PRIVMSG #r :hi"),
        (Opcode.TEXT, True, b":a PART #r"),
    ]


def test_binary_subprotocol_lines_are_binary_frames() -> None:
    (frame,) = frames_of(Framer(binary=True).frames(b"PING :x\r\n"))
    assert (frame.opcode, bytes(frame.data)) == (Opcode.BINARY, b"PING :x")


def test_a_long_line_gets_the_extended_length_and_is_not_masked() -> None:
    line = b"x" * 8000
    data = Framer(binary=False).frames(line + b"\r\n")
    assert data[1] == 126  # no mask bit: RFC 6455 section 5.1, a server never masks
    (frame,) = frames_of(data)
    assert bytes(frame.data) == line


def test_the_same_line_object_is_framed_once_for_every_recipient() -> None:
    framer = Framer(binary=False)
    line = b":a PRIVMSG #r :hi\r\n"
    first = framer.frames(line)
    assert framer.frames(line) is first
    other = framer.frames(bytes(bytearray(b":b PRIVMSG #r :yo\r\n")))
    assert other is not first
    assert frames_of(other)[0].data == b":b PRIVMSG #r :yo"


def test_output_without_a_final_crlf_still_ends_with_its_last_line() -> None:
    frames = frames_of(Framer(binary=False).frames(b"A\r\nB"))
    assert [bytes(f.data) for f in frames] == [b"A", b"B"]


def test_a_message_up_to_the_longest_line_is_the_line_and_past_it_is_too_long() -> None:
    assert line_of(b"x" * 10, 10) == b"x" * 10
    assert isinstance(line_of(b"x" * 11, 10), LineTooLong)


def test_fragments_join_into_one_line() -> None:
    fragments = Fragments(b"PRIVMSG #r", 100)
    fragments.add(b" :hel")
    fragments.add(b"lo")
    assert fragments.line() == b"PRIVMSG #r :hello"


def test_fragments_past_the_longest_line_are_dropped_and_the_message_is_too_long() -> None:
    fragments = Fragments(b"x" * 60, 100)
    for _ in range(1000):
        fragments.add(b"y" * 60)
    assert isinstance(fragments.line(), LineTooLong)
    assert fragments._parts is None  # nothing kept past the limit
