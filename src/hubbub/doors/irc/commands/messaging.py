"""Talking: PRIVMSG, NOTICE, AWAY and WALLOPS."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.core.events import MessageKind
from hubbub.core.model import User
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.commands.chanserv import chanserv
from hubbub.doors.irc.commands.nickserv import nickserv
from hubbub.wire import numerics as n
from hubbub.wire.message import client_tags

if TYPE_CHECKING:
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

_STATUS_PREFIXES = {"@": "o", "+": "v"}
_NICKSERV_KEY = "nickserv"
_CHANSERV_KEY = "chanserv"
# What a relayed line adds around the text: ":" nick!user@host " PRIVMSG " target " :" CRLF.
_RELAY_OVERHEAD = len(": PRIVMSG  :\r\n")


def fit_text(text: str, source: str, target: str, line_length: int) -> str:
    """Shorten ``text`` so the relayed line fits in ``line_length`` bytes (the server's,
    advertised as LINELEN), never splitting a character.

    Modern IRC client protocol: "the length of each message ... SHOULD NOT exceed 512
    bytes" (or what LINELEN says); the sender's line was within it, but the prefix the
    server adds was not.
    """
    room = line_length - _RELAY_OVERHEAD - len(source.encode()) - len(target.encode())
    data = text.encode()
    if len(data) <= room:
        return text
    return data[: max(room, 0)].decode("utf-8", "ignore")


_QUICK_KINDS = {b"PRIVMSG": MessageKind.PRIVMSG, b"NOTICE": MessageKind.NOTICE}
# What a relayed line adds to the line as sent: ":" source " " in front, CR LF behind;
# one more for NOTICE, whose verb is a byte shorter than fit_text's PRIVMSG.
_QUICK_OVERHEAD = len(":  \r\n")


def say_quickly(session: IrcClient, user: User, line: bytes) -> bool:
    """``PRIVMSG #channel :text`` (or NOTICE), as most lines said are: from the bytes to
    :meth:`~hubbub.core.hub.Hub.say_in_channel`, without a :class:`Message` or the
    command table's steps.

    Returns:
        False, having done nothing, for any line the general path must take: tags,
        several targets, a status prefix, a relayed line that would be cut, bytes that
        are not UTF-8 or that parse refuses, or a channel rule to check.
    """
    verb, _, rest = line.partition(b" ")
    kind = _QUICK_KINDS.get(verb)
    if kind is None or rest[:1] != b"#":
        return False
    target, colon, text = rest.partition(b" :")
    if (
        not colon
        or not text
        or b" " in target
        or b"," in target
        or b"\0" in line
        or b"\r" in line
        or b"\n" in line
        or len(line) + len(user.mask.encode()) + _QUICK_OVERHEAD
        > session.ctx.settings.limits.line_length
    ):
        return False
    try:
        name, said = target.decode(), text.decode()
    except UnicodeDecodeError:
        return False
    return session.hub.say_in_channel(user, name, said, kind, session.listener)


def _say(
    session: IrcClient, user: User, message: Message, kind: MessageKind
) -> Awaitable[None] | None:
    params = message.params
    if kind is MessageKind.PRIVMSG and len(params) > 1 and params[0][:1] != "#":
        service = session.hub.casemap.fold(params[0])
        if service == _NICKSERV_KEY:
            return nickserv(session, user, message.params[1])
        if service == _CHANSERV_KEY:
            return chanserv(session, user, message.params[1])
    # "automatic replies MUST NEVER be sent in response to a NOTICE" (RFC 2812)
    quiet = kind is MessageKind.NOTICE
    if not message.params or not message.params[0]:
        if not quiet:
            session.numeric(n.ERR_NORECIPIENT, f"No recipient given ({message.command})")
        return None
    text = ""
    if kind is not MessageKind.TAGMSG:
        if len(message.params) < 2 or not message.params[1]:
            if not quiet:
                session.numeric(n.ERR_NOTEXTTOSEND, "No text to send")
            return None
        text = message.params[1]
    # IRCv3 message-tags: only client-only tags ("+" prefix) are relayed, and only for
    # clients that negotiated message-tags.
    tags = client_tags(message.tags) if message.tags and "message-tags" in session.caps else {}
    hub = session.hub
    limit = session.ctx.settings.limits.targets
    targets = [message.params[0]]
    if "," in targets[0]:
        # Each target once: "a,a,a,a" was four messages, each stored, for one line.
        fold, seen = hub.casemap.fold, set()
        targets = []
        for target in message.params[0].split(","):
            if target and (key := fold(target)) not in seen:
                seen.add(key)
                targets.append(target)
        if len(targets) > limit and not quiet:
            too_many = f"Too many targets, at most {limit}"
            session.numeric(n.ERR_TOOMANYTARGETS, targets[limit], too_many)
        # A line to several targets costs flood control a line each (probe 15: four
        # targets for the cost of one line).
        session.peer.spend(max(0, min(len(targets), limit) - 1))
    for target in targets[:limit]:
        status = ""
        if target[0] in _STATUS_PREFIXES and target[1:2] == "#":
            status, target = _STATUS_PREFIXES[target[0]], target[1:]
        fitted = fit_text(
            text,
            user.mask,
            target if not status else "@" + target,
            session.ctx.settings.limits.line_length,
        )
        try:
            recipient, _ = hub.say(user, target, fitted, kind, status, tags, by=session.listener)
        except ChatError as error:
            if not quiet:
                session.refuse(error)
            continue
        if (
            kind is MessageKind.PRIVMSG
            and isinstance(recipient, User)
            and recipient.away is not None
        ):
            session.numeric(n.RPL_AWAY, recipient.nick, recipient.away)
    return None


def privmsg(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return _say(session, user, message, MessageKind.PRIVMSG)


def notice(session: IrcClient, user: User, message: Message) -> None:
    _say(session, user, message, MessageKind.NOTICE)


def tagmsg(session: IrcClient, user: User, message: Message) -> None:
    _say(session, user, message, MessageKind.TAGMSG)


def setname(session: IrcClient, user: User, message: Message) -> None:
    realname = message.params[0]
    if not realname or len(realname) > session.ctx.settings.limits.realnamelen:
        session.message("FAIL", "SETNAME", "INVALID_REALNAME", "Realname is not valid")
        return
    session.hub.set_realname(user, realname)


def away(session: IrcClient, user: User, message: Message) -> None:
    text = message.params[0] if message.params else ""
    session.hub.set_away(user, text or None)
    if text:
        session.numeric(n.RPL_NOWAWAY, "You have been marked as being away")
    else:
        session.numeric(n.RPL_UNAWAY, "You are no longer marked as being away")


def wallops(session: IrcClient, user: User, message: Message) -> None:
    session.hub.wallops(user, message.params[0])


COMMANDS: tuple[Command, ...] = (
    UserCommand("PRIVMSG", privmsg),
    UserCommand("NOTICE", notice),
    UserCommand("TAGMSG", tagmsg),
    UserCommand("SETNAME", setname, min_params=1),
    UserCommand("AWAY", away),
    UserCommand("WALLOPS", wallops, min_params=1, oper=True),
)
