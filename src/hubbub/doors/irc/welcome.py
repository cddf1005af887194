"""The replies that describe the server: the welcome burst, ISUPPORT, LUSERS and MOTD."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbub.core.modes import CHANNEL_MODES, ModeKind
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.doors.irc.session import IrcSession

# At most 13 tokens per RPL_ISUPPORT line (the modern IRC client protocol's 15 parameters,
# less the client's nick and the trailing text).
_TOKENS_PER_LINE = 13


def send_welcome(session: IrcSession) -> None:
    """001-005, then LUSERS and MOTD: what a client receives once registered."""
    ctx, user = session.ctx, session.user
    assert user is not None
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ctx.created))
    session.numeric(
        n.RPL_WELCOME, f"Welcome to the {ctx.settings.network_name} IRC Network {user.mask}"
    )
    session.numeric(
        n.RPL_YOURHOST, f"Your host is {ctx.server_name}, running version {ctx.version}"
    )
    session.numeric(n.RPL_CREATED, f"This server was created {created}")
    with_param = "".join(m for m, k in CHANNEL_MODES.items() if k is not ModeKind.FLAG)
    session.numeric(
        n.RPL_MYINFO,
        ctx.server_name,
        ctx.version,
        ctx.user_modes(),
        "".join(sorted(CHANNEL_MODES)),
        "".join(sorted(with_param)),
    )
    send_isupport(session)
    send_lusers(session)
    send_motd(session)


def send_isupport(session: IrcSession) -> None:
    tokens = session.ctx.isupport()
    for start in range(0, len(tokens), _TOKENS_PER_LINE):
        chunk = tokens[start : start + _TOKENS_PER_LINE]
        session.numeric(n.RPL_ISUPPORT, *chunk, "are supported by this server")


def send_lusers(session: IrcSession) -> None:
    hub = session.ctx.hub
    total = len(hub.users)
    invisible = hub.mode_counts["i"]
    opers = hub.mode_counts["o"]
    peak = hub.peak_users
    session.numeric(
        n.RPL_LUSERCLIENT,
        f"There are {total - invisible} users and {invisible} invisible on 1 servers",
    )
    session.numeric(n.RPL_LUSEROP, str(opers), "operator(s) online")
    session.numeric(n.RPL_LUSERUNKNOWN, str(session.ctx.unregistered), "unknown connection(s)")
    session.numeric(n.RPL_LUSERCHANNELS, str(len(hub.channels)), "channels formed")
    session.numeric(n.RPL_LUSERME, f"I have {total} clients and 0 servers")
    session.numeric(
        n.RPL_LOCALUSERS, str(total), str(peak), f"Current local users {total}, max {peak}"
    )
    session.numeric(
        n.RPL_GLOBALUSERS, str(total), str(peak), f"Current global users {total}, max {peak}"
    )


def send_motd(session: IrcSession) -> None:
    ctx = session.ctx
    if not ctx.motd:
        session.numeric(n.ERR_NOMOTD, "MOTD File is missing")
        return
    session.numeric(n.RPL_MOTDSTART, f"- {ctx.server_name} Message of the day - ")
    for line in ctx.motd:
        session.numeric(n.RPL_MOTD, f"- {line}")
    session.numeric(n.RPL_ENDOFMOTD, "End of /MOTD command.")
