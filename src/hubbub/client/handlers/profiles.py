"""Profiles (IRCv3 draft/metadata-3): the display names the client shows beside nicks,
and the answers to ``/profile``. No I/O.

The session subscribes to ``display-name`` once registered; the server then tells of
each display name of someone sharing a channel (RPL_KEYVALUE, RPL_KEYNOTSET), as they
join and as they change it.

A display name is kept by nick, and a nick passes from one person to another: the server
says nothing of a newcomer who sets no keys, so a name left behind would be shown for
whoever takes the nick next. The channel handlers therefore move it on NICK (the same
person, :func:`carry_over`) and forget it on QUIT and once no joined channel is shared
with its holder (:func:`forget_unshared`).
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.client.handlers.table import Table, ignored
from hubbub.client.state import ChatState, LineKind, MembersChanged
from hubbub.client.text import clean
from hubbub.wire import numerics as n
from hubbub.wire.message import Message

TABLE = Table()
handles = TABLE.handles

DISPLAY_NAME = "display-name"
# A display name longer than this is cut: the member list is narrow.
_SHOWN = 40

# Subscriptions answered: nothing to show. The session asks SYNC after 774 itself.
handles(n.RPL_METADATASUBOK, n.RPL_METADATAUNSUBOK, n.RPL_METADATASYNCLATER)(ignored)


def _shown_in(state: ChatState, nick: str) -> None:
    """The member lists that show ``nick`` are drawn again."""
    key = state.fold(nick)
    for buffer in state.buffers.values():
        if key in buffer.members:
            state._updates.append(MembersChanged(buffer.key))


def forget_unshared(state: ChatState, nicks: Iterable[str]) -> None:
    """Forget the display names of those of ``nicks`` in no joined channel (never ours)."""
    for nick in nicks:
        key = state.fold(nick)
        if state.is_me(nick) or key not in state.display_names:
            continue
        if not any(b.joined and key in b.members for b in state.buffers.values()):
            del state.display_names[key]


def carry_over(state: ChatState, old: str, new: str) -> None:
    """``old`` is now ``new``: the same person, so the same display name. Whatever was
    kept for ``new`` belonged to someone who has since left that nick."""
    name = state.display_names.pop(state.fold(old), None)
    if name is None:
        state.display_names.pop(state.fold(new), None)
    else:
        state.display_names[state.fold(new)] = name


@handles(n.RPL_KEYVALUE, n.RPL_KEYNOTSET)
def _value(state: ChatState, message: Message) -> None:
    # <client> <target> <key> <visibility> :<value>, or <client> <target> <key> :text
    if len(message.params) < 4:
        return
    target, key = message.params[1], message.params[2]
    value = (
        message.params[4]
        if message.command == n.RPL_KEYVALUE and len(message.params) > 4
        else None
    )
    if state.is_me(target):
        # An answer to /profile, or the account's keys given at login.
        state.note(f"{key}: {value}" if value is not None else f"{key}: not set")
    if key != DISPLAY_NAME or state.is_channel(target):
        return
    folded = state.fold(target)
    if value:
        state.display_names[folded] = clean(value, _SHOWN)
    elif state.display_names.pop(folded, None) is None:
        return
    _shown_in(state, target)


@handles(n.RPL_WHOISKEYVALUE)
def _whois_value(state: ChatState, message: Message) -> None:
    # <client> <nick> <key> <visibility> :<value>
    if len(message.params) < 5:
        return
    nick, key, value = message.params[1], message.params[2], message.params[4]
    state.note(f"{nick} {key}: {value}", None, LineKind.DETAIL)


@handles(n.RPL_METADATASUBS)
def _subscriptions(state: ChatState, message: Message) -> None:
    state.note("Subscribed to: " + " ".join(message.params[1:]))
