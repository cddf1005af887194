"""Messages: PRIVMSG, NOTICE and TAGMSG to channels and users, who may speak, where a
message is kept, and REDACT.

Each function checks a request against the state and returns the event it causes,
changing nothing (:mod:`~hubbub.core.apply` does); a refusal raises
:class:`~hubbub.core.errors.ChatError`.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import MessageKind, MessagePart, MessagePosted, MessageRedacted
from hubbub.core.model import Channel, User
from hubbub.core.state import State
from hubbub.wire.casemap import Key

_NO_TAGS: Mapping[str, str] = {}
# Client tags that only say someone is typing: a TAGMSG of these alone goes unkept.
_TYPING = frozenset({"+typing", "+draft/typing"})


def history_owner(user: User) -> str:
    """Who a user's private history belongs to: their account, or else this session
    alone (a nick is no proof of being the same person later)."""
    if user.account_id is not None:
        return "a:" + user.account_id
    return "s:" + user.id


def private_conversation(user: User, other: Key) -> str:
    """The history key of ``user``'s private conversation with the nick ``other``."""
    return f"{history_owner(user)} {other}"


def say(
    state: State,
    user: User,
    target: str,
    text: str,
    kind: MessageKind = MessageKind.PRIVMSG,
    status: str = "",
    tags: Mapping[str, str] = _NO_TAGS,
    parts: tuple[MessagePart, ...] = (),
) -> tuple[User | Channel, MessagePosted]:
    """A message to a channel (its members, or those with at least the status mode
    ``status``) or to a user.

    Returns:
        the channel or user messaged, and the event.

    Raises:
        ChatError: NO_SUCH_NICK, NO_SUCH_CHANNEL or CANNOT_SEND.
    """
    now = state.clock()
    msgid = state.ids.msgid()
    # A TAGMSG is kept when it says something lasting (a reaction), not a typing notice.
    kept = kind is not MessageKind.TAGMSG or not _TYPING.issuperset(tags)
    if target.startswith("#"):
        channel = state.channels.find(target)
        if channel is None or (user not in channel.members and not channel.visible_to(user)):
            # A secret channel does not exist for an outsider, -n or not: a message
            # accepted from one would tell them it does.
            raise ChatError(Reason.NO_SUCH_CHANNEL, target)
        _check_speech(state, user, channel, text, parts)
        event = MessagePosted(
            user.actor,
            channel.name,
            text,
            kind,
            status,
            tags,
            now,
            msgid,
            parts,
            channel.key,
            (channel.history_key,) if kept and not status else (),
        )
        return channel, event
    recipient = state.users.find(target)
    if recipient is None:
        raise ChatError(Reason.NO_SUCH_NICK, target)
    conversations = (
        (private_conversation(user, recipient.key), private_conversation(recipient, user.key))
        if kept
        else ()
    )
    event = MessagePosted(
        user.actor,
        recipient.nick,
        text,
        kind,
        "",
        tags,
        now,
        msgid,
        parts,
        Key(recipient.id),
        conversations,
    )
    return recipient, event


def say_to_member_channel(
    state: State, user: User, name: str, text: str, kind: MessageKind
) -> MessagePosted | None:
    """The most common message of all, checked in one place: a PRIVMSG or NOTICE with
    no tags from a member to the whole channel ``name`` that ``user`` may speak in
    (voiced or better, or neither moderated nor with bans to match).

    Returns:
        the event, or None when :func:`say` must judge (it refuses, or checks more):
        the two give the same event for every message this one takes.
    """
    channel = state.channels.live.get(state.casemap.fold(name))
    if channel is None:
        return None
    status = channel.members.get(user)
    if status is None or (not status and ("m" in channel.flags or channel.lists["b"])):
        return None
    if text[:1] == "\x01" and "C" in channel.flags:
        return None
    return MessagePosted(
        user.actor,
        channel.name,
        text,
        kind,
        "",
        _NO_TAGS,
        state.clock(),
        state.ids.msgid(),
        (),
        channel.key,
        (channel.history_key,),
    )


def redact(state: State, user: User, target: str, msgid: str, reason: str = "") -> MessageRedacted:
    """Withdraw a recent message: its sender or a channel operator may.

    Raises:
        ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL or NO_SUCH_NICK for the target,
            UNKNOWN_MESSAGE, or FORBIDDEN.
    """
    sent = state.recent.get(msgid)
    if target.startswith("#"):
        channel = state.channels.member_channel(user, target)
        # Said in this channel, not in an earlier one of the same name.
        if sent is None or sent.target != channel.incarnation:
            raise ChatError(Reason.UNKNOWN_MESSAGE, channel.name, msgid)
        if not sent.said_by(user) and not channel.is_op(user):
            raise ChatError(Reason.FORBIDDEN, channel.name, msgid)
        # Named as the channel is now: it may have been renamed since.
        return MessageRedacted(user.actor, channel.name, msgid, reason)
    other = state.users.find(target)
    if other is None:
        raise ChatError(Reason.NO_SUCH_NICK, target)
    if sent is None or not (
        (sent.said_by(user) and sent.said_to(other))
        or (sent.said_by(other) and sent.said_to(user))
    ):
        raise ChatError(Reason.UNKNOWN_MESSAGE, other.nick, msgid)
    if not sent.said_by(user):
        raise ChatError(Reason.FORBIDDEN, other.nick, msgid)
    return MessageRedacted(user.actor, sent.target_name, msgid, reason, other.id)


def _check_speech(
    state: State, user: User, channel: Channel, text: str, parts: tuple[MessagePart, ...] = ()
) -> None:
    status = channel.members.get(user)
    if status is None:
        if "n" in channel.flags:
            raise ChatError(Reason.CANNOT_SEND, channel.name, "no external messages (+n)")
        status = ""
    # +C: CTCP requests other than ACTION are not relayed.
    if "C" in channel.flags and any(
        line.startswith("\x01") and not line.startswith("\x01ACTION")
        # A multiline batch reaches clients without it as a line per part (probe 21).
        for line in ([text] if not parts else [part.text for part in parts])
    ):
        raise ChatError(Reason.CANNOT_SEND, channel.name, "CTCPs are not allowed (+C)")
    if status:
        return
    if "m" in channel.flags:
        raise ChatError(Reason.CANNOT_SEND, channel.name, "channel is moderated (+m)")
    if not channel.lists["b"]:
        return
    masks = state.masks_of(user)
    if channel.matches("b", masks, speaking=True) and not channel.matches(
        "e", masks, speaking=True
    ):
        raise ChatError(Reason.CANNOT_SEND, channel.name, "you are banned (+b)")
