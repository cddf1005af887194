"""Line framing: whole, byte by byte, with trailing data and over-long lines."""

from __future__ import annotations

import re
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from hubbub.wire import lines as lines_module
from hubbub.wire.errors import LineTooLong
from hubbub.wire.lines import LineBuffer


def test_splits_on_crlf_lf_and_cr_and_skips_empty_lines() -> None:
    buffer = LineBuffer(100)
    assert buffer.feed(b"A\r\nB\nC\rD\r\n\r\n\n") == [b"A", b"B", b"C", b"D"]


def test_keeps_an_unfinished_line_until_its_terminator() -> None:
    buffer = LineBuffer(100)
    assert buffer.feed(b"PRIV") == []
    assert buffer.pending == 4
    assert buffer.feed(b"MSG #a :hi\r") == [b"PRIVMSG #a :hi"]
    assert buffer.feed(b"\nNEXT\r\n") == [b"NEXT"]


def test_a_line_over_the_limit_becomes_one_line_too_long_in_order() -> None:
    buffer = LineBuffer(10)
    out = buffer.feed(b"short\r\n" + b"x" * 11 + b"\r\nafter\r\n")
    assert out[0] == b"short"
    assert isinstance(out[1], LineTooLong)
    assert out[2] == b"after"


def test_memory_stays_bounded_while_a_line_never_ends() -> None:
    buffer = LineBuffer(512)
    for _ in range(2000):
        assert buffer.feed(b"y" * 1000) == []
        assert buffer.pending <= 512
    out = buffer.feed(b"\r\nPING x\r\n")
    assert isinstance(out[0], LineTooLong)
    assert out[1:] == [b"PING x"]


_LINE_ENDS = st.sampled_from([b"\r\n", b"\r", b"\n", b"", b"x", b"\xc3\xa9"])


@given(st.lists(st.binary(max_size=40) | _LINE_ENDS, max_size=20), st.booleans(), st.booleans())
def test_lines_end_at_crlf_cr_or_lf_as_the_protocol_reads_them(
    pieces: list[bytes], keep_empty: bool, big_read: bool
) -> None:
    data = b"".join(pieces)
    *lines, rest = re.split(rb"\r\n|\r|\n", data)
    expected = ["TOO LONG" if len(line) > 25 else line for line in lines if line or keep_empty]
    buffer = LineBuffer(25, keep_empty=keep_empty)
    # A big read takes another way through (a run of terminators as one): both ways
    # are held to the same lines.
    with patch.object(lines_module, "_SMALL", 0 if big_read else lines_module._SMALL):
        out = [x if isinstance(x, bytes) else "TOO LONG" for x in buffer.feed(data)]
    assert out == expected
    assert buffer.pending == (len(rest) if len(rest) <= 25 else 0)


@given(
    st.lists(st.binary(max_size=40) | _LINE_ENDS, max_size=20),
    st.integers(1, 30),
    st.booleans(),
)
def test_whole_and_byte_by_byte_and_chunked_feeding_agree(
    pieces: list[bytes], chunk: int, keep_empty: bool
) -> None:
    data = b"".join(pieces)

    def run(chunks: list[bytes]) -> list[bytes | str]:
        buffer = LineBuffer(25, keep_empty=keep_empty)
        out: list[bytes | str] = []
        for part in chunks:
            out.extend(x if isinstance(x, bytes) else "TOO LONG" for x in buffer.feed(part))
        return out

    whole = run([data])
    assert run([data[i : i + 1] for i in range(len(data))]) == whole
    assert run([data[i : i + chunk] for i in range(0, len(data), chunk)]) == whole
    for item in whole:
        assert item == "TOO LONG" or (b"\r" not in item and b"\n" not in item)


def test_a_run_of_blank_lines_is_skipped_whole_and_a_plain_door_keeps_each() -> None:
    # Issue 20, eighth probe: megabytes of CR LF were a Python loop turn per blank line;
    # where blank lines are dropped, a run of terminators is now one.
    assert LineBuffer(100).feed(b"A\r\n" + b"\r\n\r\n\n\r" * 50_000 + b"B\r\n") == [b"A", b"B"]
    assert LineBuffer(100, keep_empty=True).feed(b"A\r\n\r\n\nB\n") == [b"A", b"", b"", b"B"]
