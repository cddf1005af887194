"""Events and refusals as short readable lines, in the user's language.

The lines hold names, rooms and texts as other users sent them: they are cleaned in one
place, on their way to the terminal (:func:`hubbub.doors.plain.text.terminal_bytes`).
"""

from __future__ import annotations

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    Banned,
    ChannelRenamed,
    Event,
    Invited,
    Joined,
    Kicked,
    Killed,
    MessageKind,
    MessagePosted,
    NickChanged,
    Parted,
    Quit,
    TopicChanged,
    Wallops,
)
from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.ports import SessionView
from hubbub.doors.plain.text import clean

_ACTION = "\x01ACTION "


def describe(session: SessionView, event: Event) -> list[str]:
    """The lines a plain user sees for an event (none for those it does not show)."""
    _ = session.ctx._
    me = session.user
    if me is None:
        return []
    fold = session.ctx.hub.casemap.fold
    match event:
        case MessagePosted(actor, target, text, kind, parts=parts):
            return _message(session, actor.nick, target, text, kind, [p.text for p in parts])
        case Joined(actor, channel) if actor.nick != me.nick:
            if fold(channel) == fold(session.ctx.room):
                return [_("{name} joined the chat!").format(name=actor.nick)]
            return [_("{name} joined {room}").format(name=actor.nick, room=channel)]
        case Parted(actor, channel, reason) if actor.nick != me.nick:
            line = _("{name} left {room}").format(name=actor.nick, room=channel)
            return [f"{line} ({reason})" if reason else line]
        case Quit(actor, reason):
            # As IRC users read it. Cleaned here too, not only with the whole line: a
            # reason that is nothing but escapes would otherwise leave an empty "()".
            reason = clean(reason).strip()
            if reason:
                return [_("{name} left ({reason}).").format(name=actor.nick, reason=reason)]
            return [_("{name} left.").format(name=actor.nick)]
        case Kicked(actor, channel, nick, reason):
            if fold(nick) == me.key:
                session.forget_room(channel)
                text = _("You were kicked from {room} by {by}: {reason}")
                return [text.format(room=channel, by=actor.nick, reason=reason)]
            text = _("{name} was kicked from {room} by {by}: {reason}")
            return [text.format(name=nick, room=channel, by=actor.nick, reason=reason)]
        case NickChanged(actor, nick):
            if fold(nick) == me.key:
                return [_("You are now {name}.").format(name=nick)]
            return [_("{old} is now known as {new}").format(old=actor.nick, new=nick)]
        case TopicChanged(actor, channel, topic):
            text = _("{name} changed the topic of {room}: {topic}")
            return [text.format(name=actor.nick, room=channel, topic=topic)]
        case Invited(actor, nick, channel) if fold(nick) == me.key:
            text = _("{name} invites you to {room}. Type /join {room}")
            return [text.format(name=actor.nick, room=channel)]
        case Killed(actor, _nick, reason):
            text = _("You were disconnected by {name}: {reason}")
            return [text.format(name=actor.nick, reason=reason)]
        case Banned(reason=reason):
            return [_("You are banned from this server: {reason}").format(reason=reason)]
        case Wallops(actor, text):
            return [f"[wallops] {actor.nick}: {text}"]
        case ChannelRenamed(_actor, old, new):
            if session.room is not None and fold(session.room) == fold(old):
                session.room = new
            return [_("{old} is now called {new}").format(old=old, new=new)]
    return []


def _message(
    session: SessionView, nick: str, target: str, text: str, kind: MessageKind, parts: list[str]
) -> list[str]:
    if kind is MessageKind.TAGMSG:
        return []
    fold = session.ctx.hub.casemap.fold
    if not target.startswith("#"):
        where = session.ctx._("[private] ")
    elif session.room is not None and fold(target) == fold(session.room):
        where = ""
    else:
        where = f"[{target}] "
    out = []
    for line in parts or [text]:
        body = speech(nick, line, kind)
        if body is not None:
            out.append(where + body)
    return out


def speech(nick: str, line: str, kind: MessageKind) -> str | None:
    """One line of a message as a plain terminal shows it: ``nick: text``, ``* nick
    acts``, ``-nick- notice``; None for CTCP requests, which mean nothing there."""
    if line.startswith(_ACTION):
        return f"* {nick} {line[len(_ACTION) :].rstrip(chr(1))}"
    if line.startswith("\x01"):
        return None
    if kind is MessageKind.NOTICE:
        return f"-{nick}- {line}"
    return f"{nick}: {line}"


def refusal_text(ctx: PlainContext, error: ChatError) -> str:
    """A refusal as one sentence for the user."""
    _ = ctx._
    texts = {
        Reason.NO_SUCH_NICK: _("There is nobody called {subject}."),
        Reason.NO_SUCH_CHANNEL: _("There is no room {subject}."),
        Reason.NICK_IN_USE: _("The name {subject} is taken. Try another one."),
        Reason.ERRONEOUS_NICK: _("The name {subject} is not allowed: {detail}."),
        Reason.BAD_CHANNEL_NAME: _("{subject} is not a valid room name: {detail}."),
        Reason.CANNOT_SEND: _("You cannot talk in {subject} ({detail})."),
        Reason.TOO_MANY_CHANNELS: _("You are in too many rooms."),
        Reason.NOT_ON_CHANNEL: _("You are not in {subject}."),
        Reason.CHANOP_NEEDED: _("Only operators of {subject} can do that."),
        Reason.CHANNEL_FULL: _("{subject} is full."),
        Reason.INVITE_ONLY: _("{subject} is invite-only."),
        Reason.BANNED: _("You are banned from {subject}."),
        Reason.BAD_KEY: _("{subject} needs a key."),
        Reason.NO_PRIVILEGES: _("Only IRC operators can do that."),
    }
    text = texts.get(error.reason, _("That is not allowed."))
    return text.format(subject=error.subject, detail=error.detail)
