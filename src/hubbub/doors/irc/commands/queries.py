"""Questions about users: WHO (with WHOX), WHOIS, WHOWAS, ISON, USERHOST."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.core.modes import MASK_BYTES, mask_pattern
from hubbub.doors.irc.command import SEARCHED_PER_LINE, Command, UserCommand, send_paced
from hubbub.doors.irc.commands.metadata import whois_lines
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import Channel, User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# WHOX fields in the order their values are sent (IRCv3 WHOX specification).
_WHOX_ORDER = "tcuihsnfdlaor"
_MAX_USERHOST = 5
# Entries of one WHOWAS reply: a nick reused a thousand times (connect, quit, again)
# made 2,000 lines, 250 KB, for one short line, and kept the server busy for others.
_MAX_WHOWAS = 10


def _who_flags(session: IrcClient, user: User, channel: Channel | None) -> str:
    """``H`` here or ``G`` gone, ``*`` for an operator, then the channel status prefix."""
    flags = "G" if user.away is not None else "H"
    if user.is_oper:
        flags += "*"
    if "B" in user.modes:
        flags += "B"
    if channel is not None:
        flags += channel.prefix_of(user, multi="multi-prefix" in session.caps)
    return flags


def _shares_channel(a: User, b: User) -> bool:
    return a is b or not a.channels.keys().isdisjoint(b.channels.keys())


def who(session: IrcClient, me: User, message: Message) -> Awaitable[None] | None:
    hub = session.hub
    mask = message.params[0] if message.params and message.params[0] else "*"
    options = message.params[1] if len(message.params) > 1 else ""
    fields, _, token = options.partition("%")[2].partition(",")
    whox = "%" in options
    opers_only = "o" in options.partition("%")[0]
    found: list[tuple[User, Channel | None]] = []
    searched = 0
    if len(mask.encode()) > MASK_BYTES:
        session.numeric(n.ERR_UNKNOWNERROR, "WHO", f"Mask too long (at most {MASK_BYTES} bytes)")
    elif mask.startswith("#"):
        channel = hub.find_channel(mask)
        if channel is not None and channel.shown_to(me):
            inside = me in channel.members
            found = [(u, channel) for u in channel.members if inside or "i" not in u.modes]
            searched = len(channel.members)
    else:
        exact = hub.find_user(mask) if "*" not in mask and "?" not in mask else None
        if exact is not None:
            found = [(exact, None)]
        else:
            fold = hub.casemap.fold
            pattern = mask_pattern(fold("*" if mask == "0" else mask))
            for user in hub.users.values():
                if "i" in user.modes and not _shares_channel(me, user):
                    continue
                if pattern.fullmatch(user.key) or any(
                    pattern.fullmatch(fold(t)) for t in (user.username, user.host, user.realname)
                ):
                    found.append((user, None))
            searched = len(hub.users)
    # A search of many costs the server more than a line: the client's next lines wait.
    session.peer.spend(searched // SEARCHED_PER_LINE)

    def reply(found: tuple[User, Channel | None]) -> None:
        user, channel = found
        if opers_only and not user.is_oper:
            return
        if whox:
            _whox_reply(session, user, channel, fields, token)
        else:
            session.numeric(
                n.RPL_WHOREPLY,
                channel.name if channel else "*",
                user.username,
                user.host,
                session.server_name,
                user.nick,
                _who_flags(session, user, channel),
                f"0 {user.realname}",
            )

    return send_paced(
        session, found, reply, lambda: session.numeric(n.RPL_ENDOFWHO, mask, "End of /WHO list")
    )


def _whox_reply(
    session: IrcClient, user: User, channel: Channel | None, fields: str, token: str
) -> None:
    values = {
        "t": token or "0",
        "c": channel.name if channel else "*",
        "u": user.username,
        "i": user.host,
        "h": user.host,
        "s": session.server_name,
        "n": user.nick,
        "f": _who_flags(session, user, channel),
        "d": "0",
        "l": str(int(session.hub.clock() - user.last_active)),
        "a": user.account or "0",
        "o": "n/a",
        "r": user.realname,
    }
    params = [values[f] for f in _WHOX_ORDER if f in fields]
    if params:
        session.numeric(n.RPL_WHOSPCRPL, *params)


def whois(session: IrcClient, me: User, message: Message) -> None:
    hub = session.hub
    nick = message.params[-1] if len(message.params) > 1 else message.params[0]
    nick = nick.split(",")[0]
    user = hub.find_user(nick)
    if user is None:
        session.numeric(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
        session.numeric(n.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    session.numeric(n.RPL_WHOISUSER, user.nick, user.username, user.host, "*", user.realname)
    multi = "multi-prefix" in session.caps
    # Private and secret channels only to those who share them (and server operators).
    channels = [
        c.prefix_of(user, multi) + c.name for c in user.channels.values() if c.shown_to(me)
    ]
    if channels:
        session.numeric(n.RPL_WHOISCHANNELS, user.nick, " ".join(channels))
    session.numeric(
        n.RPL_WHOISSERVER, user.nick, session.server_name, session.ctx.settings.description
    )
    if user.away is not None:
        session.numeric(n.RPL_AWAY, user.nick, user.away)
    if user.account is not None:
        session.numeric(n.RPL_WHOISACCOUNT, user.nick, user.account, "is logged in as")
    if user.is_oper:
        session.numeric(n.RPL_WHOISOPERATOR, user.nick, "is an IRC operator")
    if "B" in user.modes:
        session.numeric(n.RPL_WHOISBOT, user.nick, "is a bot")
    if user.secure:
        session.numeric(n.RPL_WHOISSECURE, user.nick, "is using a secure connection")
    if me is user or me.is_oper:
        session.numeric(n.RPL_WHOISHOST, user.nick, f"is connecting from *@{user.host}")
    whois_lines(session, me, user)
    idle = int(hub.clock() - user.last_active)
    session.numeric(
        n.RPL_WHOISIDLE,
        user.nick,
        str(max(idle, 0)),
        str(int(user.signon)),
        "seconds idle, signon time",
    )
    session.numeric(n.RPL_ENDOFWHOIS, user.nick, "End of /WHOIS list")


def whowas(session: IrcClient, me: User, message: Message) -> None:
    if not message.params or not message.params[0]:
        session.numeric(n.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    nick = message.params[0]
    count = message.params[1] if len(message.params) > 1 else ""
    wanted = int(count) if count.isascii() and count.isdigit() and int(count) > 0 else _MAX_WHOWAS
    entries = session.hub.whowas(nick)[: min(wanted, _MAX_WHOWAS)]
    if not entries:
        session.numeric(n.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    for entry in entries:
        session.numeric(
            n.RPL_WHOWASUSER, entry.nick, entry.username, entry.host, "*", entry.realname
        )
        when = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(entry.time))
        session.numeric(n.RPL_WHOISSERVER, entry.nick, session.server_name, when)
    session.numeric(n.RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


def ison(session: IrcClient, me: User, message: Message) -> None:
    hub = session.hub
    online = []
    for nick in " ".join(message.params).split()[:64]:
        user = hub.find_user(nick)
        if user is not None:
            online.append(user.nick)
    session.numeric(n.RPL_ISON, " ".join(online))


def userhost(session: IrcClient, me: User, message: Message) -> None:
    hub = session.hub
    replies = []
    for nick in " ".join(message.params).split()[:_MAX_USERHOST]:
        user = hub.find_user(nick)
        if user is not None:
            oper = "*" if user.is_oper else ""
            here = "-" if user.away is not None else "+"
            replies.append(f"{user.nick}{oper}={here}{user.username}@{user.host}")
    session.numeric(n.RPL_USERHOST, " ".join(replies))


COMMANDS: tuple[Command, ...] = (
    UserCommand("WHO", who),
    UserCommand("WHOIS", whois, min_params=1),
    UserCommand("WHOWAS", whowas),
    UserCommand("ISON", ison, min_params=1),
    UserCommand("USERHOST", userhost, min_params=1),
)
