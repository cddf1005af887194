"""NickServ: the account service for clients that know no IRCv3 account commands
(``PRIVMSG NickServ`` or ``NS``), and an account's own settings (SET)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING

from hubbub.accounts.errors import AccountError
from hubbub.core.presence import AccountChoices, Choice
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.commands.accounts import (
    accounts_of,
    count_registration,
    current_account,
    logged_in,
    looks_like_email,
    tell,
)

if TYPE_CHECKING:
    from hubbub.accounts.ports import Account
    from hubbub.accounts.service import Accounts
    from hubbub.core.model import User
    from hubbub.core.presences import Presences
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message


_NICKSERV_HELP = (
    "NickServ keeps accounts. Commands:",
    "REGISTER <password> [email]  - register your current nick as an account",
    "IDENTIFY [account] <password> - log in",
    "INFO [account]               - show an account",
    "PASSWORD <new password>      - change your password (logged in)",
    "DROP <password>              - delete your account",
    "GHOST <nick>                 - disconnect a session using your account's nick",
    "CERT LIST|ADD|DEL <fp>       - TLS client certificates that log in (SASL EXTERNAL)",
    "SET                          - show your account's settings",
    "SET MULTICLIENT ON|OFF|DEFAULT - let several connections share your nick",
    "SET ALWAYS-ON ON|OFF|DEFAULT - stay in your channels while no connection is open",
)


async def nickserv(session: IrcClient, user: User, text: str) -> None:
    """One request to NickServ (a PRIVMSG to it, or the NS command)."""
    accounts = accounts_of(session)
    words = text.split()
    verb = words[0].upper() if words else "HELP"
    args = words[1:]
    if accounts is None:
        tell(session, "Accounts are not available on this server.")
        return
    try:
        if verb == "REGISTER" and args:
            if current_account(session) is not None:
                tell(session, "You are already logged in.")
                return
            email = args[1] if len(args) > 1 else ""
            if session.ctx.settings.register_email_required and not looks_like_email(email):
                tell(session, "An email address is required: REGISTER <password> <email>")
                return
            count_registration(session)
            account = await accounts.register(user.nick, args[0], email)
            session.hub.account_registered(account.name)
            tell(session, f"Account {account.name} registered; you are logged in.")
            await logged_in(session, account)
        elif verb == "IDENTIFY" and args:
            if len(args) > 1:
                name, password = args[0], args[1]
            else:
                # A nick that looks like the account's name (c0c0 for coco) names it too.
                name, password = accounts.owner(user.nick) or user.nick, args[0]
            account = await accounts.authenticate(name, password, session.host)
            tell(session, f"You are now identified as {account.name}.")
            await logged_in(session, account)
        elif verb == "INFO":
            found = await accounts.find(args[0] if args else (user.account or user.nick))
            if found is None:
                tell(session, "No such account.")
            else:
                when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(found.created))
                tell(session, f"Account {found.name}, registered on {when}.")
        elif verb == "PASSWORD" and args:
            mine = await _own_account(session, accounts)
            if mine is None:
                tell(session, "Log in first.")
                return
            await accounts.change_password(mine, args[-1], session.host)
            tell(session, "Password changed.")
        elif verb == "DROP" and args:
            if user.account is None:
                tell(session, "Log in first.")
                return
            account = await accounts.authenticate(user.account, args[0], session.host)
            if account.uid != user.account_id:
                tell(session, "Log in first.")
                return
            # Logged out everywhere, and its markers forgotten, before the store
            # forgets the account: nothing of it may be saved again afterwards.
            session.hub.drop_account(account.uid, account.key)
            # Shielded: the drop logs this connection out, and may close it (a device on
            # another node than its user's home is closed as the user quits there), which
            # cancels this handler; the account must go all the same (probe 34).
            await asyncio.shield(accounts.drop(account))
            tell(session, f"Account {account.name} dropped.")
        elif verb == "GHOST" and args:
            await _ghost(session, user, accounts, args[0])
        elif verb == "HELP" and args and args[0].upper() == "SET":
            for line in _SET_HELP:
                tell(session, line)
        elif verb == "SET":
            await _set(session, accounts, [arg.upper() for arg in args])
        elif verb == "CERT":
            await _certificates(session, accounts, [arg for arg in args if arg])
        else:
            for line in _NICKSERV_HELP:
                tell(session, line)
    except AccountError as error:
        tell(session, str(error))


async def _own_account(session: IrcClient, accounts: Accounts) -> Account | None:
    """The account this user is logged in to, if it still exists: the same account, not
    one made since under its name (``hubbub account`` may drop and make accounts while
    this user stays logged in; when it has, its connections are logged out here)."""
    user = session.user
    if user is None or user.account is None:
        return None
    account_id = user.account_id
    found = await accounts.find(user.account)
    if found is not None and found.uid == account_id:
        return found
    if account_id is not None and session.user is user and user.account_id == account_id:
        # Gone: this server learns it now, and forgets it everywhere.
        session.hub.drop_account(account_id)
    return None


_SET_HELP = (
    "SET shows your account's settings; SET <name> shows one.",
    "SET MULTICLIENT ON|OFF|DEFAULT: connections logged in to your account that ask for "
    "your nick share one user (one nick, one set of channels).",
    "SET ALWAYS-ON ON|OFF|DEFAULT: your user stays in its channels, away, while no "
    "connection is open; the next one is given what was said meanwhile.",
    "DEFAULT: whatever the server decides for accounts that chose nothing.",
)
# NickServ SET's names, and the field of AccountChoices each sets.
_SETTINGS = {"MULTICLIENT": "multiclient", "ALWAYS-ON": "always_on", "ALWAYSON": "always_on"}
_SHOWN = {"multiclient": "MULTICLIENT", "always_on": "ALWAYS-ON"}


async def _set(session: IrcClient, accounts: Accounts, args: list[str]) -> None:
    """``SET`` shows the account's choices, ``SET <name>`` one of them, and
    ``SET <name> ON|OFF|DEFAULT`` makes one."""
    if len(args) > 2 and args[1] in _SETTINGS:
        tell(
            session,
            "SET changes only the account you are logged in to: "
            f"SET {args[1]} ON|OFF|DEFAULT, without an account's name",
        )
        return
    mine = await _own_account(session, accounts)
    if mine is None:
        tell(session, "Log in first.")
        return
    presences = session.hub.presences
    field = _SETTINGS.get(args[0]) if args else None
    if not args or (field is not None and len(args) == 1):
        for shown in (field,) if field is not None else tuple(_SHOWN):
            tell(session, _choice_text(presences, mine.uid, shown))
        return
    if field is None or len(args) != 2 or args[1] not in ("ON", "OFF", "DEFAULT"):
        tell(session, "Usage: SET MULTICLIENT ON|OFF|DEFAULT, SET ALWAYS-ON ON|OFF|DEFAULT")
        return
    if getattr(presences.policy, field) is Choice.OFF:
        tell(session, f"{_SHOWN[field]} is off on this server.")
        return
    chosen = None if args[1] == "DEFAULT" else args[1] == "ON"
    current = presences.choices.get(mine.uid, AccountChoices())
    presences.choose(mine.uid, replace(current, **{field: chosen}))
    tell(session, "Done: " + _choice_text(presences, mine.uid, field))


def _choice_text(presences: Presences, account_id: str, field: str) -> str:
    """``ALWAYS-ON is on (your choice).``, or ``(the server's default)``."""
    chosen = getattr(presences.choices.get(account_id, AccountChoices()), field)
    how = "the server's default" if chosen is None else "your choice"
    state = "on" if _decided(presences, account_id, field) else "off"
    return f"{_SHOWN[field]} is {state} ({how})."


def _decided(presences: Presences, account_id: str, field: str) -> bool:
    if field == "multiclient":
        return presences.multiclient(account_id)
    return presences.always_on(account_id)


async def _certificates(session: IrcClient, accounts: Accounts, args: list[str]) -> None:
    mine = await _own_account(session, accounts)
    if mine is None:
        tell(session, "Log in first.")
        return
    action = args[0].upper() if args else "LIST"
    if action == "LIST":
        fingerprints = await accounts.certificates(mine)
        for fingerprint in fingerprints:
            tell(session, f"Certificate {fingerprint}")
        tell(session, f"{len(fingerprints)} certificate(s) on account {mine.name}.")
    elif action == "ADD":
        # Only the certificate this connection shows: a fingerprint typed in could
        # claim someone else's certificate before its owner does.
        own = session.peer.certfp
        if own is None:
            tell(session, "Connect with the certificate to add (TLS with a client certificate).")
            return
        if len(args) > 1 and args[1].lower().replace(":", "") != own:
            tell(session, "Only the certificate of this connection can be added.")
            return
        await accounts.add_certificate(mine, own)
        tell(session, f"Certificate added to account {mine.name}.")
    elif action == "DEL" and len(args) > 1:
        await accounts.remove_certificate(mine, args[1])
        tell(session, f"Certificate removed from account {mine.name}.")
    else:
        tell(session, "Usage: CERT LIST | CERT ADD | CERT DEL <fingerprint>")


async def _ghost(session: IrcClient, user: User, accounts: Accounts, nick: str) -> None:
    hub = session.hub
    # The account logged in to must still be that account (by id): one dropped from the
    # shell, its name since registered by someone else, owns nothing.
    mine = await _own_account(session, accounts)
    if mine is None or user.account is None or not accounts.owns(mine.name, nick):
        tell(session, f"{nick} does not belong to your account.")
        return
    # The holder of a look-alike keeps the account's own name from its owner (433), so
    # GHOST with that name finds it too.
    target = hub.find_user(nick) or _look_alike_of(session, nick)
    if target is None or target is user:
        tell(session, f"{nick} is not online.")
        return
    if not accounts.owns(mine.name, target.nick):
        tell(session, f"{target.nick} does not belong to your account.")
        return
    # Forced: applying the quit closes the ghost's session, on whichever node it is.
    hub.quit(target, f"GHOST command used by {user.nick}", forced=True)
    tell(session, f"{target.nick} has been disconnected.")


def _look_alike_of(session: IrcClient, nick: str) -> User | None:
    """The user holding a nick that looks like ``nick`` (by its skeleton, or by the look
    of its spelling: ``cIaude`` for claude, probe 17), if any."""
    return session.hub.state.users.look_alike(nick)


def ns(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return nickserv(session, user, " ".join(message.params))


COMMANDS: tuple[Command, ...] = (
    UserCommand("NS", ns, min_params=1),
    UserCommand("NICKSERV", ns, min_params=1),
)
