"""Accounts on IRC: REGISTER (draft/account-registration), the NickServ service for
clients that know no IRCv3 account commands, and nick ownership. SASL is in
:mod:`hubbub.doors.irc.commands.sasl`."""

from __future__ import annotations

import secrets
import time
import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.accounts.errors import AccountError
from hubbub.accounts.throttle import RegistrationThrottle
from hubbub.core.errors import ChatError, Reason
from hubbub.core.presence import sessions_of
from hubbub.doors.irc.client import IrcClient
from hubbub.doors.irc.command import Command, ConnectionCommand
from hubbub.doors.irc.commands.bans import refused_banned, unless_banned
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.accounts.ports import Account
    from hubbub.accounts.service import Accounts
    from hubbub.core.hub import Hub
    from hubbub.core.model import User
    from hubbub.doors.irc.nick_guards import NickGuard
    from hubbub.doors.irc.options import IrcDoorLimits
    from hubbub.wire.message import Message

NICKSERV = "NickServ"
_NICKSERV_MASK = "NickServ!NickServ@services.hubbub"


# One registration throttle per server (its hub), gone with it.
_REGISTRATION_THROTTLES: weakref.WeakKeyDictionary[Hub, RegistrationThrottle] = (
    weakref.WeakKeyDictionary()
)


def accounts_of(session: IrcClient) -> Accounts | None:
    return session.ctx.accounts


def registration_throttle(hub: Hub, limits: IrcDoorLimits) -> RegistrationThrottle:
    """The account registration throttle of the server ``hub`` belongs to, by its
    ``register_per_address`` and ``register_window`` limits."""
    throttle = _REGISTRATION_THROTTLES.get(hub)
    if throttle is None:
        throttle = RegistrationThrottle(limits.register_per_address, limits.register_window)
        _REGISTRATION_THROTTLES[hub] = throttle
    return throttle


def count_registration(session: IrcClient) -> None:
    """Count an attempt to register from the session's address, before its password is
    hashed: hashing is what a flood of registrations costs.

    Raises:
        AccountError: TEMPORARILY_UNAVAILABLE, past the address's attempts.
    """
    registration_throttle(session.hub, session.ctx.settings.limits).begin(session.host)


async def logged_in(session: IrcClient, account: Account) -> None:
    """Log the client in, before or after registration, and say so (900). The
    account's read markers are loaded first."""
    if refused_banned(session, session.ctx.bans.account_ban(account.uid)):
        return  # a banned account logs nobody in
    accounts = accounts_of(session)
    markers = await accounts.markers(account) if accounts is not None else []
    kept = session.hub.metadata_sink
    profile = await kept.kept(account.uid) if kept is not None else []
    presences = session.hub.presences
    if presences.sink is not None:
        # Before registration completes: whether this connection attaches to the
        # account's user, and what its device missed, depend on them.
        presences.loaded(account.uid, *await presences.sink.loaded(account.uid))
    if session.closed:
        return
    user = session.user
    if user is not None:
        session.hub.log_in(user, account.name, account.uid)
        session.hub.load_markers(account.uid, markers)
        mask = user.mask
        guard = session.nick_guard
        if guard is not None and guard.owner == account.key:
            # The owner it was for: the grace ends with no hold (probe 16: each login
            # began a hold against the owner, longer each time).
            session.ctx.nick_guards.end(guard)
            session.nick_guard = None
        settled = session.hub.settled
        waiting = settled() if settled is not None else None
        if waiting is not None:
            await waiting  # between nodes, the login is applied a round trip later
        if session.closed:
            return
        give_back(session, user)
        session.hub.load_metadata(user, profile)
    else:
        # Not a user yet (SASL before registration): the markers wait for it.
        session.account = account.name
        session.account_id = account.uid
        session.account_markers = markers
        session.account_profile = profile
        mask = f"{session.nick or '*'}!{session.username or '*'}@{session.host}"
    session.numeric(n.RPL_LOGGEDIN, mask, account.name, f"You are now logged in as {account.name}")


def current_account(session: IrcClient) -> str | None:
    return session.user.account if session.user is not None else session.account


# -- draft/account-registration -------------------------------------------------------------


def register(session: IrcClient, message: Message) -> Awaitable[None] | None:
    name, email, password = message.params[0], message.params[1], message.params[2]
    accounts = accounts_of(session)
    if accounts is None:
        session.message("FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE", name, "No accounts here")
        return None
    if current_account(session) is not None:
        session.message("FAIL", "REGISTER", "ALREADY_AUTHENTICATED", name, "You are logged in")
        return None
    settings = session.ctx.settings
    if session.user is None and not settings.register_before_connect:
        session.message(
            "FAIL",
            "REGISTER",
            "COMPLETE_CONNECTION_REQUIRED",
            name,
            "Finish connecting before registering an account",
        )
        return None
    if settings.register_email_required and not looks_like_email(email):
        session.message(
            "FAIL", "REGISTER", "INVALID_EMAIL", name, "An email address is required here"
        )
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
    try:
        session.hub.check_nick(name, session.user)
    except ChatError as error:
        # No land grabs: a nick in use, or one that looks like it, is not registered
        # out from under its holder. A name that is no valid nick is refused below.
        if error.reason is Reason.NICK_IN_USE:
            session.message("FAIL", "REGISTER", "ACCOUNT_EXISTS", name, "That name is in use")
            return None
    return _register(session, accounts, name, "" if email == "*" else email, password)


def looks_like_email(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain) and len(email) <= 200


async def _register(
    session: IrcClient, accounts: Accounts, name: str, email: str, password: str
) -> None:
    try:
        count_registration(session)
        account = await accounts.register(name, password, email)
    except AccountError as error:
        session.message("FAIL", "REGISTER", error.code, name, str(error))
        return
    session.hub.account_registered(account.name)
    if session.closed:
        return
    session.message("REGISTER", "SUCCESS", account.name, "Account created")
    await logged_in(session, account)


def verify(session: IrcClient, message: Message) -> None:
    # draft/account-registration: VERIFY completes a registration that asked for a
    # code. This server creates accounts at once, so no code is ever waited for.
    session.message(
        "FAIL",
        "VERIFY",
        "INVALID_CODE",
        message.params[0],
        "No registration is waiting for a code: accounts here are ready at once",
    )


# -- NickServ ----------------------------------------------------------------------------------


def tell(session: IrcClient, text: str) -> None:
    session.message("NOTICE", session.client, text, source=_NICKSERV_MASK)


# -- nick ownership ---------------------------------------------------------------------------


def _owner(session: IrcClient, accounts: Accounts, nick: str) -> str:
    # One owner for the account's name, its case changes and its look-alikes alike.
    return accounts.owner(nick) or session.hub.casemap.skeleton(nick)


# A timer may fire this much before its deadline by the monotonic clock (the event loop
# rounds its own clock: uvloop's to milliseconds).
_EARLY = 0.01


def guard_nick(session: IrcClient, user: User) -> None:
    """A registered nick held without logging in to its account: warn, and take it back
    when the grace period ends unless its owner logs in (or the user changes nick).

    A nick that only looks like an account's name (``c0c0``, or ``coco`` spelt in
    Cyrillic letters, for the account ``coco``) is guarded alike: held by someone else,
    it would keep the account's own name from its owner. The owner, logged in, may hold
    such a look-alike of their account's name: nobody else could register it or hold
    it at the same time. The grace and the hold after it are the account's, across
    connections (:mod:`~hubbub.doors.irc.nick_guards`): moving between the account's
    names, or reconnecting, does not begin the grace again, and a nick taken while it
    is held is taken back at once (registration refuses one: see IrcSession).
    """
    accounts, later = accounts_of(session), session.ctx.call_later
    if accounts is None or later is None:
        return
    if not accounts.is_registered(user.nick) or _may_hold(session, user.nick):
        return
    owner, now = _owner(session, accounts, user.nick), time.monotonic()
    guards = session.ctx.nick_guards
    guard = guards.get(owner)
    if guard is not None and guard.held_until > now:
        # Registration does not refuse a held nick (SASL may come after NICK): here,
        # once the user is welcomed and not logged in to it, is where it is refused;
        # after the arrival is applied, not inside it.
        held = guard
        later(0, lambda: _refuse_held(session, held))
        return
    if guard is None or guard.deadline <= now:
        guard = guards.begin(owner, now, session.ctx.settings.limits.nick_grace)
    left = guard.deadline - now
    if session.nick_guard is not guard:  # else its take-back is on its way already
        session.nick_guard = guard
        later(left, lambda: _take_back(session, guard, user))
    tell(
        session,
        f"{user.nick} is a registered nick. Log in (SASL, or /msg NickServ IDENTIFY "
        f"<password>) within {left:.0f} seconds, or you will be renamed.",
    )


def nick_held(session: IrcClient, wanted: str) -> bool:
    """Whether ``wanted`` is a name of an account held since a take-back (see
    :mod:`~hubbub.doors.irc.nick_guards`) from those not logged in to it."""
    accounts = accounts_of(session)
    if accounts is None or not accounts.is_registered(wanted) or _may_hold(session, wanted):
        return False
    guard = session.ctx.nick_guards.get(_owner(session, accounts, wanted))
    return guard is not None and guard.held_until > time.monotonic()


def _may_hold(session: IrcClient, nick: str, account: str | None = None) -> bool:
    """Whether the session (or ``account``, when given) may keep ``nick``: the nick is
    its account's name, or looks like it, without being (or being drawn like) another
    account's name: the owner of ``ciaire`` may not take ``cIaire`` from claire (probe
    17)."""
    account = account or current_account(session)
    accounts = accounts_of(session)
    return account is not None and accounts is not None and accounts.owns(account, nick)


def _take_back(session: IrcClient, guard: NickGuard, user: User) -> None:
    now, guards = time.monotonic(), session.ctx.nick_guards
    if guards.get(guard.owner) is not guard or guard.deadline > now + _EARLY:
        return  # a later grace for this account (the user left its names and came back)
    # Held whether or not its names are still taken: stepping off them just before the
    # deadline and back just after began a new grace each time, and kept the nick for
    # good (probe 15). Once per grace, however many took its names during it.
    if guard.held_until <= now:
        guards.hold(guard, now, session.ctx.settings.limits.nick_grace)
    nick = _holding(session, guard, user)
    if nick is not None:
        _rename(session, user, f"{nick} belongs to an account.")


def _refuse_held(session: IrcClient, guard: NickGuard) -> None:
    nick = _holding(session, guard, session.user)
    if nick is not None and session.user is not None:
        _rename(
            session,
            session.user,
            f"{nick} is held: it belongs to an account. Log in to it (SASL, or /msg "
            f"NickServ IDENTIFY {nick} <password>) to have it back.",
        )


def _holding(session: IrcClient, guard: NickGuard, user: User | None) -> str | None:
    """``user``'s nick, if it is one of ``guard``'s account's names that the user may
    not hold. The user is the session's, or was: a user that stays when the session
    that took the nick is gone (always-on, or another device of its account) is taken
    back from all the same (probe 26: else it kept the nick for good)."""
    accounts = accounts_of(session)
    if user is None or accounts is None or session.hub.find_user(user.nick) is not user:
        return None
    nick = user.nick
    if not accounts.is_registered(nick) or _owner(session, accounts, nick) != guard.owner:
        return None
    return None if _may_hold(session, nick, user.account) else nick


def _rename(session: IrcClient, user: User, why: str) -> None:
    """Rename ``user`` to a free Guest nick, and say why to each of its devices here
    (``session``, if still open, and the user's others: probe 27 saw them get the NICK
    with no word of why)."""
    taken = user.nick
    for attempt in range(10):
        guest = f"Guest{secrets.randbelow(100_000):05d}"
        try:
            session.hub.change_nick(user, guest)
        except ChatError:
            if attempt == 9 and not session.closed:
                session.close("Could not free a registered nick")
            continue
        if not session.closed:
            session.renamed_from = (taken, guest)
        for device in {session, *(s for s in sessions_of(user) if isinstance(s, IrcClient))}:
            if not device.closed:
                tell(device, f"You were renamed to {guest}: {why}")
        return


def give_back(session: IrcClient, user: User) -> None:
    """Its owner, renamed away from a nick of its account (connecting while it was held,
    say, without SASL), gets the nick back by logging in, if nobody took it since and
    the user is still the Guest it was made."""
    renamed, session.renamed_from = session.renamed_from, None
    if renamed is None or user.nick != renamed[1] or not _may_hold(session, renamed[0]):
        return
    try:
        session.hub.change_nick(user, renamed[0])
    except ChatError:
        return  # taken meanwhile: the user keeps the Guest nick, and may ask again


COMMANDS: tuple[Command, ...] = (
    ConnectionCommand("REGISTER", unless_banned(register), min_params=3),
    ConnectionCommand("VERIFY", verify, min_params=2),
)
