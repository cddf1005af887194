"""Server bans for operators: KLINE and UNKLINE (``user@host`` masks, and accounts as
``$a:name``), DLINE and UNDLINE (addresses and networks), and STATS K and D to list
them. The forms are solanum's and InspIRCd's: ``KLINE [minutes] mask :reason``.

A ban is kept before it is announced: the handler waits for the store, then the ban
book (the wiring's) holds it and disconnects whoever it covers. Refusals are notices
that say what is wrong, since a client shows those whatever it knows of numerics."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.core.ports import StoreUnavailable
from hubbub.core.server_bans import (
    ACCOUNT_PREFIX,
    QUIT_MESSAGES,
    BadBan,
    BanKind,
    ServerBan,
    expiry,
    mask_key,
    matches,
    network_of,
    reason_of,
    unidented_form,
)
from hubbub.doors.irc.command import Command, ConnectionHandler, UserCommand
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

_NAMES = {BanKind.MASK: "K-line", BanKind.ADDRESS: "D-line", BanKind.ACCOUNT: "account ban"}


def refused_banned(session: IrcClient, ban: ServerBan | None) -> bool:
    """Refuse the client for ``ban`` (465, then ERROR and close); whether it was."""
    if ban is None:
        return False
    session.numeric(n.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {ban.reason}")
    session.close(QUIT_MESSAGES[ban.kind])
    return True


def refused_unregistered(session: IrcClient) -> bool:
    """Refuse a client still registering that a ban covers already, as completing its
    registration would (whether it was): a K-lined client must not create accounts
    or guess passwords with SASL before CAP END (probe 22).

    Before USER the username is not known; ``~``, the start of every username here,
    stands for it, so the bans that cover every user of a host are asked.
    """
    if session.user is not None:
        return False
    ban = session.ctx.bans.user_ban(session.username or "~", session.host, session.account_id)
    return refused_banned(session, ban)


def unless_banned(handler: ConnectionHandler) -> ConnectionHandler:
    """``handler``, run only for a client that no ban covers yet while it registers
    (:func:`refused_unregistered`); after registration, as it is."""

    def checked(session: IrcClient, message: Message) -> Awaitable[None] | None:
        return None if refused_unregistered(session) else handler(session, message)

    return checked


def _tell(session: IrcClient, user: User, text: str) -> None:
    session.message("NOTICE", user.nick, f"*** {text}")


def _duration(params: list[str]) -> tuple[int | None, list[str]]:
    """The leading minutes of KLINE and DLINE, if given, and the rest.

    Raises:
        BadBan: a number out of range.
    """
    if len(params) > 1 and params[0].isascii() and params[0].isdigit():
        if len(params[0]) > 9:
            raise BadBan("the duration must be 1 to 5256000 minutes (or none: permanent)")
        return int(params[0]), params[1:]
    return None, params


def _mask_for(session: IrcClient, target: str) -> str:
    """A K-line's mask: as given, or for a nick (a word with no dot), ``*@`` its host.

    Raises:
        BadBan: a nick no one has.
    """
    if any(c in target for c in "@.:/*?"):
        return target
    found = session.hub.state.users.find(target)
    if found is None:
        raise BadBan(f"no user {target[:60]!r} is online (a host needs a dot)")
    return f"*@{found.host}"


def kline(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return _set(session, user, message, BanKind.MASK)


def dline(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return _set(session, user, message, BanKind.ADDRESS)


def unkline(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return _lift(session, user, message.params[0], BanKind.MASK)


def undline(session: IrcClient, user: User, message: Message) -> Awaitable[None] | None:
    return _lift(session, user, message.params[0], BanKind.ADDRESS)


def _set(
    session: IrcClient, user: User, message: Message, kind: BanKind
) -> Awaitable[None] | None:
    verb = message.command
    try:
        minutes, rest = _duration(list(message.params))
        if not rest:
            what = "user@host" if kind is BanKind.MASK else "address"
            raise BadBan(f"usage: {verb} [minutes] {what} :reason")
        target = rest[0]
        reason = reason_of(" ".join(rest[1:]))
        now = session.ctx.bans.clock()
        expires = expiry(minutes, now)
        set_by = f"{user.nick} ({user.oper_name or user.nick})"
        if kind is BanKind.MASK and target.startswith(ACCOUNT_PREFIX):
            return _set_account(
                session, user, target[len(ACCOUNT_PREFIX) :], reason, set_by, now, expires
            )
        if kind is BanKind.MASK:
            key, label = mask_key(_mask_for(session, target))
        else:
            key = label = str(network_of(target))
    except BadBan as problem:
        _tell(session, user, f"{verb}: {problem}")
        return None
    return _keep(session, user, ServerBan(kind, key, label, reason, set_by, now, expires))


async def _set_account(
    session: IrcClient,
    user: User,
    name: str,
    reason: str,
    set_by: str,
    now: float,
    expires: float | None,
) -> None:
    accounts = session.ctx.accounts
    account = await accounts.find(name) if accounts is not None and name else None
    if account is None:
        _tell(session, user, f"KLINE: there is no account {name[:60]!r}")
        return
    ban = ServerBan(BanKind.ACCOUNT, account.uid, account.name, reason, set_by, now, expires)
    await _keep(session, user, ban)


async def _keep(session: IrcClient, user: User, ban: ServerBan) -> None:
    book = session.ctx.ban_book
    if book is None:
        _tell(session, user, "Bans are not available on this server.")
        return
    if matches(ban, user):
        # An operator locked out by a typo needs someone else to undo it.
        _tell(session, user, f"{_NAMES[ban.kind].capitalize()} refused: it would cover you.")
        return
    try:
        disconnected = await book.add(ban)
    except StoreUnavailable:
        _tell(
            session,
            user,
            f"The {_NAMES[ban.kind]} could not be saved (the database is unavailable); "
            "nothing changed.",
        )
        return
    session.log.info("%s set a %s: %s", user.mask, _NAMES[ban.kind], ban.describe(ban.set_at))
    kept = "" if book.kept else " (not kept: this server has no database)"
    users = f"{disconnected} user{'' if disconnected == 1 else 's'} disconnected"
    _tell(
        session,
        user,
        f"{_NAMES[ban.kind].capitalize()} set: {ban.describe(ban.set_at)}; {users}{kept}",
    )
    if disconnected == 0:
        _warn_uncovered(session, user, ban)


def _warn_uncovered(session: IrcClient, user: User, ban: ServerBan) -> None:
    # A ban that silently covers no one is most often a mistyped mask, which the
    # operator would otherwise only find when the abuser carries on.
    meant = unidented_form(ban, session.hub.state.users)
    if meant is not None:
        _tell(
            session,
            user,
            f"It covers no one online. Unidented users' names start with ~: "
            f"{meant} would cover some (UNKLINE {ban.label} first).",
        )
    else:
        _tell(session, user, "It covers no one online now.")


def _lift(session: IrcClient, user: User, target: str, kind: BanKind) -> Awaitable[None] | None:
    try:
        if kind is BanKind.MASK and target.startswith(ACCOUNT_PREFIX):
            return _lift_account(session, user, target[len(ACCOUNT_PREFIX) :])
        key = mask_key(target)[0] if kind is BanKind.MASK else str(network_of(target))
    except BadBan as problem:
        _tell(session, user, f"UN{'K' if kind is BanKind.MASK else 'D'}LINE: {problem}")
        return None
    return _forget(session, user, kind, key, target)


async def _lift_account(session: IrcClient, user: User, name: str) -> None:
    folded = name.casefold()
    for ban in session.ctx.bans:
        if ban.kind is BanKind.ACCOUNT and ban.label.casefold() == folded:
            await _forget(session, user, BanKind.ACCOUNT, ban.mask, ban.label)
            return
    _tell(session, user, f"There is no account ban on {name[:60]!r}.")


async def _forget(session: IrcClient, user: User, kind: BanKind, key: str, shown: str) -> None:
    book = session.ctx.ban_book
    if book is None:
        _tell(session, user, "Bans are not available on this server.")
        return
    try:
        lifted = await book.remove(kind, key)
    except StoreUnavailable:
        _tell(
            session,
            user,
            f"The {_NAMES[kind]} could not be lifted (the database is unavailable); "
            "nothing changed.",
        )
        return
    if lifted is None:
        _tell(session, user, f"There is no {_NAMES[kind]} on {shown[:60]}.")
        return
    session.log.info("%s lifted a %s: %s", user.mask, _NAMES[kind], lifted.label)
    _tell(session, user, f"{_NAMES[kind].capitalize()} on {lifted.label} lifted.")


def stats(session: IrcClient, user: User, message: Message) -> None:
    """STATS K (K-lines and account bans) and STATS D (D-lines), for operators; other
    letters list nothing."""
    letter = message.params[0][:1].upper() if message.params else ""
    if letter in ("K", "D"):
        if not user.is_oper:
            session.numeric(n.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
            return
        bans = session.ctx.bans
        now = bans.clock()
        for ban in bans:
            if not ban.active(now):
                continue
            if letter == "K" and ban.kind is not BanKind.ADDRESS:
                user_part, _, host = ban.label.rpartition("@")
                if ban.kind is BanKind.ACCOUNT:
                    user_part, host = "*", ACCOUNT_PREFIX + ban.label
                session.numeric(
                    n.RPL_STATSKLINE, "K", host, "*", user_part or "*", ban.describe(now)
                )
            elif letter == "D" and ban.kind is BanKind.ADDRESS:
                session.numeric(n.RPL_STATSDLINE, "D", ban.label, ban.describe(now))
    session.numeric(n.RPL_ENDOFSTATS, letter or "*", "End of /STATS report")


COMMANDS: tuple[Command, ...] = (
    UserCommand("KLINE", kline, min_params=1, oper=True),
    UserCommand("UNKLINE", unkline, min_params=1, oper=True),
    UserCommand("DLINE", dline, min_params=1, oper=True),
    UserCommand("UNDLINE", undline, min_params=1, oper=True),
    UserCommand("STATS", stats),
)
