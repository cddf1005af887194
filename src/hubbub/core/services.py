"""Registered channels (ChanServ): registering, dropping and access lists.

These change kept records, not the live chat, so they act on the
:class:`~hubbub.core.channels.Channels` owner directly; it keeps each change through
its sink.
"""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import User
from hubbub.core.registered import RegisteredChannel
from hubbub.core.state import State


def register_channel(state: State, user: User, name: str) -> RegisteredChannel:
    """Register a channel to ``user``'s account (its operator, logged in).

    Raises:
        ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, NO_PRIVILEGES (not
            logged in), NAME_IN_USE (already registered), TOO_MANY_CHANNELS (the
            account has registered channels_per_account already).
    """
    channels = state.channels
    channel = channels.member_channel(user, name)
    if not channel.is_op(user):
        raise ChatError(Reason.CHANOP_NEEDED, channel.name)
    founder = user.account_id
    if founder is None or user.account is None:
        raise ChatError(Reason.NO_PRIVILEGES, channel.name, "log in to an account first")
    if channel.key in channels.registered:
        raise ChatError(Reason.NAME_IN_USE, channel.name)
    # Without a bound one account could hold any number of names for good (Atheme's
    # maxchans does the same).
    allowed = state.limits.channels_per_account
    if sum(r.founder == founder for r in channels.registered.values()) >= allowed:
        detail = f"an account may register at most {allowed}"
        raise ChatError(Reason.TOO_MANY_CHANNELS, channel.name, detail)
    record = RegisteredChannel(
        channel.key,
        channel.name,
        founder,
        state.clock(),
        names={founder: user.account},
        # What was said since this incarnation began stays readable.
        incarnation=channel.incarnation,
    )
    channels.keep(record.with_state_of(channel))
    return channels.registered[channel.key]


def drop_channel(state: State, user: User, name: str) -> None:
    """Forget a channel's registration (its founder, or a server operator: a founder
    who is gone for good must not hold a channel forever)."""
    record = state.channels.founded_by(user, name, or_oper=True)
    state.channels.unregister(record.key)


def set_access(
    state: State, user: User, name: str, account_id: str, account: str, status: str | None
) -> None:
    """Give an account (by id, and its name to show) a status on a registered channel,
    or take it away with None (founder only)."""
    record = state.channels.founded_by(user, name)
    access = dict(record.access)
    names = dict(record.names)
    if status is None:
        access.pop(account_id, None)
        if account_id != record.founder:
            names.pop(account_id, None)
    else:
        access[account_id] = status
        names[account_id] = account
    state.channels.keep(replace(record, access=access, names=names))


def forget_account_rights(state: State, account_id: str) -> None:
    """An account is gone: the channels it founded are no longer registered, and it
    leaves every access list."""
    channels = state.channels
    for record in list(channels.registered.values()):
        if record.founder == account_id:
            channels.unregister(record.key)
        elif account_id in record.access:
            access = {k: v for k, v in record.access.items() if k != account_id}
            names = {k: v for k, v in record.names.items() if k != account_id}
            channels.keep(replace(record, access=access, names=names))
