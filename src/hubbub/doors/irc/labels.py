"""IRCv3 labeled-response: putting a command's label on its replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.wire.message import encode_tags

if TYPE_CHECKING:
    from hubbub.doors.irc.client import IrcClient


def _one_batch(lines: list[bytes]) -> bool:
    """Whether lines are exactly one batch: BATCH +ref first, BATCH -ref last."""
    first, last = lines[0].split(b" "), lines[-1].split(b" ")
    opening = first[1:] if first[0].startswith(b"@") else first
    return (
        len(opening) >= 3
        and opening[1] == b"BATCH"
        and opening[2].startswith(b"+")
        and last[-2:] == [b"BATCH", b"-" + opening[2][1:]]
    )


def _in_batch(line: bytes, batch_tag: bytes) -> bytes:
    """A line inside a labeled-response batch; a line of a nested batch keeps its own."""
    if line.startswith(b"@batch=") or b";batch=" in line.split(b" ", 1)[0]:
        return line
    return add_tags(line, batch_tag)


def add_tags(line: bytes, tags: bytes) -> bytes:
    """Put tags in front of an encoded line (without CRLF), merging with its own."""
    if line.startswith(b"@"):
        return b"@" + tags + b";" + line[1:]
    return b"@" + tags + b" " + line


def send_labeled(session: IrcClient, label: str, replies: list[bytes]) -> None:
    """Send a labeled command's replies: one line labeled, several in a labeled-response
    batch (or as they are, for a client without batch), none as an ACK."""
    tag = encode_tags({"label": label}).encode()
    lines = b"".join(replies).split(b"\r\n")[:-1]
    server = session.ctx.server_name
    if not lines:
        session.send(b"@" + tag + f" :{server} ACK\r\n".encode())
    elif len(lines) == 1 or _one_batch(lines):
        # A reply that is one batch already (CHATHISTORY) carries the label itsession.
        rest = b"".join(line + b"\r\n" for line in lines[1:])
        session.send(add_tags(lines[0], tag) + b"\r\n" + rest)
    elif "batch" not in session.caps:
        session.send(b"".join(line + b"\r\n" for line in lines))
    else:
        reference = session.new_batch()
        start = add_tags(f":{server} BATCH +{reference} labeled-response".encode(), tag)
        batch_tag = b"batch=" + reference.encode()
        session.send(
            start
            + b"\r\n"
            + b"".join(_in_batch(line, batch_tag) + b"\r\n" for line in lines)
            + f":{server} BATCH -{reference}\r\n".encode()
        )
