"""Draft IRCv3 extensions: REDACT (message-redaction), RENAME (channel-rename) and
MARKREAD (read-marker)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.presence import others
from hubbub.doors.irc.client import IrcClient
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.render import format_time, parse_time

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.wire.message import Message


def redact(session: IrcClient, user: User, message: Message) -> None:
    target, msgid = message.params[0], message.params[1]
    reason = message.params[2] if len(message.params) > 2 else ""
    try:
        session.hub.redact(user, target, msgid, reason)
    except ChatError as error:
        # draft/message-redaction: FAIL REDACT <code> <target> [<msgid>] :<description>
        if error.reason in (Reason.UNKNOWN_MESSAGE, Reason.FORBIDDEN):
            code = (
                "UNKNOWN_MSGID" if error.reason is Reason.UNKNOWN_MESSAGE else "REDACT_FORBIDDEN"
            )
            text = (
                "This message does not exist"
                if code == "UNKNOWN_MSGID"
                else ("You may not redact this message")
            )
            session.message("FAIL", "REDACT", code, error.subject, msgid, text)
        else:
            session.message("FAIL", "REDACT", "INVALID_TARGET", target, "You cannot redact there")


def rename(session: IrcClient, user: User, message: Message) -> None:
    old, new = message.params[0], message.params[1]
    reason = message.params[2] if len(message.params) > 2 else ""
    try:
        session.hub.rename(user, old, new, reason)
    except ChatError as error:
        if error.reason is Reason.NAME_IN_USE:
            session.message(
                "FAIL", "RENAME", "CHANNEL_NAME_IN_USE", old, new, "That name is taken"
            )
        elif error.reason in (Reason.BAD_CHANNEL_NAME, Reason.NO_PRIVILEGES):
            session.message("FAIL", "RENAME", "CANNOT_RENAME", old, new, str(error.detail))
        else:
            raise


def markread(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    hub = session.hub
    if not message.params or not message.params[0]:
        session.message("FAIL", "MARKREAD", "NEED_MORE_PARAMS", "MARKREAD needs a target")
        return None
    target = message.params[0]
    if len(message.params) == 1:
        send_marker(session, user, target)
        return None
    kind, _, value = message.params[1].partition("=")
    moment = parse_time(value) if kind == "timestamp" else None
    if moment is None:
        session.message("FAIL", "MARKREAD", "INVALID_PARAMS", target, "Invalid timestamp")
        return None
    before = hub.read_marker(user, target)
    hub.mark_read(user, target, moment)
    settled = hub.settled
    waiting = settled() if settled is not None else None
    if waiting is None:
        send_marker(session, user, target)
        if hub.read_marker(user, target) != before:
            _tell_devices(session, user, target)
        return None
    # Between nodes the marker moves as its fact comes back from the log: answered
    # then, with the marker as it is (a reply read before told the old one).
    return _answer_when(waiting, session, user, target, before)


async def _answer_when(
    waiting: Awaitable[None], session: IrcClient, user: User, target: str, before: float | None
) -> None:
    await waiting
    if not session.closed:
        send_marker(session, user, target)
    # A marker that did not move is not news to the other devices (clients mark what
    # they show as read at every line).
    if session.hub.read_marker(user, target) != before:
        _tell_devices(session, user, target)


def _tell_devices(session: IrcClient, user: User, target: str) -> None:
    """The user's other devices hear of the marker as the account's other users do
    (apply tells those: a device of this user is not another user)."""
    for device in others(user, session.listener):
        if isinstance(device, IrcClient) and "draft/read-marker" in device.caps:
            send_marker(device, user, target)


def send_marker(session: IrcClient, user: User, target: str) -> None:
    """``MARKREAD <target> timestamp=…`` (or ``*`` when nothing was read yet)."""
    marker = session.hub.read_marker(user, target)
    value = "*" if marker is None else "timestamp=" + format_time(marker)
    session.message("MARKREAD", target, value)


COMMANDS: tuple[Command, ...] = (
    UserCommand("REDACT", redact, min_params=2),
    UserCommand("RENAME", rename, min_params=2),
    UserCommand("MARKREAD", markread),
)
