"""The replies that describe the server: the welcome burst, ISUPPORT, LUSERS and MOTD."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbub.core.modes import CHANNEL_MODES, ModeKind
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, encode

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient

# At most 13 tokens per RPL_ISUPPORT line (the modern IRC client protocol's 15 parameters,
# less the client's nick and the trailing text).
_TOKENS_PER_LINE = 13


# A reply to one client, encoded but for the client's nick: the bytes before it and after.
Template = tuple[bytes, bytes]


def send_welcome(session: IrcClient, user: User) -> None:
    """001-005, then LUSERS and MOTD: what a client receives once registered.

    Everyone gets the same 002-005 and MOTD but for their nick: those are encoded once
    per settings and MOTD (every registration sends them).
    """
    ctx = session.ctx
    server_info, motd = ctx.welcome_templates(lambda: _templates(session))
    session.numeric(
        n.RPL_WELCOME, f"Welcome to the {ctx.settings.network_name} IRC Network {user.mask}"
    )
    nick = user.nick.encode()
    session.send(b"".join(before + nick + after for before, after in server_info))
    send_lusers(session)
    session.send(b"".join(before + nick + after for before, after in motd))


def _templates(session: IrcClient) -> tuple[list[Template], list[Template]]:
    """002-005, and the MOTD (or its absence), as templates."""
    ctx = session.ctx
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ctx.created))
    with_param = "".join(m for m, k in CHANNEL_MODES.items() if k is not ModeKind.FLAG)
    server_info = [
        (n.RPL_YOURHOST, f"Your host is {ctx.server_name}, running version {ctx.version}"),
        (n.RPL_CREATED, f"This server was created {created}"),
        (
            n.RPL_MYINFO,
            ctx.server_name,
            ctx.version,
            ctx.user_modes(),
            "".join(sorted(CHANNEL_MODES)),
            "".join(sorted(with_param)),
        ),
        *isupport_replies(session),
    ]
    return [_template(ctx.server_name, *r) for r in server_info], [
        _template(ctx.server_name, *r) for r in motd_replies(session)
    ]


def _template(server: str, code: str, *params: str) -> Template:
    # The nick is a middle parameter (it holds no space and starts with no colon), so
    # the line is the same bytes around it whatever it is.
    before = f":{server} {code} ".encode()
    line = encode(Message(code, ("*", *params), server))
    assert line.startswith(before + b"*")
    return before, line[len(before) + 1 :]


def isupport_replies(session: IrcClient) -> list[tuple[str, ...]]:
    tokens = session.ctx.isupport()
    return [
        (n.RPL_ISUPPORT, *tokens[start : start + _TOKENS_PER_LINE], "are supported by this server")
        for start in range(0, len(tokens), _TOKENS_PER_LINE)
    ]


def send_isupport(session: IrcClient) -> None:
    for code, *params in isupport_replies(session):
        session.numeric(code, *params)


def send_lusers(session: IrcClient) -> None:
    """251-255 and 265-266, in one write (every registration sends them)."""
    hub = session.hub
    total = len(hub.users)
    invisible = hub.mode_counts["i"]
    opers = hub.mode_counts["o"]
    peak = hub.peak_users
    unknown = session.ctx.unregistered
    channels = len(hub.channels)
    # Built directly: every parameter is a number or fixed text, and the nick is a
    # middle parameter (no spaces, no leading colon).
    head = f":{session.server_name} "
    nick = session.client
    session.send(
        (
            f"{head}{n.RPL_LUSERCLIENT} {nick} :There are {total - invisible} users and "
            f"{invisible} invisible on 1 servers\r\n"
            f"{head}{n.RPL_LUSEROP} {nick} {opers} :operator(s) online\r\n"
            f"{head}{n.RPL_LUSERUNKNOWN} {nick} {unknown} :unknown connection(s)\r\n"
            f"{head}{n.RPL_LUSERCHANNELS} {nick} {channels} :channels formed\r\n"
            f"{head}{n.RPL_LUSERME} {nick} :I have {total} clients and 0 servers\r\n"
            f"{head}{n.RPL_LOCALUSERS} {nick} {total} {peak} :Current local users {total}, "
            f"max {peak}\r\n"
            f"{head}{n.RPL_GLOBALUSERS} {nick} {total} {peak} :Current global users "
            f"{total}, max {peak}\r\n"
        ).encode()
    )


def motd_replies(session: IrcClient) -> list[tuple[str, ...]]:
    ctx = session.ctx
    if not ctx.motd:
        return [(n.ERR_NOMOTD, "MOTD File is missing")]
    return [
        (n.RPL_MOTDSTART, f"- {ctx.server_name} Message of the day - "),
        *((n.RPL_MOTD, f"- {line}") for line in ctx.motd),
        (n.RPL_ENDOFMOTD, "End of /MOTD command."),
    ]


def send_motd(session: IrcClient) -> None:
    for code, *params in motd_replies(session):
        session.numeric(code, *params)
