"""MONITOR (IRCv3): being told when nicks come online or go offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# Nicks per 730-732 line, so that a line stays well under 512 bytes.
_PER_LINE = 8


def _in_lines(session: IrcClient, numeric: str, items: list[str]) -> None:
    for start in range(0, len(items), _PER_LINE):
        session.numeric(numeric, ",".join(items[start : start + _PER_LINE]))


def _report(session: IrcClient, online: list[User], offline: list[str]) -> None:
    _in_lines(session, n.RPL_MONONLINE, [u.mask for u in online])
    _in_lines(session, n.RPL_MONOFFLINE, offline)


def monitor(session: IrcClient, user: User, message: Message) -> None:
    hub = session.hub
    sub = message.params[0]
    targets = [t for t in message.params[1].split(",") if t] if len(message.params) > 1 else []
    if sub == "+":
        targets = hub.monitors.nicks_among(targets)
        try:
            hub.monitors.add(user, targets)
        except ChatError as error:
            session.numeric(n.ERR_MONLISTFULL, error.subject, error.detail, "Monitor list is full")
            targets = targets[: len(targets) - len(error.detail.split(","))]
        online: list[User] = []
        offline: list[str] = []
        for target in targets:
            found = hub.find_user(target)
            if found is None:
                offline.append(target)
            else:
                online.append(found)
        _report(session, online, offline)
    elif sub == "-":
        hub.monitors.remove(user, targets)
    elif sub.upper() == "C":
        hub.monitors.clear(user)
    elif sub.upper() == "L":
        _in_lines(session, n.RPL_MONLIST, list(hub.monitors.of(user).values()))
        session.numeric(n.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub.upper() == "S":
        online = [u for u in map(hub.users.get, hub.monitors.of(user)) if u is not None]
        offline = [nick for key, nick in hub.monitors.of(user).items() if key not in hub.users]
        _report(session, online, offline)


COMMANDS: tuple[Command, ...] = (UserCommand("MONITOR", monitor, min_params=1),)
