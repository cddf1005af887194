"""IRCv3 labeled-response: the replies to one labeled command, collected while it runs
and sent with its label once it is done.

IRCv3 labeled-response gives the response to a labeled command three shapes: one line
carrying the label, a ``labeled-response`` batch whose opening line carries it when there
are several lines, and a labeled ``ACK`` when there would be none.
"""

from __future__ import annotations

from collections.abc import Callable

from hubbub.wire.message import encode_tags


class ReplyCollector:
    """The replies to one labeled command, held until the command is done.

    Args:
        label: the command's ``label`` tag.
    """

    __slots__ = ("label", "own", "replies", "waiting")

    def __init__(self, label: str) -> None:
        self.label = label
        self.replies: list[bytes] = []
        # Set while the command waits for storage: what the hub delivers to the client
        # meanwhile comes from others' doings, not from this command.
        self.waiting = False
        # Set (to the user's id) while it waits for its own facts to come back from the
        # bus (between nodes): the facts of that user delivered meanwhile are its reply.
        self.own: str | None = None

    def add(self, data: bytes) -> None:
        """Hold replies (whole lines, CR LF included)."""
        self.replies.append(data)

    def labeled(self, server: str, batch: bool, new_reference: Callable[[], str]) -> bytes:
        """The replies as the client gets them: one line labeled; several in a
        labeled-response batch (or as they are, for a client without ``batch``); none
        as a labeled ACK.

        Args:
            server: the server's name, the source of ACK and BATCH lines.
            batch: whether the client negotiated the batch capability.
            new_reference: gives a batch reference unique on the connection.
        """
        tag = encode_tags({"label": self.label}).encode()
        lines = b"".join(self.replies).split(b"\r\n")[:-1]
        if not lines:
            return b"@" + tag + f" :{server} ACK\r\n".encode()
        if len(lines) == 1 or _one_batch(lines):
            # A reply that is one batch already (CHATHISTORY) carries the label itself.
            rest = b"".join(line + b"\r\n" for line in lines[1:])
            return add_tags(lines[0], tag) + b"\r\n" + rest
        if not batch:
            return b"".join(line + b"\r\n" for line in lines)
        reference = new_reference()
        start = add_tags(f":{server} BATCH +{reference} labeled-response".encode(), tag)
        batch_tag = b"batch=" + reference.encode()
        return (
            start
            + b"\r\n"
            + b"".join(_in_batch(line, batch_tag) + b"\r\n" for line in lines)
            + f":{server} BATCH -{reference}\r\n".encode()
        )


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
