"""The shared state as plain data, and back: how a node in a cluster starts from a
snapshot instead of reading the whole log (docs/design/cluster.md).

:func:`capture` writes what the facts made: users (with their metadata), channels
(members, modes, lists, topic, invites, metadata), read markers, the recent messages
REDACT needs, WHOWAS, the accounts dropped, and which nodes hold devices of users with
devices on several. What follows from those (nick and channel
claims, look-alike keys, mode counts, who is logged in to each account, the channels'
audiences) is not written: :func:`restore` makes it again, through the same owners that
applying does. Registered channels are the store's, which every node loads; MONITOR
lists are a session's, and a starting node has none.

The data is JSON-ready (lists, strings, numbers, None) and in a canonical order, so that
two replicas in the same state capture equal data: the test of a snapshot is that a
node started from one equals a node that read the whole log.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hubbub.core.model import NO_CHANNELS, NO_MODES, Channel, ListEntry, Topic, User
from hubbub.core.presence import ELSEWHERE
from hubbub.core.recent import Sent
from hubbub.core.state import State
from hubbub.core.users import WhowasEntry, same
from hubbub.wire.casemap import Key

FORMAT = 1


class SnapshotError(Exception):
    """The data is not a snapshot this version can restore."""


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused: building a snapshot makes a container per
    user and channel, and the collections those allocations set off took seven eighths
    of the time (10,000 users in 1,000 channels: 311 ms, 41 ms without), a pause of the
    whole node. Nothing made meanwhile is cyclic garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def capture(state: State) -> dict[str, Any]:
    """The state as plain data (see the module's docstring)."""
    with _no_collection():
        return _capture(state)


def _capture(state: State) -> dict[str, Any]:
    users = sorted(state.users.by_id.values(), key=lambda user: user.id)
    channels = sorted(state.channels.live.values(), key=lambda channel: channel.key)
    return {
        "format": FORMAT,
        "users": [_user(user) for user in users],
        "channels": [_channel(channel) for channel in channels],
        "markers": {
            owner: dict(sorted(markers.items()))
            for owner, markers in sorted(state.markers.items())
            if markers
        },
        "recent": [[msgid, *sent] for msgid, sent in state.recent.items()],
        "whowas": [
            [e.nick, e.key, e.username, e.host, e.realname, e.time]
            for e in state.users.whowas_entries
        ],
        "dropped": sorted(state.dropped_accounts),
        # Users with devices on several nodes (core/spread.py); the order of each one's
        # other nodes is where it moves next.
        "homes": dict(sorted(state.spread.homes.items())),
        "devices": {uid: list(runs) for uid, runs in sorted(state.spread.others.items())},
        # Always-on users (Kept): whether none of their devices is at home, and since,
        # and their accounts' choices (multiclient, always-on).
        "kept": {
            uid: [*kept, *state.spread.choices.get(uid, (None, None))]
            for uid, kept in sorted(state.spread.kept.items())
        },
    }


def _user(user: User) -> list[Any]:
    return [
        user.id,
        user.nick,
        user.username,
        user.host,
        user.realname,
        user.signon,
        user.last_active,
        "".join(sorted(user.modes)),
        user.away,
        user.account,
        user.account_id,
        user.secure,
        user.oper_name,
        dict(sorted(user.metadata.items())),
    ]


def _channel(channel: Channel) -> list[Any]:
    topic = channel.topic
    return [
        channel.name,
        channel.created,
        channel.incarnation,
        "".join(sorted(channel.flags)),
        channel.password,
        channel.limit,
        {
            mode: [[e.mask, e.setter, e.time, e.folded] for e in entries]
            for mode, entries in sorted(channel.lists.items())
        },
        None if topic is None else [topic.text, topic.setter, topic.time],
        # In joining order: NAMES lists them so on every node.
        [[member.id, status] for member, status in channel.members.items()],
        sorted(user.id for user in channel.invited),
        dict(sorted(channel.metadata.items())),
    ]


def restore(state: State, data: dict[str, Any]) -> None:
    """Fill an empty ``state`` (only the services' nicks reserved) from captured data.

    Raises:
        SnapshotError: the data is not a snapshot of this format (``state`` may then be
            partly filled: throw it away).
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError(f"not a snapshot of format {FORMAT}")
    try:
        with _no_collection():
            _restore(state, data)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise SnapshotError(f"a snapshot that does not read: {error!r}") from None


def _restore(state: State, data: dict[str, Any]) -> None:
    users, channels, casemap = state.users, state.channels, state.casemap
    by_id: dict[str, User] = {}
    for fields in data["users"]:
        (uid, nick, username, host, realname, signon, last_active, modes, away) = fields[:9]
        account, account_id, secure, oper_name = fields[9:13]
        # Snapshots made before metadata end here.
        kept = fields[13] if len(fields) > 13 else {}
        skeleton = same(nick, casemap.skeleton(nick))
        key = casemap.fold(nick)
        if key in users.by_key:
            raise ValueError(f"two users hold {nick!r}")
        # Two nicks of a snapshot may look alike under rules newer than it (letters
        # mapped since): both keep theirs until one changes or leaves, as they did.
        state.users.registry.claim(skeleton, uid)
        user = User(
            uid,
            nick,
            same(nick, key),
            skeleton,
            username,
            host,
            realname,
            ELSEWHERE,
            float(signon),
        )
        user.last_active = float(last_active)
        user.modes = frozenset(modes) if modes else NO_MODES
        users.mode_counts.update(user.modes)
        user.away, user.secure, user.oper_name = away, bool(secure), oper_name
        if kept:
            user.metadata = {str(k): str(v) for k, v in kept.items()}
        if account is not None and account_id is not None:
            user.account, user.account_id = account, account_id
            state.account_users.setdefault(account_id, set()).add(user)
        users.add(user)
        by_id[uid] = user
    for fields in data["channels"]:
        name, created, incarnation, flags, password, limit, lists, topic = fields[:8]
        members, invited = fields[8:10]
        kept = fields[10] if len(fields) > 10 else {}
        key = casemap.fold(name)
        if key in channels.live:
            raise ValueError(f"two channels hold {name!r}")
        channels.registry.claim(casemap.skeleton(key), incarnation)  # as users' (above)
        channel = Channel(name, key, float(created), incarnation)
        channel.flags.update(flags)
        channel.password, channel.limit = password, limit
        if kept:
            channel.metadata = {str(k): str(v) for k, v in kept.items()}
        for mode, entries in lists.items():
            channel.lists[mode] = [
                ListEntry(mask, setter, float(time), folded)
                for mask, setter, time, folded in entries
            ]
        if topic is not None:
            channel.topic = Topic(topic[0], topic[1], float(topic[2]))
        for uid, status in members:
            member = by_id[uid]
            channel.join(member, status)
            if member.channels is NO_CHANNELS:
                member.channels = {}
            member.channels[key] = channel
        channels.add(channel)
        for uid in invited:
            channels.invite(by_id[uid], channel)
    for owner, markers in data["markers"].items():
        for target, moment in markers.items():
            state.markers.move(owner, Key(target), float(moment), None)
    for msgid, *sent in data["recent"]:
        state.recent.keep(msgid, Sent(*sent))
    for nick, key, username, host, realname, time in data["whowas"]:
        users.whowas_entries.append(
            WhowasEntry(nick, Key(key), username, host, realname, float(time))
        )
    state.dropped_accounts.update(data["dropped"])
    # Snapshots made before devices between nodes end here.
    for uid, home in data.get("homes", {}).items():
        state.spread.homes[str(uid)] = str(home)
    for uid, runs in data.get("devices", {}).items():
        state.spread.others[str(uid)] = [str(run) for run in runs]
    for uid, (absent, left, *choices) in data.get("kept", {}).items():
        state.spread.kept[str(uid)] = (bool(absent), float(left))
        # Snapshots made before the choices were in them: none known.
        multiclient, always_on = choices if len(choices) == 2 else (None, None)
        state.spread.choices[str(uid)] = (
            None if multiclient is None else bool(multiclient),
            None if always_on is None else bool(always_on),
        )
