"""Applying channel mode changes: the rules of each mode (see :mod:`hubbub.core.modes`)."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import ChannelModeChanged
from hubbub.core.model import Channel, ListEntry, User
from hubbub.core.modes import CHANNEL_MODES, PREFIXES, ModeChange, ModeKind, normalize_mask

if TYPE_CHECKING:
    from hubbub.core.hub_base import HubBase

_MAX_KEY_LENGTH = 32


def apply_channel_modes(
    hub: HubBase, user: User, channel: Channel, changes: list[ModeChange]
) -> tuple[list[ModeChange], list[ChatError]]:
    """Apply each change in order; see :meth:`Hub.change_channel_modes`."""
    applied: list[ModeChange] = []
    errors: list[ChatError] = []
    for change in changes:
        try:
            done = _apply_one(hub, user, channel, change)
        except ChatError as error:
            errors.append(error)
            continue
        if done is not None:
            applied.append(done)
    if applied:
        event = ChannelModeChanged(user.actor, channel.name, tuple(applied))
        for member in channel.members:
            member.listener.deliver(event)
    return applied, errors


def _apply_one(
    hub: HubBase, user: User, channel: Channel, change: ModeChange
) -> ModeChange | None:
    kind = CHANNEL_MODES[change.mode]
    mode, adding, param = change.mode, change.adding, change.param
    if kind is ModeKind.FLAG:
        if adding == (mode in channel.flags):
            return None
        (channel.flags.add if adding else channel.flags.discard)(mode)
        return ModeChange(adding, mode)
    if kind is ModeKind.PREFIX:
        return _apply_status(hub, channel, change)
    if kind is ModeKind.LIST:
        return _apply_list(hub, user, channel, change)
    if mode == "k":
        if not adding:
            if channel.password is None:
                return None
            channel.password = None
            return ModeChange(False, "k", "*")
        key = param or ""
        # Relayed to every member in the MODE line: no controls (terminal escapes).
        if (
            not key
            or len(key) > _MAX_KEY_LENGTH
            or any(c in " ,:" or unicodedata.category(c) in ("Cc", "Cf") for c in key)
        ):
            raise ChatError(Reason.INVALID_MODE_PARAM, channel.name, "k")
        channel.password = key
        return ModeChange(True, "k", key)
    # mode == "l"
    if not adding:
        if channel.limit is None:
            return None
        channel.limit = None
        return ModeChange(False, "l")
    try:
        limit = int(param or "")
    except ValueError:
        limit = 0
    if not 0 < limit < 1_000_000_000:
        raise ChatError(Reason.INVALID_MODE_PARAM, channel.name, "l")
    channel.limit = limit
    return ModeChange(True, "l", str(limit))


def _apply_status(hub: HubBase, channel: Channel, change: ModeChange) -> ModeChange | None:
    nick = change.param or ""
    target = hub.find_user(nick)
    if target is None:
        raise ChatError(Reason.NO_SUCH_NICK, nick)
    status = channel.members.get(target)
    if status is None:
        raise ChatError(Reason.USER_NOT_IN_CHANNEL, target.nick, channel.name)
    if change.adding == (change.mode in status):
        return None
    wanted = set(status) ^ {change.mode}
    channel.members[target] = "".join(m for m in PREFIXES if m in wanted)
    return ModeChange(change.adding, change.mode, target.nick)


def _apply_list(
    hub: HubBase, user: User, channel: Channel, change: ModeChange
) -> ModeChange | None:
    mask = normalize_mask(change.param or "")
    if " " in mask or len(mask) > 300:
        raise ChatError(Reason.INVALID_MODE_PARAM, channel.name, change.mode)
    folded = hub.casemap.fold(mask)
    entries = channel.lists[change.mode]
    existing = next((e for e in entries if e.folded == folded), None)
    if change.adding:
        if existing is not None:
            return None
        if len(entries) >= hub.limits.list_length:
            raise ChatError(Reason.LIST_FULL, channel.name, change.mode)
        entries.append(ListEntry(mask, user.mask, hub.clock(), folded))
        return ModeChange(True, change.mode, mask)
    if existing is None:
        return None
    entries.remove(existing)
    return ModeChange(False, change.mode, existing.mask)
