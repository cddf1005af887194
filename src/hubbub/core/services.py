"""Registered channels (ChanServ): registering, dropping and access lists.

Each decides against the state and returns the
:class:`~hubbub.core.events.RegistrationChanged` facts that make its change, applied
(on every node) by :class:`~hubbub.core.apply.Applier`, which keeps the records
through the channels' sink.
"""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.channel_ops import SERVICE
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import ChannelModeChanged, Fact, RegistrationChanged
from hubbub.core.model import User
from hubbub.core.modes import ACCOUNT_PREFIX, MUTE_PREFIX, ModeChange
from hubbub.core.registered import RegisteredChannel, from_json, to_json
from hubbub.core.state import State


def register_channel(state: State, user: User, name: str) -> tuple[RegisteredChannel, list[Fact]]:
    """Register a channel to ``user``'s account (its operator, logged in): the record,
    and the fact that keeps it.

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
    record = record.with_state_of(channel)
    return record, [RegistrationChanged(user.actor, channel.key, to_json(record), new=True)]


def drop_channel(state: State, user: User, name: str) -> list[Fact]:
    """Forget a channel's registration (its founder, or a server operator: a founder
    who is gone for good must not hold a channel forever)."""
    record = state.channels.founded_by(user, name, or_oper=True)
    return [RegistrationChanged(user.actor, record.key, "")]


def set_access(
    state: State, user: User, name: str, account_id: str, account: str, status: str | None
) -> list[Fact]:
    """Give an account (by id, and its name to show) a status on a registered channel,
    or take it away with None (founder only)."""
    record = state.channels.founded_by(user, name)
    access = dict(record.access)
    names = dict(record.names)
    # Bounded as the channel's lists are: the registration travels whole in each of its
    # facts (probe 21).
    growing = status is not None and account_id not in access
    if growing and len(access) >= state.limits.list_length:
        raise ChatError(Reason.LIST_FULL, record.name, "access")
    if status is None:
        access.pop(account_id, None)
        if account_id != record.founder:
            names.pop(account_id, None)
    else:
        access[account_id] = status
        names[account_id] = account
    changed = replace(record, access=access, names=names)
    return [RegistrationChanged(user.actor, record.key, to_json(changed))]


# The lists whose entries let someone in (exceptions to bans, to invite-only).
_GRANTS = ("e", "I")


def forget_account_rights(state: State, account_id: str, name: str = "") -> list[Fact]:
    """An account is gone: the channels it founded are no longer registered, it leaves
    every access list, and the exceptions that name it (``a:name`` and ``m:a:name`` in
    ``+e`` and ``+I``) are taken out, of live channels by ChanServ and of empty
    registered ones in their records: whoever registers the name next is not let in by
    them (probe 28). Bans that name it stay: dropping an account and registering its
    name again must not lift a ban (probe 30); an op lifts one that falls on a
    newcomer."""
    facts: list[Fact] = []
    entry = ACCOUNT_PREFIX + state.casemap.fold(name)
    named = {entry, MUTE_PREFIX + entry} if name else set()
    for channel in state.channels.live.values():
        removals = tuple(
            ModeChange(False, mode, e.mask)
            for mode in _GRANTS
            for e in channel.lists[mode]
            if e.folded in named
        )
        if removals:
            facts.append(ChannelModeChanged(SERVICE, channel.name, removals, state.clock()))
    for record in state.channels.registered.values():
        if record.founder == account_id:
            facts.append(RegistrationChanged(None, record.key, ""))
            continue
        lists = record.lists
        if record.key not in state.channels.live:
            lists = tuple((m, e) for m, e in lists if m not in _GRANTS or e.folded not in named)
        if account_id in record.access or lists != record.lists:
            access = {k: v for k, v in record.access.items() if k != account_id}
            names = {k: v for k, v in record.names.items() if k != account_id}
            changed = replace(record, access=access, names=names, lists=lists)
            facts.append(RegistrationChanged(None, record.key, to_json(changed)))
    return facts


def carry_out(state: State, name: str, order: dict[str, object]) -> list[Fact]:
    """An operator's order from the shell (``hubbub admin channels``) for the registered
    channel ``name``: ``{"drop": true}`` forgets the registration; ``{"founder": ID,
    "name": NAME}`` gives it to that account (the old founder keeps only what the
    access list gives it).

    Raises:
        ChatError: NO_SUCH_CHANNEL, when it is not registered (any more).
        ValueError: an order this code does not know.
    """
    record = state.channels.registered.get(state.channels.casemap.fold(name))
    if record is None:
        raise ChatError(Reason.NO_SUCH_CHANNEL, name)
    if order.get("drop") is True:
        return [RegistrationChanged(None, record.key, "")]
    founder, account = order.get("founder"), order.get("name")
    if not isinstance(founder, str) or not isinstance(account, str) or not founder:
        raise ValueError(f"not an order: {order!r}")
    names = {k: v for k, v in record.names.items() if k != record.founder or k in record.access}
    names[founder] = account
    access = {k: v for k, v in record.access.items() if k != founder}
    changed = replace(record, founder=founder, names=names, access=access)
    return [RegistrationChanged(None, record.key, to_json(changed))]


def apply_registration(state: State, event: RegistrationChanged) -> None:
    """Apply a registration's change (as :class:`~hubbub.core.apply.Applier` applies
    every fact, on every node alike): a registration made, changed or forgotten; one
    refused as it is applied is told to whoever asked."""
    channels = state.channels
    current = channels.registered.get(event.key)
    if not event.record:
        if current is not None:
            channels.unregister(event.key)
        return
    record = from_json(event.key, event.record)
    refusal = None
    limit = state.limits.channels_per_account
    if event.new and current is not None:
        # Registered first elsewhere, earlier in the log.
        refusal = ChatError(Reason.NAME_IN_USE, record.name)
    elif event.new and _founded(state, record.founder) >= limit:
        # Its other registrations, made at once on other connections or nodes, were
        # applied first (each was decided before seeing the others, probe 21).
        detail = f"an account may register at most {limit}"
        refusal = ChatError(Reason.TOO_MANY_CHANNELS, record.name, detail)
    if refusal is not None:
        actor = event.actor and state.users.by_id.get(event.actor.id)
        if actor:
            actor.listener.refused(event, refusal)
        return
    if not event.new and (current is None or not _same_registration(event, current, record)):
        return  # dropped (or dropped and registered again) meanwhile
    live = channels.live.get(event.key)
    channels.keep(record if live is None else record.with_state_of(live))


def _founded(state: State, account_id: str) -> int:
    return sum(r.founder == account_id for r in state.channels.registered.values())


def _same_registration(
    event: RegistrationChanged, current: RegisteredChannel, record: RegisteredChannel
) -> bool:
    """Whether a change is to the registration that holds now: one of the same founder,
    or, by the server's order (an operator's transfer), the same registration (made at
    the same moment) given to another founder."""
    if current.founder == record.founder:
        return True
    return event.actor is None and current.created == record.created
