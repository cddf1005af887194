"""The channels of the network, the registered ones (ChanServ), and pending invites."""

from __future__ import annotations

from collections.abc import Iterator

from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import Channel, User
from hubbub.core.ports import ChannelSink, Registry
from hubbub.core.registered import RegisteredChannel
from hubbub.wire.casemap import Casemap, Key

_LOOK_ALIKE = "too much like the name of another channel"


class Channels:
    """Live channels by folded name, each claimed in the registry by its incarnation
    while it lives; registrations, kept through a sink; and the channels each user
    holds an operator's invite to.

    Args:
        casemap: how channel names are folded.
        registry: where a channel's name is claimed when it is made.
    """

    def __init__(self, casemap: Casemap, registry: Registry) -> None:
        self.casemap = casemap
        self.registry = registry
        self.live: dict[Key, Channel] = {}
        self.registered: dict[Key, RegisteredChannel] = {}
        # The skeleton of each registered name: a look-alike is taken while it is
        # registered, even empty.
        self._registered_skeletons: dict[Key, Key] = {}
        # The same for live channels (of this node; the registry has every node's).
        self._live_skeletons: dict[Key, Key] = {}
        self.sink: ChannelSink | None = None
        # The reverse of Channel.invited, so that a quit or an emptied channel clears
        # them.
        self.invites: dict[User, set[Channel]] = {}
        # Channels a JOIN on this node is making, by name, until the making is applied
        # (between nodes, a round trip later): their incarnations.
        self._making: dict[Key, str] = {}

    def __len__(self) -> int:
        return len(self.live)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self.live.values())

    def find(self, name: str) -> Channel | None:
        return self.live.get(self.casemap.fold(name))

    def member_channel(self, user: User, name: str) -> Channel:
        """The channel ``name``, which ``user`` must be in.

        Raises:
            ChatError: NO_SUCH_CHANNEL (also for a secret channel ``user`` may not know
                of) or NOT_ON_CHANNEL.
        """
        channel = self.find(name)
        if channel is None or not channel.visible_to(user):
            raise ChatError(Reason.NO_SUCH_CHANNEL, name)
        if user not in channel.members:
            raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
        return channel

    def _looks(self, name: str, key: Key) -> set[Key]:
        """The skeletons a channel's name is known by: its folded name's (what claims
        go by), its own spelling's, since a capital I is drawn as an l only before
        folding makes it an i (``#cIub`` is ``#club``, probe 15). Not how any spelling
        may be drawn (``#mcintosh`` as ``#mdntosh``): that made ``#dan`` and ``#cian``
        one name (probe 19)."""
        return {self.casemap.skeleton(key), self.casemap.spelled_skeleton(name)}

    def _look_alike(self, name: str, key: Key, renaming: Key | None) -> Key | None:
        """The live or registered channel whose name ``name`` looks like, if any (not
        itself, nor the channel being renamed). A registered name is always its own:
        two look-alikes registered before look-alikes were refused share a look, which
        names only one of them, and kept the other's founder out (probe 19)."""
        if key in self.registered and renaming is None:
            return None
        for look in self._looks(name, key):
            for named in (self._registered_skeletons, self._live_skeletons):
                other = named.get(look)
                if other is not None and other not in (key, renaming):
                    return other
        return None

    def claim(
        self, key: Key, incarnation: str, renaming: Key | None = None, name: str = ""
    ) -> None:
        """Claim a name for a channel about to be made (or renamed), by its skeleton: no
        two channels have look-alike names (``#0fficial`` beside ``#official``), nor a
        channel a look-alike of a registered one's name; ``renaming`` names the channel
        that is to take the name, which may be a look-alike of its own.

        Raises:
            ChatError: NAME_IN_USE when a channel of that name lives (made on another
                node meanwhile); BAD_CHANNEL_NAME when one of a look-alike name lives or
                is registered (not named: it may be secret).
        """
        skeleton = self.casemap.skeleton(key)
        if self._look_alike(name or key, key, renaming) is not None:
            raise ChatError(Reason.BAD_CHANNEL_NAME, key, _LOOK_ALIKE)
        if not self.registry.claim(skeleton, incarnation):
            raise ChatError(Reason.NAME_IN_USE, key)
        if renaming is None:
            self._making[key] = incarnation

    def settle(
        self, key: Key, incarnation: str, renaming: Key | None = None, name: str = ""
    ) -> bool:
        """As a fact making a channel (or renaming the channel ``renaming``) is applied:
        whether the name may be its. The log's order decides: a claim for a channel not
        made yet (decided on another node, later in the log) gives way; a live channel
        of a look-alike name, or a registered one, refuses it."""
        skeleton = self.casemap.skeleton(key)
        live = self._live_skeletons.get(skeleton)
        if (live is not None and live != renaming) or self._look_alike(
            name or key, key, renaming
        ) is not None:
            if self._making.get(key) == incarnation:
                del self._making[key]  # refused: later JOINs here make it anew
            return False
        current = self.registry.holder(skeleton)
        if current == incarnation:
            return True
        if current is not None:
            self.registry.release(skeleton, current)
        return self.registry.claim(skeleton, incarnation)

    def pending(self, key: Key) -> str | None:
        """The incarnation of a channel named ``key`` that a JOIN on this node is making
        and that is not made yet (between nodes its fact comes back a round trip
        later), while its claim holds."""
        making = self._making.get(key)
        if making is None or key in self.live:
            return None
        if self.registry.holder(self.casemap.skeleton(key)) != making:
            del self._making[key]  # its claim went: it will not be made
            return None
        return making

    def _release(self, key: Key, incarnation: str) -> None:
        self.registry.release(self.casemap.skeleton(key), incarnation)

    def add(self, channel: Channel) -> None:
        self._making.pop(channel.key, None)
        self.live[channel.key] = channel
        for look in self._looks(channel.name, channel.key):
            self._live_skeletons[look] = channel.key

    def _forget_looks(self, channel: Channel) -> None:
        for look in self._looks(channel.name, channel.key):
            if self._live_skeletons.get(look) == channel.key:
                del self._live_skeletons[look]

    def rekey(self, channel: Channel, name: str, key: Key) -> None:
        """Give a live channel a new name (claimed already)."""
        del self.live[channel.key]
        self._forget_looks(channel)
        if self.casemap.skeleton(key) != self.casemap.skeleton(channel.key):
            self._release(channel.key, channel.incarnation)
        for member in channel.members:
            del member.channels[channel.key]
            member.channels[key] = channel
        channel.name, channel.key = name, key
        self.add(channel)

    def invite(self, user: User, channel: Channel) -> None:
        channel.invited.add(user)
        self.invites.setdefault(user, set()).add(channel)

    def uninvite(self, user: User, channel: Channel) -> None:
        channel.invited.discard(user)
        invites = self.invites.get(user)
        if invites is not None:
            invites.discard(channel)
            if not invites:
                del self.invites[user]

    def forget_invites(self, user: User) -> None:
        for channel in list(self.invites.get(user, ())):
            self.uninvite(user, channel)

    def leave(self, user: User, channel: Channel) -> bool:
        """Take ``user`` out of ``channel``; True when that emptied (and ended) it."""
        channel.leave(user)
        del user.channels[channel.key]
        if channel.members:
            return False
        del self.live[channel.key]
        self._forget_looks(channel)
        self._release(channel.key, channel.incarnation)
        # Invites are to this incarnation; a channel made again later starts clean.
        for invited in list(channel.invited):
            self.uninvite(invited, channel)
        return True

    # -- registrations -------------------------------------------------------------

    def registration(
        self, user: User, name: str, members: bool = False
    ) -> RegisteredChannel | None:
        """A channel's registration, if ``user`` may learn of it: a secret channel's
        only by its members, its founder and access list, and server operators. With
        ``members`` (its access list is asked for), a private (+p) channel's likewise,
        as its members are."""
        record = self.registered.get(self.casemap.fold(name))
        hiding = "sp" if members else "s"
        if record is None or not any(mode in record.flags for mode in hiding) or user.is_oper:
            return record
        live = self.live.get(record.key)
        if (live is not None and user in live.members) or record.status_for(user.account_id):
            return record
        return None

    def founded_by(self, user: User, name: str, or_oper: bool = False) -> RegisteredChannel:
        """A registered channel, which ``user`` must have founded (or be a server
        operator, with ``or_oper``).

        Raises:
            ChatError: NO_SUCH_CHANNEL (not registered, or secret to ``user``) or
                NO_PRIVILEGES.
        """
        record = self.registration(user, name)
        if record is None:
            raise ChatError(Reason.NO_SUCH_CHANNEL, name)
        if or_oper and user.is_oper:
            return record
        if user.account_id is None or user.account_id != record.founder:
            raise ChatError(Reason.NO_PRIVILEGES, record.name, "only its founder may")
        return record

    def learn(self, record: RegisteredChannel) -> None:
        """Know a registration kept earlier (loaded at start)."""
        self.registered[record.key] = record
        for look in self._looks(record.name, record.key):
            self._registered_skeletons[look] = record.key

    def keep(self, record: RegisteredChannel) -> None:
        """Keep a registration (new, or replacing the one of its channel)."""
        self.learn(record)
        if self.sink is not None:
            self.sink.save(record)

    def unregister(self, key: Key) -> None:
        record = self.registered.pop(key)
        for look in self._looks(record.name, key):
            if self._registered_skeletons.get(look) == key:
                del self._registered_skeletons[look]
        if self.sink is not None:
            self.sink.delete(key)

    def keep_state(self, channel: Channel) -> None:
        """A channel's topic, modes or lists changed: a registered one keeps them."""
        record = self.registered.get(channel.key)
        if record is not None:
            self.keep(record.with_state_of(channel))
