"""IRCv3 multiline: a client's ``BATCH +ref draft/multiline <target>`` collected into one
message and sent when the batch ends.

Lines tagged ``batch=<ref>`` are held by the session in its
:class:`~hubbub.doors.irc.exchanges.OpenBatch`; nothing is answered until ``BATCH -ref``,
which sends the whole message, or a FAIL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.exchanges import OpenBatch
from hubbub.wire.message import client_tags

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message


def _fail(session: IrcClient, *params: str) -> None:
    session.message("FAIL", "BATCH", *params)


def batch(session: IrcClient, user: User, message: Message) -> None:
    opening = message.params[0]
    if opening.startswith("+"):
        if len(message.params) < 3 or message.params[1] != "draft/multiline":
            _fail(session, "INVALID_BATCH_TYPE", "Only draft/multiline batches are accepted")
            return
        if "draft/multiline" not in session.caps or session.multiline is not None:
            _fail(session, "MULTILINE_INVALID", "Cannot open this batch")
            return
        relayed = client_tags(message.tags)
        limits = session.ctx.settings.limits
        session.multiline = OpenBatch(
            opening[1:],
            message.params[2],
            message.tags.get("label"),
            relayed,
            limits.multiline_max_bytes,
            limits.multiline_max_lines,
        )
        return
    open_batch = session.multiline
    if open_batch is None or opening[1:] != open_batch.reference:
        _fail(session, "MULTILINE_INVALID", "No such batch is open")
        return
    session.multiline = None
    _finish(session, user, open_batch)


def _finish(session: IrcClient, user: User, open_batch: OpenBatch) -> None:
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
    # The echo, when the message is applied, answers the labeled BATCH +.
    session.echo_label = open_batch.label
    try:
        session.hub.say(
            user,
            open_batch.target,
            text,
            open_batch.kind,
            "",
            open_batch.tags,
            parts,
            by=session.listener,
        )
    except ChatError as error:
        session.echo_label = None
        session.refuse(error)


COMMANDS: tuple[Command, ...] = (UserCommand("BATCH", batch, min_params=1),)
