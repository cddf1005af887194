"""ChanServ: registering channels so that their topic, modes, bans and operators last."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.accounts.errors import AccountError
from hubbub.core.errors import ChatError
from hubbub.doors.irc.command import Command, UserCommand

if TYPE_CHECKING:
    from hubbub.accounts.service import Accounts
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
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


def _tell(session: IrcClient, text: str) -> None:
    session.message("NOTICE", session.client, text, source=_MASK)


def chanserv(session: IrcClient, user: User, text: str) -> Awaitable[None] | None:
    """One request to ChanServ (a PRIVMSG to it, or the CS command); ACCESS ADD waits
    for the store (the account must exist: rights go to accounts, not to names)."""
    hub = session.hub
    accounts = session.ctx.accounts
    if accounts is None:
        _tell(session, "Channel registration is not available on this server.")
        return None
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
            found = session.hub.registration(user, name)
            if found is None:
                _tell(session, f"{name} is not registered.")
                return None
            when = time.strftime("%Y-%m-%d", time.gmtime(found.created))
            founder = found.name_of(found.founder)
            _tell(session, f"{found.name}: founder {founder}, registered {when}.")
        elif verb == "ACCESS" and name:
            lowered = [w.lower() for w in words[2:]]
            return _access(session, user, accounts, name, lowered, words[2:])
        else:
            for line in _HELP:
                _tell(session, line)
    except ChatError as error:
        _refused(session, error, name)
    return None


def refused_elsewhere(session: IrcClient, error: ChatError) -> None:
    """A registration this user made was refused as it was applied: another node
    registered the channel first (see Listener.refused)."""
    _refused(session, error, error.subject or "")


def _refused(session: IrcClient, error: ChatError, name: str) -> None:
    detail = f" ({error.detail})" if error.detail else ""
    _tell(
        session,
        f"Cannot do that on {error.subject or name}: "
        f"{error.reason.name.lower().replace('_', ' ')}{detail}.",
    )


def _access(
    session: IrcClient,
    user: User,
    accounts: Accounts,
    name: str,
    lowered: list[str],
    words: list[str],
) -> Awaitable[None] | None:
    hub = session.hub
    if not lowered or lowered[0] == "list":
        record = hub.registration(user, name, members=True)
        if record is None:
            _tell(session, f"{name} is not registered.")
            return None
        _tell(session, f"{record.name}: founder {record.name_of(record.founder)}")
        for shown, status in sorted((record.name_of(a), s) for a, s in record.access.items()):
            _tell(session, f"  {shown} {'op' if status == 'o' else 'voice'}")
        return None
    if lowered[0] == "add" and len(words) == 3 and lowered[2] in _LEVELS:
        hub.founded_by(user, name)  # refused before the account is looked up
        return _add_access(session, accounts, name, words[1], _LEVELS[lowered[2]], lowered[2])
    if lowered[0] == "del" and len(words) == 2:
        record = hub.registered.get(hub.casemap.fold(name))
        wanted = hub.casemap.fold(words[1])
        # Entries are by account id; they are found by the name they were added with.
        found = [
            account
            for account in (record.access if record is not None else {})
            if record is not None and hub.casemap.fold(record.name_of(account)) == wanted
        ]
        entry = found[0] if found else ""
        hub.set_access(user, name, entry, words[1], None)
        _tell(session, f"{words[1]} no longer has access to {name}.")
    else:
        _tell(session, "ACCESS #channel LIST | ADD <account> op|voice | DEL <account>")
    return None


async def _add_access(
    session: IrcClient,
    accounts: Accounts,
    name: str,
    account_name: str,
    status: str,
    level: str,
) -> None:
    try:
        account = await accounts.find(account_name)
    except AccountError:
        _tell(session, "Accounts are unavailable right now; try again later.")
        return
    user = session.user
    if session.closed or user is None:
        return
    if account is None:
        _tell(session, f"{account_name} is not a registered account.")
        return
    try:
        session.hub.set_access(user, name, account.uid, account.name, status)
    except ChatError as error:
        _refused(session, error, name)
        return
    _tell(session, f"{account.name} gets {level} on {name}.")


def cs(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return chanserv(session, user, " ".join(message.params))


COMMANDS: tuple[Command, ...] = (
    UserCommand("CS", cs, min_params=1),
    UserCommand("CHANSERV", cs, min_params=1),
)
