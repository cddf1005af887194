"""ChanServ: registering channels so that their topic, modes, bans and operators last."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.doors.irc.table import command

if TYPE_CHECKING:
    from hubbub.doors.irc.session import IrcSession
    from hubbub.wire.message import Message

CHANSERV = "ChanServ"
_MASK = "ChanServ!ChanServ@services.hubbub"
_LEVELS = {"op": "o", "voice": "v"}
_HELP = (
    "ChanServ keeps channels. Commands:",
    "REGISTER #channel              - register a channel you operate (logged in)",
    "INFO #channel                  - show a registration",
    "ACCESS #channel LIST           - who gets status on joining",
    "ACCESS #channel ADD <account> op|voice",
    "ACCESS #channel DEL <account>",
    "DROP #channel                  - forget the registration (founder)",
)


def _tell(session: IrcSession, text: str) -> None:
    session.message("NOTICE", session.client, text, source=_MASK)


def chanserv(session: IrcSession, text: str) -> None:
    """One request to ChanServ (a PRIVMSG to it, or the CS command)."""
    user = session.user
    assert user is not None
    hub = session.ctx.hub
    if session.ctx.accounts is None:
        _tell(session, "Channel registration is not available on this server.")
        return
    words = text.split()
    verb = words[0].upper() if words else "HELP"
    name = words[1] if len(words) > 1 else ""
    try:
        if verb == "REGISTER" and name:
            record = hub.register_channel(user, name)
            _tell(session, f"{record.name} is registered to {user.account}.")
        elif verb == "DROP" and name:
            hub.drop_channel(user, name)
            _tell(session, f"{name} is no longer registered.")
        elif verb == "INFO" and name:
            found = hub.registered.get(hub.casemap.fold(name))
            if found is None:
                _tell(session, f"{name} is not registered.")
                return
            when = time.strftime("%Y-%m-%d", time.gmtime(found.created))
            _tell(session, f"{found.name}: founder {found.founder}, registered {when}.")
        elif verb == "ACCESS" and name:
            _access(session, name, [w.lower() for w in words[2:]], words[2:])
        else:
            for line in _HELP:
                _tell(session, line)
    except ChatError as error:
        detail = f" ({error.detail})" if error.detail else ""
        _tell(
            session,
            f"Cannot do that on {error.subject or name}: "
            f"{error.reason.name.lower().replace('_', ' ')}{detail}.",
        )


def _access(session: IrcSession, name: str, lowered: list[str], words: list[str]) -> None:
    user = session.user
    assert user is not None
    hub = session.ctx.hub
    if not lowered or lowered[0] == "list":
        record = hub.registered.get(hub.casemap.fold(name))
        if record is None:
            _tell(session, f"{name} is not registered.")
            return
        _tell(session, f"{record.name}: founder {record.founder}")
        for account, status in sorted(record.access.items()):
            _tell(session, f"  {account} {'op' if status == 'o' else 'voice'}")
        return
    if lowered[0] == "add" and len(words) == 3 and lowered[2] in _LEVELS:
        hub.set_access(user, name, words[1], _LEVELS[lowered[2]])
        _tell(session, f"{words[1]} gets {lowered[2]} on {name}.")
    elif lowered[0] == "del" and len(words) == 2:
        hub.set_access(user, name, words[1], None)
        _tell(session, f"{words[1]} no longer has access to {name}.")
    else:
        _tell(session, "ACCESS #channel LIST | ADD <account> op|voice | DEL <account>")


@command("CS", "CHANSERV", min_params=1)
def cs(session: IrcSession, message: Message) -> None:
    chanserv(session, " ".join(message.params))
