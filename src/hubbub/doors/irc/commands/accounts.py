"""Accounts on IRC: SASL (AUTHENTICATE), REGISTER (draft/account-registration), and the
NickServ service for clients that know neither."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.accounts import AccountError
from hubbub.core.errors import ChatError
from hubbub.doors.irc.table import command
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.accounts import Accounts
    from hubbub.doors.irc.session import IrcSession
    from hubbub.storage.ports import Account
    from hubbub.wire.message import Message

MECHANISMS = ("PLAIN",)
# SASL: "clients MUST split the payload into 400-byte chunks"; a whole payload is bounded.
_CHUNK = 400
_MAX_PAYLOAD = 4096
NICKSERV = "NickServ"
_NICKSERV_MASK = "NickServ!NickServ@services.hubbub"


def _accounts(session: IrcSession) -> Accounts | None:
    return session.ctx.accounts


def logged_in(session: IrcSession, account: Account) -> None:
    """Log the client in, before or after registration, and say so (900)."""
    user = session.user
    if user is not None:
        session.ctx.hub.log_in(user, account.name)
        mask = user.mask
    else:
        session.account = account.name
        mask = f"{session.nick or '*'}!{session.username or '*'}@{session.host}"
    session.numeric(n.RPL_LOGGEDIN, mask, account.name, f"You are now logged in as {account.name}")


def current_account(session: IrcSession) -> str | None:
    return session.user.account if session.user is not None else session.account


# -- SASL ----------------------------------------------------------------------------------


@command("AUTHENTICATE", min_params=1, registered=False)
def authenticate(session: IrcSession, message: Message) -> Awaitable[None] | None:
    argument = message.params[0]
    if _accounts(session) is None:
        session.numeric(n.ERR_SASLFAIL, "SASL authentication failed: no accounts here")
        return None
    if session.sasl is None:
        if current_account(session) is not None:
            session.numeric(n.ERR_SASLALREADY, "You have already authenticated using SASL")
            return None
        if argument.upper() not in MECHANISMS:
            session.numeric(n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
            session.numeric(n.ERR_SASLFAIL, "SASL authentication failed")
            return None
        session.sasl = b""
        session.message("AUTHENTICATE", "+", source="")
        return None
    if argument == "*":
        session.sasl = None
        session.numeric(n.ERR_SASLABORTED, "SASL authentication aborted")
        return None
    if len(argument) > _CHUNK:
        session.sasl = None
        session.numeric(n.ERR_SASLTOOLONG, "SASL message too long")
        return None
    if argument != "+":
        session.sasl += argument.encode()
        if len(session.sasl) > _MAX_PAYLOAD:
            # ERR_SASLTOOLONG is for one over-long AUTHENTICATE line; a payload that
            # grows past any sensible size simply fails.
            session.sasl = None
            session.numeric(n.ERR_SASLFAIL, "SASL authentication failed: payload too long")
            return None
        if len(argument) == _CHUNK:
            return None  # more chunks follow
    payload, session.sasl = session.sasl, None
    return _sasl_plain(session, payload)


async def _sasl_plain(session: IrcSession, payload: bytes) -> None:
    accounts = _accounts(session)
    assert accounts is not None
    try:
        decoded = base64.b64decode(payload, validate=True).decode("utf-8")
        authzid, authcid, password = decoded.split("\0")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        session.numeric(n.ERR_SASLFAIL, "SASL authentication failed: malformed PLAIN message")
        return
    if authzid and authzid != authcid:
        session.numeric(n.ERR_SASLFAIL, "SASL authentication failed: cannot act for another")
        return
    try:
        account = await accounts.authenticate(authcid, password, session.host)
    except AccountError as error:
        session.numeric(n.ERR_SASLFAIL, f"SASL authentication failed: {error}")
        return
    if session.closed:
        return
    logged_in(session, account)
    session.numeric(n.RPL_SASLSUCCESS, "SASL authentication successful")


# -- draft/account-registration -------------------------------------------------------------


@command("REGISTER", min_params=3, registered=False)
def register(session: IrcSession, message: Message) -> Awaitable[None] | None:
    name, email, password = message.params[0], message.params[1], message.params[2]
    if _accounts(session) is None:
        session.message("FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE", name, "No accounts here")
        return None
    if current_account(session) is not None:
        session.message("FAIL", "REGISTER", "ALREADY_AUTHENTICATED", name, "You are logged in")
        return None
    if name == "*":
        # Before registration (draft/account-registration before-connect) the nick
        # given so far names the account.
        nick = session.user.nick if session.user is not None else session.nick
        nick = nick or session.requested_nick
        if nick is None:
            session.message("FAIL", "REGISTER", "NEED_NICK", "*", "Send NICK first")
            return None
        name = nick
    holder = session.ctx.hub.find_user(name)
    if holder is not None and holder is not session.user:
        # No land grabs: a nick in use is not registered out from under its holder.
        session.message("FAIL", "REGISTER", "ACCOUNT_EXISTS", name, "That name is in use")
        return None
    return _register(session, name, "" if email == "*" else email, password)


async def _register(session: IrcSession, name: str, email: str, password: str) -> None:
    accounts = _accounts(session)
    assert accounts is not None
    try:
        account = await accounts.register(name, password, email)
    except AccountError as error:
        session.message("FAIL", "REGISTER", error.code, name, str(error))
        return
    if session.closed:
        return
    session.message("REGISTER", "SUCCESS", account.name, "Account created")
    logged_in(session, account)


# -- NickServ ----------------------------------------------------------------------------------


def _tell(session: IrcSession, text: str) -> None:
    session.message("NOTICE", session.client, text, source=_NICKSERV_MASK)


_NICKSERV_HELP = (
    "NickServ keeps accounts. Commands:",
    "REGISTER <password> [email]  - register your current nick as an account",
    "IDENTIFY [account] <password> - log in",
    "INFO [account]               - show an account",
    "PASSWORD <new password>      - change your password (logged in)",
    "DROP <password>              - delete your account",
    "GHOST <nick>                 - disconnect a session using your account's nick",
)


async def nickserv(session: IrcSession, text: str) -> None:
    """One request to NickServ (a PRIVMSG to it, or the NS command)."""
    accounts = _accounts(session)
    user = session.user
    assert user is not None
    words = text.split()
    verb = words[0].upper() if words else "HELP"
    args = words[1:]
    if accounts is None:
        _tell(session, "Accounts are not available on this server.")
        return
    try:
        if verb == "REGISTER" and args:
            if current_account(session) is not None:
                _tell(session, "You are already logged in.")
                return
            account = await accounts.register(user.nick, args[0], args[1] if len(args) > 1 else "")
            _tell(session, f"Account {account.name} registered; you are logged in.")
            logged_in(session, account)
        elif verb == "IDENTIFY" and args:
            name, password = (args[0], args[1]) if len(args) > 1 else (user.nick, args[0])
            account = await accounts.authenticate(name, password, session.host)
            _tell(session, f"You are now identified as {account.name}.")
            logged_in(session, account)
        elif verb == "INFO":
            found = await accounts.find(args[0] if args else (user.account or user.nick))
            if found is None:
                _tell(session, "No such account.")
            else:
                _tell(session, f"Account {found.name}, registered at {found.created:.0f}.")
        elif verb == "PASSWORD" and args:
            mine = await accounts.find(user.account) if user.account else None
            if mine is None:
                _tell(session, "Log in first.")
                return
            await accounts.change_password(mine, args[-1])
            _tell(session, "Password changed.")
        elif verb == "DROP" and args:
            if user.account is None:
                _tell(session, "Log in first.")
                return
            account = await accounts.authenticate(user.account, args[0], session.host)
            await accounts.drop(account)
            session.ctx.hub.log_in(user, None)
            _tell(session, f"Account {account.name} dropped.")
        elif verb == "GHOST" and args:
            _ghost(session, args[0])
        else:
            for line in _NICKSERV_HELP:
                _tell(session, line)
    except AccountError as error:
        _tell(session, str(error))


def _ghost(session: IrcSession, nick: str) -> None:
    user = session.user
    assert user is not None
    hub = session.ctx.hub
    target = hub.find_user(nick)
    if target is None or target is user:
        _tell(session, f"{nick} is not online.")
        return
    if user.account is None or hub.casemap.fold(user.account) != target.key:
        _tell(session, f"{nick} does not belong to your account.")
        return
    hub.quit(target, f"GHOST command used by {user.nick}")
    target.listener.disconnect(f"GHOST command used by {user.nick}")
    _tell(session, f"{nick} has been disconnected.")


@command("NS", "NICKSERV", min_params=1)
def ns(session: IrcSession, message: Message) -> Awaitable[None] | None:
    return nickserv(session, " ".join(message.params))


# -- nick ownership ---------------------------------------------------------------------------


def guard_nick(session: IrcSession) -> None:
    """A registered nick held without logging in to its account: warn, and take it back
    after the grace period unless its owner logs in (or the user changes nick)."""
    user, accounts, later = session.user, _accounts(session), session.ctx.call_later
    if user is None or accounts is None or later is None:
        return
    if not accounts.is_registered(user.nick) or _owns(session, user.nick):
        return
    grace = session.ctx.settings.limits.nick_grace
    _tell(
        session,
        f"{user.nick} is a registered nick. Log in (SASL, or /msg NickServ IDENTIFY "
        f"<password>) within {grace:.0f} seconds, or you will be renamed.",
    )
    nick = user.nick
    later(grace, lambda: _take_back(session, nick))


def _owns(session: IrcSession, nick: str) -> bool:
    account = current_account(session)
    fold = session.ctx.hub.casemap.fold
    return account is not None and fold(account) == fold(nick)


def _take_back(session: IrcSession, nick: str) -> None:
    user = session.user
    if session.closed or user is None or user.nick != nick or _owns(session, nick):
        return
    hub = session.ctx.hub
    for attempt in range(10):
        guest = f"Guest{secrets.randbelow(100_000):05d}"
        try:
            hub.change_nick(user, guest)
        except ChatError:
            if attempt == 9:
                session.close("Could not free a registered nick")
            continue
        _tell(session, f"You were renamed to {guest}: {nick} belongs to an account.")
        return
