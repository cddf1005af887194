"""The hub's state and the lookups and delivery every group of operations shares."""

from __future__ import annotations

import itertools
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import Event
from hubbub.core.model import Channel, User
from hubbub.core.monitor import Monitors
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.errors import InvalidName

if TYPE_CHECKING:
    from hubbub.core.messaging import Sent
    from hubbub.core.ports import ChannelSink, HistorySink, MarkerSink
    from hubbub.core.registered import RegisteredChannel


@dataclass(frozen=True, slots=True)
class HubLimits:
    """Bounds the hub enforces; each is a setting (see :mod:`hubbub.settings`)."""

    channels_per_user: int = 50
    topic_length: int = 390
    kick_length: int = 390
    away_length: int = 390
    list_length: int = 100
    whowas_length: int = 1000
    monitor_length: int = 100
    read_markers: int = 1000
    recent_messages: int = 10_000


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    nick: str
    key: Key
    username: str
    host: str
    realname: str
    time: float


class HubBase:
    """All users and channels of this server; :class:`~hubbub.core.hub.Hub` adds the
    operations on them.

    Args:
        casemap: how names are folded and validated.
        limits: the bounds to enforce.
        clock: the wall clock, in seconds since the epoch.
    """

    def __init__(
        self,
        casemap: Casemap,
        limits: HubLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.casemap = casemap
        self.limits = limits or HubLimits()
        self.clock = clock
        self.users: dict[Key, User] = {}
        self.channels: dict[Key, Channel] = {}
        self._skeletons: dict[Key, User] = {}
        self.peak_users = 0
        # Nicks no user may take: the built-in services answer to them.
        self.reserved: set[Key] = set()
        # How many users have each user mode (LUSERS counts invisible users and opers).
        self.mode_counts: Counter[str] = Counter()
        self.monitors = Monitors(casemap, self.limits.monitor_length)
        # Message ids: unique within this process by the counter, across restarts by the
        # random prefix.
        self._msgid_prefix = secrets.token_hex(4)
        self._msgid_counter = itertools.count(1)
        # User ids and channel incarnations, unique the same way.
        self._id_counter = itertools.count(1)
        # The channels each user with pending invites is invited to (the reverse of
        # Channel.invited), so that a quit or an emptied channel clears them.
        self.invites: dict[User, set[Channel]] = {}
        self.whowas_entries: deque[WhowasEntry] = deque(maxlen=self.limits.whowas_length)
        # draft/read-marker: folded target → when it was last read (epoch seconds), for
        # each user not logged in, and for each account with someone logged in to it.
        self.read_markers: dict[User, dict[Key, float]] = {}
        # Both by account id.
        self.account_markers: dict[str, dict[Key, float]] = {}
        self.account_users: dict[str, set[User]] = {}
        self.marker_sink: MarkerSink | None = None
        # Where messages are kept (message history), if anywhere.
        self.history: HistorySink | None = None
        # Registered channels (ChanServ), loaded at start, and where changes are kept.
        self.registered: dict[Key, RegisteredChannel] = {}
        self.channel_sink: ChannelSink | None = None
        # Recent messages by msgid, oldest first, for REDACT.
        self.recent_messages: OrderedDict[str, Sent] = OrderedDict()

    # -- looking things up -------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.users.get(self.casemap.fold(nick))

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(self.casemap.fold(name))

    def check_nick(self, nick: str, user: User | None = None) -> str:
        """Validate a nick and check that nobody else holds it (or a look-alike).

        Returns:
            the nick in normal form.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        try:
            nick = self.casemap.check_nick(nick)
        except InvalidName as error:
            raise ChatError(Reason.ERRONEOUS_NICK, nick, str(error)) from None
        skeleton = self.casemap.skeleton(nick)
        holder = self._skeletons.get(skeleton)
        if (holder is not None and holder is not user) or skeleton in self.reserved:
            raise ChatError(Reason.NICK_IN_USE, nick)
        return nick

    def neighbours(self, user: User) -> set[User]:
        """Everyone who shares a channel with ``user``, ``user`` excluded."""
        seen: set[User] = set()
        for channel in user.channels.values():
            seen.update(channel.members)
        seen.discard(user)
        return seen

    def whowas(self, nick: str) -> list[WhowasEntry]:
        """Former users of ``nick``, newest first."""
        key = self.casemap.fold(nick)
        return [entry for entry in reversed(self.whowas_entries) if entry.key == key]

    def masks_of(self, user: User) -> tuple[str, ...]:
        """The folded masks that bans and exceptions are matched against."""
        return (self.casemap.fold(user.mask),)

    def member_channel(self, user: User, name: str) -> Channel:
        """The channel ``name``, which ``user`` must be in.

        Raises:
            ChatError: NO_SUCH_CHANNEL (also for a secret channel ``user`` may not know
                of) or NOT_ON_CHANNEL.
        """
        channel = self.find_channel(name)
        if channel is None or not channel.visible_to(user):
            raise ChatError(Reason.NO_SUCH_CHANNEL, name)
        if user not in channel.members:
            raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
        return channel

    def _announce(self, user: User, event: Event) -> None:
        """Deliver to everyone sharing a channel with ``user`` or monitoring it, once."""
        audience = self.neighbours(user)
        audience.update(self.monitors.watching(user.key))
        audience.discard(user)
        self._deliver(audience, event)

    # -- internals ---------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{self._msgid_prefix}.{next(self._id_counter):x}"

    def _invite(self, user: User, channel: Channel) -> None:
        channel.invited.add(user)
        self.invites.setdefault(user, set()).add(channel)

    def _uninvite(self, user: User, channel: Channel) -> None:
        channel.invited.discard(user)
        invites = self.invites.get(user)
        if invites is not None:
            invites.discard(channel)
            if not invites:
                del self.invites[user]

    def _leave(self, user: User, channel: Channel) -> None:
        del channel.members[user]
        del user.channels[channel.key]
        if not channel.members:
            del self.channels[channel.key]
            # Invites are to this incarnation; a channel made again later starts clean.
            for invited in list(channel.invited):
                self._uninvite(invited, channel)

    def _remember(self, user: User) -> None:
        self.whowas_entries.append(
            WhowasEntry(user.nick, user.key, user.username, user.host, user.realname, self.clock())
        )

    @staticmethod
    def _deliver(listeners: Iterable[User], event: Event) -> None:
        for user in listeners:
            user.listener.deliver(event)
