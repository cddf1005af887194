"""Metadata (IRCv3 draft/metadata-3): keys and values on users and channels, such as a
display name, an avatar or a status.

The rules: a key's name is letters, digits and ``_.:-`` (not first ``:``), compared
without case; a value is UTF-8 text without control characters, within
``metadata_value_bytes``; a user or channel holds at most ``metadata_keys``. A user sets
its own keys only; a channel's are set by its operators. Keys whose name begins with
``private.`` are private: only the user they are on (for a channel, its operators) reads
them. The ``avatar`` key holds a URL the server never fetches: an ``https:`` one, or a
``data:`` image (PNG, GIF, JPEG or WebP) within the value's bound.

:func:`change` and :func:`clear` decide a change (raising :class:`ChatError`), as the
other operations do; :func:`apply_metadata` makes it and hands it to whoever may hear
of it: the channel's members, or the user and everyone sharing a channel with it. Doors
show each only to those subscribed to its keys (``METADATA SUB``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import MetadataChanged, MetadataValue
from hubbub.core.model import NO_METADATA, Channel, User
from hubbub.core.state import State

PRIVATE_PREFIX = "private."
# The visibility shown with a value: "*" for everyone's keys.
PUBLIC = "*"
PRIVATE = "private"

_KEY = re.compile(r"[a-z0-9_.\-][a-z0-9_.:\-]*")
# C0 controls, DEL and the C1 controls: a value is shown to people, and a control
# character in it could rewrite what their terminal shows.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HTTPS = re.compile(r"https://[^\s/?#@]+(?:[/?#]\S*)?", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}")


def valid_key(key: str, length: int) -> bool:
    """Whether ``key`` (folded) is a key's name: IRCv3 metadata, "Key names MUST be
    restricted to the ranges A-Z, a-z, 0-9, and _.:- ... MUST NOT start with a colon"."""
    return len(key.encode()) <= length and _KEY.fullmatch(key) is not None


def fold_key(key: str) -> str:
    """Key names "are case-insensitive": each is kept and shown in lower case."""
    return key.lower()


def visibility(key: str) -> str:
    return PRIVATE if key.startswith(PRIVATE_PREFIX) else PUBLIC


def valid_avatar(url: str) -> bool:
    """Whether ``url`` may be an avatar: https (which a web page may show without mixed
    content), or an inline image of a type that carries no script (no SVG)."""
    return _HTTPS.fullmatch(url) is not None or _DATA_IMAGE.fullmatch(url) is not None


def check_value(key: str, value: str, limit: int) -> None:
    """Refuse a value that is too long, holds control characters, or is no avatar.

    Raises:
        ChatError: INVALID_VALUE, with the key as subject.
    """
    if len(value.encode()) > limit:
        raise ChatError(Reason.INVALID_VALUE, key, f"longer than {limit} bytes")
    if _CONTROL.search(value) is not None:
        raise ChatError(Reason.INVALID_VALUE, key, "control characters")
    if key == "avatar" and not valid_avatar(value):
        raise ChatError(Reason.INVALID_VALUE, key, "an avatar is an https: URL or a data: image")


def is_channel_name(target: str) -> bool:
    return target.startswith("#")


def find_target(state: State, user: User, target: str) -> User | Channel:
    """The user (``*``: oneself) or channel ``target`` names.

    Raises:
        ChatError: NO_SUCH_NICK or NO_SUCH_CHANNEL.
    """
    if target == "*":
        return user
    if is_channel_name(target):
        channel = state.channels.find(target)
        if channel is None or not channel.visible_to(user):
            raise ChatError(Reason.NO_SUCH_CHANNEL, target)
        return channel
    found = state.users.find(target)
    if found is None:
        raise ChatError(Reason.NO_SUCH_NICK, target)
    return found


def readable(reader: User, owner: User | Channel) -> bool:
    """Whether ``reader`` may read ``owner``'s public keys: a user's, anyone; a
    channel's, its members and server operators, and others while it is neither secret,
    private nor invite-only."""
    if isinstance(owner, User):
        return True
    return (
        reader in owner.members
        or reader.is_oper
        or (owner.flags.isdisjoint("psi") and owner.shown_to(reader))
    )


def readable_key(reader: User, owner: User | Channel, key: str) -> bool:
    """Whether ``reader`` may read ``key`` on ``owner``: a private key is its owner's
    (a channel's, its operators') alone."""
    if not key.startswith(PRIVATE_PREFIX):
        return readable(reader, owner)
    if isinstance(owner, User):
        return reader is owner
    return owner.is_op(reader)


def may_change(user: User, owner: User | Channel) -> bool:
    """A user changes its own keys; a channel's are its operators'."""
    if isinstance(owner, User):
        return owner is user
    return owner.is_op(user)


def name_of(owner: User | Channel) -> str:
    return owner.nick if isinstance(owner, User) else owner.name


def change(
    state: State, user: User, target: str, key: str, value: str | None
) -> tuple[User | Channel, MetadataChanged | None]:
    """Set (or, with None or "", remove) one key of ``target``: the owner, and the fact
    (None when nothing changes).

    Raises:
        ChatError: the target's refusal (see :func:`find_target`), INVALID_KEY,
            KEY_NO_PERMISSION, INVALID_VALUE or LIMIT_REACHED.
    """
    limits = state.limits
    owner = find_target(state, user, target)
    folded = fold_key(key)
    if not valid_key(folded, limits.metadata_key_length):
        raise ChatError(Reason.INVALID_KEY, key)
    if not may_change(user, owner):
        raise ChatError(Reason.KEY_NO_PERMISSION, name_of(owner), folded)
    kept = owner.metadata
    if not value:
        if folded not in kept:
            return owner, None
        return owner, _fact(user, owner, (MetadataValue(folded, None),))
    check_value(folded, value, limits.metadata_value_bytes)
    if kept.get(folded) == value:
        return owner, None
    if folded not in kept and len(kept) >= limits.metadata_keys:
        raise ChatError(Reason.LIMIT_REACHED, name_of(owner), str(limits.metadata_keys))
    return owner, _fact(user, owner, (MetadataValue(folded, value),))


def clear(state: State, user: User, target: str) -> tuple[User | Channel, MetadataChanged | None]:
    """Remove every key of ``target``: the owner, and the fact (None if it had none).

    Raises:
        ChatError: the target's refusal, or KEY_NO_PERMISSION.
    """
    owner = find_target(state, user, target)
    if not may_change(user, owner):
        raise ChatError(Reason.KEY_NO_PERMISSION, name_of(owner), "*")
    if not owner.metadata:
        return owner, None
    removed = tuple(MetadataValue(key, None) for key in sorted(owner.metadata))
    return owner, _fact(user, owner, removed)


def _fact(
    user: User, owner: User | Channel, changes: tuple[MetadataValue, ...]
) -> MetadataChanged:
    if isinstance(owner, User):
        return MetadataChanged(
            user.actor, owner.id, owner.nick, changes, account_id=owner.account_id
        )
    return MetadataChanged(user.actor, owner.name, owner.name, changes, channel=True)


def loaded(state: State, user: User, kept: Iterable[tuple[str, str]]) -> MetadataChanged | None:
    """The keys kept for the account ``user`` just logged in to, laid over those it set
    before (a kept value wins), as a fact that gives them to it and makes the account's
    kept keys what the user then has (None when that changes nothing).

    The fact names every key the user ends with, and removes those kept that no longer
    fit (past ``metadata_keys``, or no longer passing the rules), so that the store
    holds no more than the user may: keys set before the login were once never kept,
    and the kept ones that did not fit never left the store, which grew by a whole set
    of keys at each login (probe 23). What apply tells is only what changed."""
    limits = state.limits
    ends: dict[str, str] = dict(user.metadata)
    stored: dict[str, str] = {}
    dropped: list[str] = []
    for key, value in kept:
        stored[key] = value
        try:
            check_value(key, value, limits.metadata_value_bytes)
        except ChatError:
            dropped.append(key)
            continue
        fits = key in ends or len(ends) < limits.metadata_keys
        if fits and valid_key(key, limits.metadata_key_length):
            ends[key] = value
        else:
            dropped.append(key)
    if ends == user.metadata and ends == stored:
        return None
    changes = [MetadataValue(key, value) for key, value in sorted(ends.items())]
    changes += [MetadataValue(key, None) for key in dropped if key not in ends]
    return MetadataChanged(
        None, user.id, user.nick, tuple(changes), account_id=user.account_id, loaded=True
    )


def _changed(kept: dict[str, str], changes: Iterable[MetadataValue]) -> dict[str, str]:
    """``kept`` with the changes made (a new dict in place of the shared empty one)."""
    if kept is NO_METADATA:
        kept = {}
    for entry in changes:
        if entry.value is None:
            kept.pop(entry.key, None)
        else:
            kept[entry.key] = entry.value
    return kept if kept else NO_METADATA


def apply_metadata(state: State, event: MetadataChanged) -> None:
    """Make the change and hand it to whoever may hear of it (the doors pick those
    subscribed to its keys). A target gone meanwhile changes nothing."""
    if event.channel:
        channel = state.channels.find(event.target)
        if channel is None:
            return
        channel.metadata = _changed(channel.metadata, event.changes)
        for member in list(channel.members):
            member.deliver(event)
        state.channels.keep_state(channel)
        return
    user = state.users.by_id.get(event.target)
    if user is None:
        return
    if event.loaded:
        # Keys loaded at login name the user's whole set, for the store: only those
        # that change something are told.
        told = tuple(e for e in event.changes if user.metadata.get(e.key) != e.value)
        user.metadata = _changed(user.metadata, event.changes)
        if not told:
            return
        event = dataclasses.replace(event, changes=told)
    else:
        user.metadata = _changed(user.metadata, event.changes)
    user.deliver(event)
    for other in state.neighbours(user):
        other.deliver(event)


def shown_values(
    reader: User, owner: User | Channel, keys: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """``owner``'s keys that ``reader`` may read (all, or those of ``keys`` that are
    set), as (key, value), sorted."""
    kept: Mapping[str, str] = owner.metadata
    wanted = sorted(kept) if keys is None else sorted(k for k in keys if k in kept)
    return [(key, kept[key]) for key in wanted if readable_key(reader, owner, key)]
