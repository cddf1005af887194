"""A chat with no sockets for the core's tests: a hub on a local bus and registry, users
whose sessions record what they are handed, and snapshots of every owner's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.errors import ChatError
from hubbub.core.events import Event, Fact, MessagePosted
from hubbub.core.hub import Hub
from hubbub.core.model import Channel, User
from hubbub.core.modes import ModeChange
from hubbub.core.registered import RegisteredChannel
from hubbub.core.state import ChatLimits, State
from hubbub.wire.casemap import Casemap, Casemapping, Key
from tests.helpers import Clock


class Recorder:
    """A session that keeps what the hub hands it (a :class:`core.model.Listener`)."""

    # Reached one by one, through deliver.
    audience = None
    outbox = None

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.disconnected: str | None = None
        self.user: User | None = None  # told by arrived
        self.refusals: list[tuple[Fact, ChatError]] = []
        self.echoes: list[MessagePosted] = []
        self.reachable = True

    def deliver(self, event: Event) -> None:
        self.events.append(event)

    def arrived(self, user: User) -> None:
        self.user = user

    def refused(self, fact: Fact, error: ChatError) -> None:
        self.refusals.append((fact, error))

    def echo(self, event: MessagePosted) -> None:
        self.echoes.append(event)

    def disconnect(self, reason: str) -> None:
        self.disconnected = reason

    def network(self, reachable: bool) -> None:
        self.reachable = reachable

    def take(self) -> list[Event]:
        """What was delivered since the last call."""
        events, self.events = self.events, []
        return events


class Shelf:
    """A channel sink that keeps what it is handed."""

    def __init__(self) -> None:
        self.saved: list[RegisteredChannel] = []
        self.deleted: list[str] = []

    def save(self, record: RegisteredChannel) -> None:
        self.saved.append(record)

    def delete(self, key: str) -> None:
        self.deleted.append(key)


@dataclass(frozen=True)
class Snapshot:
    """Every owner's state as plain values, people by user id, so that two snapshots
    are equal exactly when nothing changed."""

    users: dict[str, tuple[Any, ...]]
    by_key: dict[str, str]
    whowas: list[tuple[Any, ...]]
    mode_counts: dict[str, int]
    channels: dict[str, tuple[Any, ...]]
    registered: dict[Key, Any]
    invites: dict[str, list[str]]
    markers: dict[str, dict[Key, float]]
    recent: dict[str, Any]
    monitors: dict[str, dict[Key, str]]
    watchers: dict[str, list[str]]
    account_users: dict[str, list[str]]
    dropped_accounts: set[str]
    claims: dict[str, str]


def _user(user: User) -> tuple[Any, ...]:
    return (
        user.nick,
        user.key,
        user.skeleton,
        user.username,
        user.host,
        user.realname,
        sorted(user.modes),
        user.away,
        user.account,
        user.account_id,
        user.oper_name,
        user.secure,
        user.last_active,
        sorted(user.channels),
    )


def _channel(channel: Channel) -> tuple[Any, ...]:
    return (
        channel.name,
        channel.key,
        channel.created,
        channel.incarnation,
        {member.id: status for member, status in channel.members.items()},
        sorted(channel.flags),
        channel.password,
        channel.limit,
        {mode: list(entries) for mode, entries in channel.lists.items()},
        channel.topic,
        sorted(user.id for user in channel.invited),
    )


class World:
    """A hub, its clock and its registry, with helpers to set a scene.

    Args:
        limits: the hub's limits (small ones make bounds easy to reach).
    """

    def __init__(self, limits: ChatLimits | None = None) -> None:
        self.clock = Clock()
        self.bus = LocalBus()
        self.registry = LocalRegistry()
        self.hub = Hub(
            Casemap(Casemapping.PRECIS),
            limits or ChatLimits(),
            clock=self.clock,
            bus=self.bus,
            registry=self.registry,
        )
        self.recorders: list[Recorder] = []

    @property
    def state(self) -> State:
        return self.hub.state

    def add(self, nick: str, *channels: str, account: str | None = None) -> tuple[User, Recorder]:
        """A registered user (logged in to ``account``, its id the same) that joined
        ``channels``; everyone's recorders are emptied afterwards."""
        recorder = Recorder()
        self.recorders.append(recorder)
        user = self.hub.register(
            nick, nick.lower(), "host", f"Real {nick}", recorder, False, account, account
        )
        assert user is not None
        for name in channels:
            self.hub.join(user, name)
        self.settle()
        return user, recorder

    def settle(self) -> None:
        """Forget what was delivered while setting the scene."""
        for recorder in self.recorders:
            recorder.take()

    def channel(self, name: str) -> Channel:
        channel = self.hub.find_channel(name)
        assert channel is not None, name
        return channel

    def modes(self, user: User, name: str, *changes: ModeChange) -> None:
        """Change a channel's modes as ``user`` and forget the announcements."""
        _, errors = self.hub.change_channel_modes(user, self.channel(name), list(changes))
        assert errors == [], errors
        self.settle()

    def refusal(self, operation: Callable[[], object]) -> ChatError:
        """Run an operation that must be refused: the refusal, once checked that the
        state did not change and that nobody was handed anything."""
        before = self.snapshot()
        with pytest.raises(ChatError) as caught:
            operation()
        assert self.snapshot() == before
        assert [r.events for r in self.recorders] == [[] for _ in self.recorders]
        return caught.value

    def nick_holder(self, nick: str) -> str | None:
        """The user id holding ``nick`` (by its skeleton) in the registry."""
        return self.registry.holder(self.state.casemap.skeleton(nick))

    def snapshot(self) -> Snapshot:
        state = self.state
        users, channels = state.users, state.channels
        return Snapshot(
            users={user.id: _user(user) for user in users.by_id.values()},
            by_key={key: user.id for key, user in users.by_key.items()},
            whowas=[
                (e.nick, e.key, e.username, e.host, e.realname, e.time)
                for e in users.whowas_entries
            ],
            mode_counts={mode: n for mode, n in users.mode_counts.items() if n},
            channels={key: _channel(channel) for key, channel in channels.live.items()},
            registered=dict(channels.registered),
            invites={
                user.id: sorted(c.key for c in invited)
                for user, invited in channels.invites.items()
            },
            markers={owner: dict(m) for owner, m in state.markers.items()},
            recent=dict(state.recent.items()),
            # The owners below offer no way to list everything they hold.
            monitors={user.id: dict(nicks) for user, nicks in state.monitors._lists.items()},
            watchers={
                key: sorted(u.id for u in watching)
                for key, watching in state.monitors._watchers.items()
            },
            account_users={a: sorted(u.id for u in us) for a, us in state.account_users.items()},
            dropped_accounts=set(state.dropped_accounts),
            claims=dict(self.registry._holders),
        )


def add(hub: Hub, nick: str, *channels: str) -> tuple[User, Recorder]:
    """A registered user that joined ``channels``; what it was handed so far is dropped."""
    recorder = Recorder()
    user = hub.register(nick, nick.lower(), "host", f"Real {nick}", recorder)
    assert user is not None
    for channel in channels:
        hub.join(user, channel)
    recorder.take()
    return user, recorder


def settle(*recorders: Recorder) -> None:
    """Forget what the set-up delivered (joins of later users)."""
    for recorder in recorders:
        recorder.take()
