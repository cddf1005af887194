"""Deciding channel mode changes, the rules of each mode (see :mod:`hubbub.core.modes`),
and applying a decided one (:func:`apply_mode`, for :mod:`~hubbub.core.apply`).

A MODE line's changes are decided in order against a draft of the channel's modes, so
that a later change sees the earlier ones (``+k a -k``, ``+bb x x``); the channel itself
changes only when the resulting event is applied.
"""

from __future__ import annotations

import unicodedata

from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import Channel, ListEntry
from hubbub.core.modes import (
    CHANNEL_MODES,
    MASK_BYTES,
    PREFIXES,
    ModeChange,
    ModeKind,
    normalize_mask,
)
from hubbub.core.state import State

_MAX_KEY_LENGTH = 32


class _Draft:
    """The parts of a channel's modes that a MODE line may change, copied."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.flags = set(channel.flags)
        self.password = channel.password
        self.limit = channel.limit
        self.lists = {mode: [e.folded for e in entries] for mode, entries in channel.lists.items()}
        self.masks = {
            mode: {e.folded: e.mask for e in entries} for mode, entries in channel.lists.items()
        }
        self.statuses: dict[str, str] = {}


def _has_controls(text: str) -> bool:
    # Line and paragraph separators too: some clients break a line at them.
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)


def decide_channel_modes(
    state: State, channel: Channel, changes: list[ModeChange]
) -> tuple[list[ModeChange], list[ChatError]]:
    """The changes that would take effect, each as it is to be applied, and the
    refusals of single changes."""
    draft = _Draft(channel)
    applied: list[ModeChange] = []
    errors: list[ChatError] = []
    for change in changes:
        try:
            done = _decide_one(state, draft, change)
        except ChatError as error:
            errors.append(error)
            continue
        if done is not None:
            applied.append(done)
    return applied, errors


def _decide_one(state: State, draft: _Draft, change: ModeChange) -> ModeChange | None:
    kind = CHANNEL_MODES[change.mode]
    mode, adding, param = change.mode, change.adding, change.param
    name = draft.channel.name
    if kind is ModeKind.FLAG:
        if adding == (mode in draft.flags):
            return None
        (draft.flags.add if adding else draft.flags.discard)(mode)
        return ModeChange(adding, mode)
    if kind is ModeKind.PREFIX:
        return _decide_status(state, draft, change)
    if kind is ModeKind.LIST:
        return _decide_list(state, draft, change)
    if mode == "k":
        if not adding:
            if draft.password is None:
                return None
            draft.password = None
            return ModeChange(False, "k", "*")
        key = param or ""
        # Relayed to every member in the MODE line: no controls (terminal escapes).
        if not key or len(key) > _MAX_KEY_LENGTH or any(c in " ,:" for c in key):
            raise ChatError(Reason.INVALID_MODE_PARAM, name, "k")
        if _has_controls(key):
            raise ChatError(Reason.INVALID_MODE_PARAM, name, "k")
        draft.password = key
        return ModeChange(True, "k", key)
    # mode == "l"
    if not adding:
        if draft.limit is None:
            return None
        draft.limit = None
        return ModeChange(False, "l")
    try:
        limit = int(param or "")
    except ValueError:
        limit = 0
    if not 0 < limit < 1_000_000_000:
        raise ChatError(Reason.INVALID_MODE_PARAM, name, "l")
    draft.limit = limit
    return ModeChange(True, "l", str(limit))


def _decide_status(state: State, draft: _Draft, change: ModeChange) -> ModeChange | None:
    nick = change.param or ""
    target = state.users.find(nick)
    if target is None:
        raise ChatError(Reason.NO_SUCH_NICK, nick)
    status = draft.statuses.get(target.id, draft.channel.members.get(target))
    if status is None:
        raise ChatError(Reason.USER_NOT_IN_CHANNEL, target.nick, draft.channel.name)
    if change.adding == (change.mode in status):
        return None
    wanted = set(status) ^ {change.mode}
    draft.statuses[target.id] = "".join(m for m in PREFIXES if m in wanted)
    return ModeChange(change.adding, change.mode, target.nick)


def _decide_list(state: State, draft: _Draft, change: ModeChange) -> ModeChange | None:
    param = change.param or ""
    if not change.adding and state.casemap.fold(param) in draft.lists[change.mode]:
        mask = param  # removed as it is shown (an entry kept from before: "$a:x!*@*")
    else:
        try:
            mask = normalize_mask(param)
        except ValueError:
            raise ChatError(Reason.INVALID_MODE_PARAM, draft.channel.name, change.mode) from None
    # Shown to members in the MODE line and in list replies: no controls (terminal
    # escapes) nor format characters, as for keys.
    # Only an addition is bounded: an entry kept from before the bound can be removed.
    too_long = change.adding and len(mask.encode()) > MASK_BYTES
    if " " in mask or too_long or _has_controls(mask):
        raise ChatError(Reason.INVALID_MODE_PARAM, draft.channel.name, change.mode)
    folded = state.casemap.fold(mask)
    if change.adding and len(folded.encode()) > MASK_BYTES:
        # Folding may grow a mask (NFKC: U+FDFA is eighteen letters), and the folded
        # form is what is kept and sent between nodes (probe 21).
        raise ChatError(Reason.INVALID_MODE_PARAM, draft.channel.name, change.mode)
    entries = draft.lists[change.mode]
    if change.adding:
        if folded in entries:
            return None
        # One bound for the three lists together, as MAXLIST=beI: says: a bound on each
        # let a channel hold three times what was advertised.
        if sum(map(len, draft.lists.values())) >= state.limits.list_length:
            raise ChatError(Reason.LIST_FULL, draft.channel.name, change.mode)
        entries.append(folded)
        draft.masks[change.mode][folded] = mask
        return ModeChange(True, change.mode, mask)
    if folded not in entries:
        return None
    entries.remove(folded)
    return ModeChange(False, change.mode, draft.masks[change.mode][folded])


def list_full(state: State, channel: Channel, change: ModeChange) -> bool:
    """Whether ``change`` adds a new entry to a channel whose lists hold their bound
    already (checked as the change is applied: changes decided at once, on several
    connections or nodes, each saw room)."""
    if not change.adding or CHANNEL_MODES[change.mode] is not ModeKind.LIST:
        return False
    folded = state.casemap.fold(change.param or "")
    if any(entry.folded == folded for entry in channel.lists[change.mode]):
        return False
    return sum(map(len, channel.lists.values())) >= state.limits.list_length


def apply_mode(
    state: State, channel: Channel, change: ModeChange, setter: str, time: float
) -> bool:
    """Apply one decided channel mode change; True when it is one a registration keeps
    (anything but a member's status)."""
    kind = CHANNEL_MODES[change.mode]
    mode, adding, param = change.mode, change.adding, change.param
    if kind is ModeKind.FLAG:
        (channel.flags.add if adding else channel.flags.discard)(mode)
    elif kind is ModeKind.PREFIX:
        target = state.users.find(param or "")
        status = channel.members.get(target) if target is not None else None
        if target is None or status is None:
            return False
        wanted = set(status) | {mode} if adding else set(status) - {mode}
        channel.members[target] = "".join(m for m in PREFIXES if m in wanted)
        return False
    elif kind is ModeKind.LIST:
        mask = param or ""
        folded = state.casemap.fold(mask)
        entries = channel.lists[mode]
        entries[:] = [e for e in entries if e.folded != folded]
        if adding:
            entries.append(ListEntry(mask, setter, time, folded))
    elif mode == "k":
        channel.password = param if adding else None
    else:  # mode == "l"
        channel.limit = int(param or "0") if adding else None
    return True
