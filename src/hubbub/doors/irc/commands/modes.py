"""MODE: channel modes, their lists, and user modes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.modes import CHANNEL_MODES, USER_MODES, ModeChange, ModeKind, takes_param
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.commands.channels import visible_channel
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import Channel, User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# List mode → (entry numeric, end numeric, end text).
_LISTS = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (n.RPL_INVEXLIST, n.RPL_ENDOFINVEXLIST, "End of channel invite list"),
}


def mode(session: IrcClient, user: User, message: Message) -> None:
    target = message.params[0]
    if target.startswith("#"):
        channel_mode(session, user, message)
    else:
        user_mode(session, user, message)


def channel_mode(session: IrcClient, user: User, message: Message) -> None:
    # Before the mode string is read: even ERR_UNKNOWNMODE would tell a non-member that a
    # secret channel exists.
    channel = visible_channel(session, user, message.params[0])
    if len(message.params) == 1:
        send_channel_modes(session, channel, user)
        return
    changes, queries = parse_channel_modes(session, message.params[1], message.params[2:])
    for list_mode in queries:
        refusal = list_refusal(channel, user, list_mode)
        if refusal is None:
            send_list(session, channel, list_mode)
        else:
            session.refuse(refusal)
    if not changes:
        return
    _, errors = session.hub.change_channel_modes(user, channel, changes)
    for error in errors:
        session.refuse(error)


def parse_channel_modes(
    session: IrcClient, modestring: str, args: tuple[str, ...]
) -> tuple[list[ModeChange], list[str]]:
    """Read a mode string and its arguments into changes and list queries.

    Unknown letters get ERR_UNKNOWNMODE; changes missing their parameter are dropped, as
    most servers do; changes past the MODES limit are ignored.
    """
    changes: list[ModeChange] = []
    queries: list[str] = []
    remaining = list(args)
    adding = True
    with_param = 0
    unknown: set[str] = set()
    limit = session.ctx.settings.limits.modes
    for letter in modestring:
        if letter in "+-":
            adding = letter == "+"
            continue
        kind = CHANNEL_MODES.get(letter)
        if kind is None:
            # Each once, and no more than MODES of them: a line of 160 distinct
            # letters was answered with 160 lines.
            if letter not in unknown and len(unknown) < limit:
                unknown.add(letter)
                session.numeric(n.ERR_UNKNOWNMODE, letter, "is an unknown mode character")
            continue
        if not takes_param(letter, adding):
            changes.append(ModeChange(adding, letter))
            continue
        if not remaining:
            if kind is ModeKind.LIST and letter not in queries:
                queries.append(letter)
            continue
        param = remaining.pop(0)
        with_param += 1
        if with_param > limit:
            break
        changes.append(ModeChange(adding, letter, param))
    return changes, queries


def send_channel_modes(session: IrcClient, channel: Channel, user: User) -> None:
    """RPL_CHANNELMODEIS and RPL_CREATIONTIME; the key only to members."""
    flags = sorted(channel.flags)
    params: list[str] = []
    if channel.password is not None:
        flags.append("k")
        params.append(channel.password if user in channel.members else "*")
    if channel.limit is not None:
        flags.append("l")
        params.append(str(channel.limit))
    session.numeric(n.RPL_CHANNELMODEIS, channel.name, "+" + "".join(flags), *params)
    session.numeric(n.RPL_CREATIONTIME, channel.name, str(int(channel.created)))


def list_refusal(channel: Channel, user: User, list_mode: str) -> ChatError | None:
    """Why ``user`` may not read a channel's ban, exception or invite-exception list.

    Bans are as public as the channel's members are. The exception lists name whom the
    operators let through, so only they read them, as in solanum and ergo. Server
    operators read every list.

    Returns:
        the refusal to send, or None when the list may be sent.
    """
    if user.is_oper:
        return None
    if list_mode == "b":
        if channel.shown_to(user):
            return None
        return ChatError(Reason.NOT_ON_CHANNEL, channel.name)
    if channel.is_op(user):
        return None
    return ChatError(Reason.CHANOP_NEEDED, channel.name)


def send_list(session: IrcClient, channel: Channel, list_mode: str) -> None:
    entry_numeric, end_numeric, end_text = _LISTS[list_mode]
    for entry in channel.lists[list_mode]:
        session.numeric(
            entry_numeric, channel.name, entry.mask, entry.setter, str(int(entry.time))
        )
    session.numeric(end_numeric, channel.name, end_text)


def user_mode(session: IrcClient, user: User, message: Message) -> None:
    hub = session.hub
    target = hub.find_user(message.params[0])
    if target is None:
        raise ChatError(Reason.NO_SUCH_NICK, message.params[0])
    if target is not user:
        raise ChatError(Reason.USERS_DONT_MATCH)
    if len(message.params) == 1:
        session.numeric(n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
        return
    changes: list[ModeChange] = []
    unknown = False
    adding = True
    for letter in message.params[1]:
        if letter in "+-":
            adding = letter == "+"
        elif letter in USER_MODES:
            changes.append(ModeChange(adding, letter))
        else:
            unknown = True
    if unknown:
        session.numeric(n.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    hub.change_user_modes(user, changes)


COMMANDS: tuple[Command, ...] = (UserCommand("MODE", mode, min_params=1),)
