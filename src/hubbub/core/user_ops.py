"""What users do to themselves and each other: nicks, quits, kills, away, accounts,
real names, user modes, WALLOPS and read markers.

Each function checks a request against the state and returns the events it causes,
changing nothing (:mod:`~hubbub.core.apply` does); a refusal raises
:class:`~hubbub.core.errors.ChatError`.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AccountChanged,
    Actor,
    AwayChanged,
    Event,
    Killed,
    MarkerMoved,
    NickChanged,
    Quit,
    RealnameChanged,
    UserArrived,
    UserModeChanged,
    Wallops,
)
from hubbub.core.markers import owner_of
from hubbub.core.model import User
from hubbub.core.modes import ModeChange
from hubbub.core.state import State
from hubbub.wire.casemap import Key


def arrive(
    state: State,
    nick: str,
    username: str,
    host: str,
    realname: str,
    secure: bool,
    account: str | None,
    account_id: str | None,
) -> UserArrived:
    """A new user, with a new id, claims ``nick``.

    Raises:
        ChatError: ERRONEOUS_NICK or NICK_IN_USE.
    """
    user_id = state.ids.new()
    nick = state.users.check_nick(nick)
    state.users.claim(nick, user_id)
    if account is None or account_id is None or account_id in state.dropped_accounts:
        account = account_id = None
    actor = Actor(nick, username, host, realname, account, id=user_id)
    return UserArrived(actor, state.clock(), secure, account_id)


def change_nick(state: State, user: User, nick: str) -> list[Event]:
    """Raises:
    ChatError: ERRONEOUS_NICK or NICK_IN_USE."""
    nick = state.users.check_nick(nick, user.id)
    if nick == user.nick:
        return []
    state.users.claim(nick, user.id)
    return [NickChanged(user.actor, nick)]


def kill(state: State, killer: User, nick: str, reason: str) -> tuple[User, list[Event]]:
    """Raises:
    ChatError: NO_PRIVILEGES or NO_SUCH_NICK."""
    if not killer.is_oper:
        raise ChatError(Reason.NO_PRIVILEGES)
    victim = state.users.find(nick)
    if victim is None:
        raise ChatError(Reason.NO_SUCH_NICK, nick)
    message = f"Killed ({killer.nick} ({reason}))"
    return victim, [
        Killed(killer.actor, victim.nick, reason, victim.id),
        Quit(victim.actor, message, forced=True),
    ]


def set_away(state: State, user: User, text: str | None) -> list[Event]:
    away = text[: state.limits.awaylen] if text else None
    if away == user.away:
        return []
    return [AwayChanged(user.actor, away)]


def log_in(state: State, user: User, account: str | None, account_id: str | None) -> list[Event]:
    """Log ``user`` in to an account (by name and id), or out with None; what it read
    before logging in counts for the account. An account dropped meanwhile logs nobody
    in."""
    if account is None or account_id is None or account_id in state.dropped_accounts:
        account = account_id = None
    if user.account_id == account_id and user.account == account:
        return []
    events: list[Event] = [AccountChanged(user.actor, account, account_id)]
    if account_id is not None:
        owner = owner_of(user.id, None)
        mine = state.markers.of(owner)
        events.extend(_marker_moves(state, user, owner_of(user.id, account_id), mine, quiet=True))
    return events


def set_realname(user: User, realname: str) -> list[Event]:
    return [RealnameChanged(user.actor, realname)]


def change_user_modes(
    user: User, changes: Iterable[ModeChange], allow_oper: bool = False
) -> list[ModeChange]:
    """The user mode changes that would change something.

    ``+o`` comes only from OPER; a user may drop it with ``-o``; ``+r`` is the
    server's to give.
    """
    modes = set(user.modes)
    applied = []
    for change in changes:
        if change.mode == "o" and change.adding and not allow_oper:
            continue
        if change.mode == "r" or change.adding == (change.mode in modes):
            continue
        (modes.add if change.adding else modes.discard)(change.mode)
        applied.append(change)
    return applied


def user_modes_changed(
    user: User, applied: list[ModeChange], oper_name: str | None = None
) -> list[Event]:
    if not applied and oper_name is None:
        return []
    return [UserModeChanged(user.actor, user.nick, tuple(applied), oper_name)]


def wallops(user: User, text: str) -> list[Event]:
    """Raises:
    ChatError: NO_PRIVILEGES for a non-operator."""
    if not user.is_oper:
        raise ChatError(Reason.NO_PRIVILEGES)
    return [Wallops(user.actor, text)]


def mark_read(state: State, user: User, target: str, moment: float) -> list[Event]:
    """Move ``user``'s read marker of a target forward (never back)."""
    key = state.casemap.fold(target)
    owner = owner_of(user.id, user.account_id)
    return _marker_moves(state, user, owner, {key: moment}, target)


def _marker_moves(
    state: State,
    user: User,
    owner: str,
    moves: dict[Key, float],
    target: str = "",
    quiet: bool = False,
) -> list[Event]:
    return [
        MarkerMoved(target or key, marker, owner, key, forgotten, user.id, quiet)
        for key, marker, forgotten in state.markers.plan(owner, moves.items())
    ]
