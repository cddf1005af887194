"""Channel membership and channel facts: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.modes import MASK_BYTES, mask_pattern
from hubbub.doors.irc.command import SEARCHED_PER_LINE, Command, UserCommand, send_paced
from hubbub.doors.irc.commands.drafts import send_marker
from hubbub.doors.irc.commands.metadata import sync_channel
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import Channel, User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# 512 bytes less CR LF and room for ":server 353 nick = #channel :" (modern IRC client
# protocol: RPL_NAMREPLY may be sent several times for one channel).
_NAMES_BUDGET = 510
# ELIST conditions (masks, counts, ages) one LIST may give.
_LIST_CONDITIONS = 8


def _split_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def join(session: IrcClient, user: User, message: Message) -> None:
    if message.params[0] == "0":
        session.hub.part_all(user)
        return
    names = _split_list(message.params[0])
    keys = message.params[1].split(",") if len(message.params) > 1 else []
    for index, name in enumerate(names):
        key = keys[index] if index < len(keys) and keys[index] else None
        try:
            session.hub.join(user, name, key)
        except ChatError as error:
            session.refuse(error)


def joined(session: IrcClient, user: User, channel: Channel) -> None:
    """What follows a user's own JOIN line: the read marker, topic and names.

    Sent when the session is delivered its user's join, not when ``hub.join`` returns:
    on one node that is the same moment; between nodes the join is applied a round trip
    later (docs/design/cluster.md).
    """
    if "draft/read-marker" in session.caps:
        send_marker(session, user, channel.name)
    send_topic(session, channel, on_join=True)
    if "draft/no-implicit-names" not in session.caps:
        send_names(session, user, channel)
    sync_channel(session, user, channel)


def part(session: IrcClient, user: User, message: Message) -> None:
    reason = message.params[1] if len(message.params) > 1 else ""
    for name in _split_list(message.params[0]):
        try:
            session.hub.part(user, name, reason)
        except ChatError as error:
            session.refuse(error)


def topic(session: IrcClient, user: User, message: Message) -> None:
    hub = session.hub
    name = message.params[0]
    if len(message.params) > 1:
        hub.set_topic(user, name, message.params[1])
        return
    channel = visible_channel(session, user, name)
    # A private channel admits that it exists, so the refusal is ERR_NOTONCHANNEL (solanum's
    # answer to a non-member asking for a secret channel's topic).
    if not channel.shown_to(user):
        raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
    send_topic(session, channel, on_join=False)


def send_topic(session: IrcClient, channel: Channel, on_join: bool) -> None:
    """RPL_TOPIC and RPL_TOPICWHOTIME, or RPL_NOTOPIC (never on JOIN)."""
    if channel.topic is None:
        if not on_join:
            session.numeric(n.RPL_NOTOPIC, channel.name, "No topic is set")
        return
    topic = channel.topic
    session.numeric(n.RPL_TOPIC, channel.name, topic.text)
    session.numeric(n.RPL_TOPICWHOTIME, channel.name, topic.setter, str(int(topic.time)))


def channel_symbol(channel: Channel) -> str:
    """RPL_NAMREPLY's channel type: ``@`` secret, ``*`` private, ``=`` public."""
    if "s" in channel.flags:
        return "@"
    return "*" if "p" in channel.flags else "="


def send_names(session: IrcClient, user: User, channel: Channel, end: bool = True) -> None:
    """RPL_NAMREPLY lines for a channel (the members ``user`` may see), then RPL_ENDOFNAMES."""
    multi = "multi-prefix" in session.caps
    full_mask = "userhost-in-names" in session.caps
    shown = user in channel.members
    names = []
    for member in channel.members:
        if not shown and "i" in member.modes:
            continue
        name = member.mask if full_mask else member.nick
        names.append(channel.prefix_of(member, multi) + name)
    symbol = channel_symbol(channel)
    head = f":{session.server_name} 353 {user.nick} = {channel.name} :"
    budget = _NAMES_BUDGET - len(head.encode())
    line: list[str] = []
    size = 0
    for name in names:
        length = len(name.encode()) + 1
        if line and size + length > budget:
            session.numeric(n.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
            line, size = [], 0
        line.append(name)
        size += length
    if line:
        session.numeric(n.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
    if end:
        session.numeric(n.RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


def visible_channel(session: IrcClient, user: User, name: str) -> Channel:
    """The channel ``name``, if it exists and ``user`` may know so.

    Raises:
        ChatError: NO_SUCH_CHANNEL, naming the channel as the client typed it, so that
            a hidden channel reads exactly like a missing one.
    """
    channel = session.hub.find_channel(name)
    if channel is None or not channel.visible_to(user):
        raise ChatError(Reason.NO_SUCH_CHANNEL, name)
    return channel


def names(session: IrcClient, user: User, message: Message) -> None:
    if not message.params or not message.params[0]:
        session.numeric(n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    # Each channel once, and no more than TARGMAX allows: NAMES #big,#big,… was a
    # megabyte of reply for one line.
    limit = session.ctx.settings.limits.targets
    shown: set[object] = set()
    for name in _split_list(message.params[0])[:limit]:
        channel = session.hub.find_channel(name)
        if channel is not None and channel not in shown and channel.shown_to(user):
            shown.add(channel)
            send_names(session, user, channel, end=False)
            # As WHO of a channel: a big one costs more than a line.
            session.peer.spend(len(channel.members) // SEARCHED_PER_LINE)
    session.numeric(n.RPL_ENDOFNAMES, message.params[0], "End of /NAMES list")


def list_(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    hub = session.hub
    filters = _split_list(message.params[0]) if message.params else []
    exact = [f for f in filters if f.startswith("#") and "*" not in f and "?" not in f]
    conditions = [f for f in filters if f not in exact]
    # Each condition is checked against every channel: their number and length are held
    # to what a person would write, or one line could ask for millions of matches.
    if len(conditions) > _LIST_CONDITIONS:
        problem = f"Too many conditions (at most {_LIST_CONDITIONS})"
    elif any(len(f.encode()) > MASK_BYTES for f in conditions):
        problem = f"Mask too long (at most {MASK_BYTES} bytes)"
    else:
        problem = None
    if problem is not None:
        session.numeric(n.ERR_UNKNOWNERROR, "LIST", problem)
        session.numeric(n.RPL_LISTEND, "End of /LIST")
        return None
    session.numeric(n.RPL_LISTSTART, "Channel", "Users  Name")
    if exact:
        # Each channel once, however often it is named.
        candidates = list(dict.fromkeys(c for c in map(hub.find_channel, exact) if c))
    else:
        candidates = list(hub.channels.values())
    checks = [_list_filter(session, f) for f in conditions]
    # A search of many costs the server more than a line: the client's next lines wait.
    session.peer.spend(len(candidates) // SEARCHED_PER_LINE)

    def reply(channel: Channel) -> None:
        # Checked as it is sent: a long LIST waits for its reader, and a channel may
        # have gone or changed meanwhile.
        if hub.channels.get(channel.key) is not channel or not channel.shown_to(user):
            return
        if all(check(channel) for check in checks):
            topic = channel.topic.text if channel.topic else ""
            session.numeric(n.RPL_LIST, channel.name, str(len(channel.members)), topic)

    return send_paced(
        session, candidates, reply, lambda: session.numeric(n.RPL_LISTEND, "End of /LIST")
    )


def _list_filter(session: IrcClient, text: str) -> Callable[[Channel], bool]:
    """One ELIST condition: ``>N``/``<N`` users (U), ``C>m``/``C<m`` minutes since
    creation (C), ``T>m``/``T<m`` since the topic was set (T), masks (M) and ``!mask`` (N)."""
    now = session.hub.clock()
    casemap = session.hub.casemap

    def number(digits: str) -> int:
        return int(digits) if digits.isascii() and digits.isdigit() else -1

    if text[:1] in "<>" and text[1:].isascii() and text[1:].isdigit():
        limit = int(text[1:])
        if text[0] == ">":
            return lambda c: len(c.members) > limit
        return lambda c: len(c.members) < limit
    if text[:2] in ("C>", "C<", "T>", "T<"):
        minutes = number(text[2:])

        def age(channel: Channel) -> float | None:
            if text[0] == "C":
                return (now - channel.created) / 60
            return (now - channel.topic.time) / 60 if channel.topic else None

        if text[1] == ">":
            return lambda c: (a := age(c)) is not None and a > minutes
        return lambda c: (a := age(c)) is not None and a < minutes
    negate = text.startswith("!")
    pattern = mask_pattern(casemap.fold(text.removeprefix("!")))
    return lambda c: bool(pattern.fullmatch(c.key)) != negate


def kick(session: IrcClient, user: User, message: Message) -> None:
    reason = message.params[2] if len(message.params) > 2 and message.params[2] else user.nick
    channels = _split_list(message.params[0])
    nicks = _split_list(message.params[1])[: session.ctx.settings.limits.targets]
    # RFC 2812: one channel and several users, or channels and users paired in order.
    pairs = (
        [(channels[0], nick) for nick in nicks]
        if len(channels) == 1
        else zip(channels, nicks, strict=False)
    )
    for name, nick in pairs:
        try:
            session.hub.kick(user, name, nick, reason)
        except ChatError as error:
            session.refuse(error)


def invite(session: IrcClient, user: User, message: Message) -> None:
    if not message.params:
        for channel in session.hub.channels.values():
            if user in channel.invited:
                session.numeric(n.RPL_INVITELIST, channel.name)
        session.numeric(n.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(message.params) < 2:
        session.numeric(n.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
        return
    target, invited_to = session.hub.invite(user, message.params[0], message.params[1])
    name = invited_to.name if invited_to is not None else message.params[1]
    session.numeric(n.RPL_INVITING, target.nick, name)
    if target.away:
        session.numeric(n.RPL_AWAY, target.nick, target.away)


COMMANDS: tuple[Command, ...] = (
    UserCommand("JOIN", join, min_params=1),
    UserCommand("PART", part, min_params=1),
    UserCommand("TOPIC", topic, min_params=1),
    UserCommand("NAMES", names),
    UserCommand("LIST", list_),
    UserCommand("KICK", kick, min_params=2),
    UserCommand("INVITE", invite),
)
