"""IRCv3 multiline: a client's ``BATCH +ref draft/multiline <target>`` collected into one
message and sent when the batch ends.

Lines tagged ``batch=<ref>`` are held by the session (see :func:`collect`); nothing is
answered until ``BATCH -ref``, which sends the whole message, or a FAIL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.core.events import MessageKind, MessagePart
from hubbub.doors.irc.caps import MULTILINE_MAX_BYTES, MULTILINE_MAX_LINES
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.wire.message import encode_tags

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.session import IrcSession
    from hubbub.wire.message import Message

CONCAT = "draft/multiline-concat"


@dataclass(slots=True)
class OpenBatch:
    """A multiline batch being received."""

    reference: str
    target: str
    label: str | None
    tags: dict[str, str]
    kind: MessageKind | None = None
    parts: list[MessagePart] = field(default_factory=list)
    size: int = 0
    error: tuple[str, ...] | None = None


def _fail(session: IrcSession, *params: str) -> None:
    session.message("FAIL", "BATCH", *params)


def batch(session: IrcSession, user: User, message: Message) -> None:
    opening = message.params[0]
    if opening.startswith("+"):
        if len(message.params) < 3 or message.params[1] != "draft/multiline":
            _fail(session, "INVALID_BATCH_TYPE", "Only draft/multiline batches are accepted")
            return
        if "draft/multiline" not in session.caps or session.multiline is not None:
            _fail(session, "MULTILINE_INVALID", "Cannot open this batch")
            return
        client_tags = {k: v for k, v in message.tags.items() if k.startswith("+")}
        session.multiline = OpenBatch(
            opening[1:], message.params[2], message.tags.get("label"), client_tags
        )
        return
    open_batch = session.multiline
    if open_batch is None or opening[1:] != open_batch.reference:
        _fail(session, "MULTILINE_INVALID", "No such batch is open")
        return
    session.multiline = None
    _finish(session, user, open_batch)


def collect(open_batch: OpenBatch, message: Message) -> None:
    """Hold one line of the open batch (or note why the batch is refused)."""
    if open_batch.error is not None:
        return
    try:
        kind = MessageKind(message.command)
    except ValueError:
        kind = None
    if kind not in (MessageKind.PRIVMSG, MessageKind.NOTICE) or len(message.params) < 2:
        open_batch.error = ("MULTILINE_INVALID", "Only PRIVMSG and NOTICE lines may be batched")
        return
    if open_batch.kind not in (None, kind) or message.params[0] != open_batch.target:
        open_batch.error = (
            "MULTILINE_INVALID",
            "Every line must have the same command and target",
        )
        return
    open_batch.kind = kind
    text = message.params[1]
    concat = CONCAT in message.tags
    if concat and not text:
        open_batch.error = ("MULTILINE_INVALID", "A blank line cannot be concatenated")
        return
    open_batch.size += len(text.encode()) + (0 if concat else 1)
    if len(open_batch.parts) >= MULTILINE_MAX_LINES:
        open_batch.error = ("MULTILINE_MAX_LINES", str(MULTILINE_MAX_LINES), "Too many lines")
        return
    if open_batch.size > MULTILINE_MAX_BYTES:
        open_batch.error = ("MULTILINE_MAX_BYTES", str(MULTILINE_MAX_BYTES), "Too many bytes")
        return
    open_batch.parts.append(MessagePart(text, concat))


def _finish(session: IrcSession, user: User, open_batch: OpenBatch) -> None:
    if open_batch.error is not None:
        _fail(session, *open_batch.error)
        return
    if not open_batch.parts or open_batch.kind is None:
        _fail(session, "MULTILINE_INVALID", "An empty batch")
        return
    parts = tuple(open_batch.parts)
    text = "".join(
        ("" if part.concat or index == 0 else "\n") + part.text for index, part in enumerate(parts)
    )
    try:
        _, event = session.ctx.hub.say(
            user, open_batch.target, text, open_batch.kind, "", open_batch.tags, parts
        )
    except ChatError as error:
        session.refuse(error)
        return
    if "echo-message" in session.caps:
        echo = session.ctx.cache.line(event, session.variant)
        if open_batch.label is not None:
            from hubbub.doors.irc.labels import add_tags

            label = encode_tags({"label": open_batch.label}).encode()
            echo = add_tags(echo, label)
        session.send(echo)


COMMANDS: tuple[Command, ...] = (UserCommand("BATCH", batch, min_params=1),)
