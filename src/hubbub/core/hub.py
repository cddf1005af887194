"""The hub: the chat's operations, as the doors call them.

Every operation is one shape: a function of :mod:`~hubbub.core.user_ops`,
:mod:`~hubbub.core.channel_ops` or :mod:`~hubbub.core.messaging` checks the request
against the :class:`~hubbub.core.state.State` and returns the events it causes
(raising :class:`ChatError` before anything changed); the hub publishes them on the
bus; the bus hands each to :meth:`Applier.apply` on every node (this one included),
which changes the state and delivers to local sessions, and then to the keepers
(history, read markers). With the in-process bus, all of it is one synchronous call
chain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace

from hubbub.core import channel_ops, messaging, metadata, server_bans, services, user_ops
from hubbub.core.apply import Applier
from hubbub.core.errors import ChatError
from hubbub.core.events import (
    AccountDropped,
    AccountRegistered,
    Banned,
    Fact,
    MessageKind,
    MessagePart,
    MessagePosted,
    Quit,
)
from hubbub.core.markers import owner_of
from hubbub.core.model import Channel, Listener, User
from hubbub.core.modes import ModeChange
from hubbub.core.ports import Bus, MarkerSink, MetadataSink, Registry
from hubbub.core.presence import ELSEWHERE, Presence
from hubbub.core.presences import FOLLOWED, Presences
from hubbub.core.registered import RegisteredChannel
from hubbub.core.server_bans import ServerBan
from hubbub.core.state import ChatLimits, State
from hubbub.core.users import WhowasEntry
from hubbub.wire.casemap import Casemap, Key

_NO_TAGS: Mapping[str, str] = {}


class Hub:
    """All users and channels of the network, and the operations on them.

    Args:
        casemap: how names are folded and validated.
        limits: the bounds to enforce.
        clock: the wall clock, in seconds since the epoch.
        bus: where events go (``cluster.local.LocalBus`` for one process); the hub
            subscribes its ``apply`` to it. Without one, events are applied directly.
        registry: where nicks and channel names are claimed
            (``cluster.local.LocalRegistry`` for one process).
    """

    def __init__(
        self,
        casemap: Casemap,
        limits: ChatLimits | None = None,
        clock: Callable[[], float] = time.time,
        *,
        bus: Bus,
        registry: Registry,
    ) -> None:
        self.state = State(casemap, limits or ChatLimits(), clock, registry)
        self.applier = Applier(self.state)
        self.apply = self.applier.apply
        bus.subscribe(self.apply)
        # Devices attached to users, and always-on users (core/presence.py).
        self.presences = Presences(self.state, bus.publish, self.applier.arrivals)
        bus.subscribe(self.presences.follow, kinds=FOLLOWED)
        self.publish = bus.publish
        # See Bus.settled: None on one node.
        self.settled = bus.settled
        # Where accounts' read markers are kept, for loading them at login.
        self.marker_sink: MarkerSink | None = None
        # Where accounts' metadata keys are kept, for loading them at login.
        self.metadata_sink: MetadataSink | None = None
        self.said = 0  # messages this node's users said, for the metrics
        state = self.state
        # What the doors read, as the owners hold it.
        self.casemap = casemap
        self.users: Mapping[Key, User] = state.users.by_key
        self.channels: Mapping[Key, Channel] = state.channels.live
        self.registered: Mapping[Key, RegisteredChannel] = state.channels.registered
        self.monitors = state.monitors
        self.mode_counts = state.users.mode_counts

    @property
    def limits(self) -> ChatLimits:
        return self.state.limits

    @limits.setter
    def limits(self, limits: ChatLimits) -> None:
        """New limits (REHASH) bind from the next operation on."""
        state = self.state
        state.limits = limits
        state.markers.limit = limits.read_markers
        state.recent.limit = limits.recent_messages
        state.monitors.limit = limits.monitor

    @property
    def clock(self) -> Callable[[], float]:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.state.clock = clock

    @property
    def peak_users(self) -> int:
        return self.state.users.peak

    def _publish(self, events: Iterable[Fact]) -> None:
        publish = self.publish
        for event in events:
            publish(event)

    def regroup(self, user: User) -> None:
        """``user``'s listener has a new audience (an IRC client asked for a capability):
        its channels reach it through that one from now on. This node's delivery, not
        the chat: no event."""
        for channel in user.channels.values():
            channel.regroup(user)

    # -- looking things up -------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.state.users.find(nick)

    def find_channel(self, name: str) -> Channel | None:
        return self.state.channels.find(name)

    def member_channel(self, user: User, name: str) -> Channel:
        return self.state.channels.member_channel(user, name)

    def check_nick(self, nick: str, user: User | None = None) -> str:
        """Validate a nick and check that nobody but ``user`` holds it (or a look-alike).

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        return self.state.users.check_nick(nick, user.id if user is not None else None)

    def reserve(self, nick: str) -> None:
        """Keep a nick, and its look-alikes, for a built-in service."""
        self.state.users.reserve(nick)

    def whowas(self, nick: str) -> list[WhowasEntry]:
        return self.state.users.whowas(nick)

    def founded_by(self, user: User, name: str) -> RegisteredChannel:
        return self.state.channels.founded_by(user, name)

    def registration(
        self, user: User, name: str, members: bool = False
    ) -> RegisteredChannel | None:
        """A channel's registration, if ``user`` may learn of it (and of its access
        list, with ``members``)."""
        return self.state.channels.registration(user, name, members)

    def load_registrations(self, records: Iterable[RegisteredChannel]) -> None:
        """Learn the registered channels kept from an earlier run.

        A registration kept before channels had incarnations gets one now, and keeps
        it: what its channel says while closed must not be kept under its bare name,
        where whoever makes the channel again after a drop would read it.
        """
        channels = self.state.channels
        for record in records:
            if record.incarnation:
                channels.learn(record)
            else:
                channels.keep(replace(record, incarnation=f"{record.key} {self.state.ids.new()}"))

    history_owner = staticmethod(messaging.history_owner)
    private_conversation = staticmethod(messaging.private_conversation)

    # -- users -------------------------------------------------------------------------

    def register(
        self,
        nick: str,
        username: str,
        host: str,
        realname: str,
        listener: Listener,
        secure: bool = False,
        account: str | None = None,
        account_id: str | None = None,
    ) -> User | None:
        """Add a user that finished registration, logged in to ``account`` (its name and
        stable id) if it did so before. ``listener`` is told with
        :meth:`~hubbub.core.model.Listener.arrived` once the arrival is applied.

        Returns:
            the user, when its arrival was applied at once (one node); None when it is
            applied later (between nodes, when it comes back from the bus).

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        event = user_ops.arrive(
            self.state, nick, username, host, realname, secure, account, account_id
        )
        self.applier.arrivals[event.actor.id] = listener
        self.publish(event)
        return self.state.users.by_id.get(event.actor.id)

    def change_nick(self, user: User, nick: str) -> None:
        """Raises:
        ChatError: ERRONEOUS_NICK or NICK_IN_USE."""
        self._publish(user_ops.change_nick(self.state, user, nick))

    def quit(self, user: User, reason: str, *, forced: bool = False) -> None:
        """Remove a user (once); everyone sharing a channel with them sees the quit.

        ``forced``: by someone else's order (GHOST), so its session is closed too, on
        whichever node holds it.
        """
        if self.state.users.by_id.get(user.id) is user:
            self.publish(Quit(user.actor, reason, forced=forced))

    def leave(
        self,
        user: User,
        session: Listener,
        reason: str,
        device: str | None = None,
        caught_up: bool = True,
    ) -> None:
        """A session of ``user`` (the client's ``device``, if it named one; ``caught_up``:
        it had read what it was sent) is gone: the user quits, unless another device is
        attached (here or on another node) or it is always-on (see
        :mod:`hubbub.core.presence`)."""
        if not self.presences.detach(user, session, device, caught_up, reason):
            self.quit(user, reason)

    def kill(self, killer: User, nick: str, reason: str) -> User:
        """Disconnect another user by operator's order.

        Raises:
            ChatError: NO_PRIVILEGES or NO_SUCH_NICK.
        """
        victim, events = user_ops.kill(self.state, killer, nick, reason)
        self._publish(events)
        return victim

    def set_away(self, user: User, text: str | None) -> None:
        self._publish(user_ops.set_away(self.state, user, text))

    def log_in(self, user: User, account: str | None, account_id: str | None) -> None:
        """Log ``user`` in to an account (its name and stable id), or out with None;
        neighbours and watchers are told (account-notify)."""
        self._publish(user_ops.log_in(self.state, user, account, account_id))

    def set_realname(self, user: User, realname: str) -> None:
        self._publish(user_ops.set_realname(user, realname))

    def make_oper(self, user: User, oper_name: str) -> None:
        applied = user_ops.change_user_modes(user, [ModeChange(True, "o")], allow_oper=True)
        self._publish(user_ops.user_modes_changed(user, applied, oper_name))

    def change_user_modes(
        self, user: User, changes: Iterable[ModeChange], allow_oper: bool = False
    ) -> list[ModeChange]:
        """Apply user mode changes; return those that changed something."""
        applied = user_ops.change_user_modes(user, changes, allow_oper)
        self._publish(user_ops.user_modes_changed(user, applied))
        return applied

    def wallops(self, user: User, text: str) -> None:
        self._publish(user_ops.wallops(user, text))

    def mark_read(self, user: User, target: str, moment: float) -> float:
        """Move ``user``'s read marker of a target forward (never back); return it."""
        events = user_ops.mark_read(self.state, user, target, moment)
        self.presences.roaming.marking(user, events)
        self._publish(events)
        marker = self.read_marker(user, target)
        return moment if marker is None else marker

    def read_marker(self, user: User, target: str) -> float | None:
        owner = owner_of(user.id, user.account_id)
        return self.state.markers.get(owner, self.casemap.fold(target))

    def load_markers(self, account_id: str, markers: Iterable[tuple[str, float]]) -> None:
        """Learn an account's kept markers as someone logs in to it (call once a user is
        logged in to it). Past the limit the oldest are forgotten, here and kept."""
        if account_id not in self.state.account_users:
            return  # nobody is logged in to it any more
        sink = self.marker_sink
        unsaved = sink.unsaved(account_id) if sink is not None else []
        forgotten = self.state.markers.load(owner_of("", account_id), markers, unsaved)
        if sink is not None:
            for key in forgotten:
                sink.forget(account_id, key)

    def set_metadata(self, user: User, target: str, key: str, value: str | None) -> User | Channel:
        """Set or remove one metadata key of ``target`` (see :func:`metadata.change`);
        return the user or channel it names."""
        owner, fact = metadata.change(self.state, user, target, key, value)
        if fact is not None:
            self.publish(fact)
        return owner

    def clear_metadata(self, user: User, target: str) -> tuple[User | Channel, list[str]]:
        """Remove every metadata key of ``target``; return it and the keys removed."""
        owner, fact = metadata.clear(self.state, user, target)
        if fact is None:
            return owner, []
        self.publish(fact)
        return owner, [entry.key for entry in fact.changes]

    def load_metadata(self, user: User, kept: Iterable[tuple[str, str]]) -> None:
        """Give ``user`` the metadata keys kept for the account it logged in to."""
        if user.account_id is None or user.id not in self.state.users.by_id:
            return
        fact = metadata.loaded(self.state, user, kept)
        if fact is not None:
            self.publish(fact)

    def logged_in_accounts(self) -> list[tuple[str, str]]:
        """The accounts someone is logged in to, as (id, name)."""
        return [
            (account_id, next(iter(users)).account or "")
            for account_id, users in self.state.account_users.items()
            if users
        ]

    def account_registered(self, name: str) -> None:
        """An account named ``name`` (as registered) was made: every node guards its
        name and its look-alikes."""
        self.publish(AccountRegistered(name))

    def ban(self, ban: ServerBan, everywhere: bool) -> int:
        """Disconnect the users a server ban covers: on every node (``everywhere``, as
        an operator sets it), or on this one only (as each node reads a ban set from
        the shell); return how many."""
        users = [u for u in self.state.users if everywhere or u.listener is not ELSEWHERE]
        facts = server_bans.ban_facts(ban, users)
        self._publish(facts)
        spared = {fact.victim for fact in facts if type(fact) is Banned}
        return len(facts) // 2 + self.ban_devices(ban, spared)

    def ban_devices(self, ban: ServerBan, spared: Collection[str] = ()) -> int:
        """Close this node's devices on an address ``ban`` covers, of users it does not
        cover whole (``spared``: their ids, which its facts make quit); return how many.
        Only this node knows its devices' addresses: a ban set on another node is
        enforced on them here as it is heard (probe 33)."""
        devices = self.presences.banned_devices(ban, spared)
        reason = server_bans.QUIT_MESSAGES[ban.kind]
        for user, session in devices:
            session.deliver(Banned(user.id, ban.reason))
            if not self.presences.detach(user, session, reason=reason):
                self.quit(user, reason, forced=True)
            session.disconnect(reason)
        return len(devices)

    def drop_account(self, account_id: str, name: str = "") -> None:
        """An account is being deleted: everyone logged in to it is logged out, its read
        markers are forgotten, and it loses its channels. Its private history stays with
        its id, which no later account has."""
        if not name:  # dropped elsewhere: named by whoever is logged in to it here
            users = self.state.account_users.get(account_id, ())
            name = next((u.account for u in users if u.account), "")
        # A fact, so that every node logs its users out and refuses a login to it.
        self.publish(AccountDropped(account_id, name))
        if self.marker_sink is not None:
            self.marker_sink.forget_account(account_id)
        if self.metadata_sink is not None:
            self.metadata_sink.forget_account(account_id)
        if self.presences.sink is not None:
            self.presences.sink.forget_account(account_id)
            # Its always-on user is gone too (when the store keeps the account a moment
            # longer, as while it is dropped from another node).
            self.presences.sink.save(account_id, None)
        self._publish(services.forget_account_rights(self.state, account_id, name))

    # -- channels ----------------------------------------------------------------------

    def join(self, user: User, name: str, key: str | None = None) -> Channel | None:
        """Put ``user`` in a channel, creating it (with ``user`` as operator) if needed.

        Returns:
            the channel, or None if ``user`` was already in it.

        Raises:
            ChatError: see :func:`channel_ops.join`.
        """
        events = channel_ops.join(self.state, user, name, key)
        if not events:
            return None
        self._publish(events)
        return self.state.channels.find(name)

    def part(self, user: User, name: str, reason: str = "") -> None:
        self._publish(channel_ops.part(self.state, user, name, reason))

    def part_all(self, user: User) -> None:
        """``JOIN 0``: leave every channel."""
        for channel in list(user.channels.values()):
            self.part(user, channel.name, "")

    def kick(self, user: User, name: str, nick: str, reason: str) -> None:
        self._publish(channel_ops.kick(self.state, user, name, nick, reason))

    def invite(self, user: User, nick: str, name: str) -> tuple[User, Channel | None]:
        target, channel, events = channel_ops.invite(self.state, user, nick, name)
        self._publish(events)
        return target, channel

    def set_topic(self, user: User, name: str, text: str) -> None:
        self._publish(channel_ops.set_topic(self.state, user, name, text))

    def change_channel_modes(
        self, user: User, channel: Channel, changes: list[ModeChange]
    ) -> tuple[list[ModeChange], list[ChatError]]:
        applied, errors, events = channel_ops.change_channel_modes(
            self.state, user, channel, changes
        )
        self._publish(events)
        return applied, errors

    def rename(self, user: User, old: str, new: str, reason: str = "") -> None:
        """Rename a channel (draft/channel-rename). Returns nothing: between nodes the
        rename is applied a round trip later (looking the channel up by its new name
        at once failed there, probe 15).

        Raises:
            ChatError: see :func:`channel_ops.rename`.
        """
        self._publish(channel_ops.rename(self.state, user, old, new, reason))

    def register_channel(self, user: User, name: str) -> RegisteredChannel:
        record, facts = services.register_channel(self.state, user, name)
        self._publish(facts)
        return record

    def drop_channel(self, user: User, name: str) -> None:
        self._publish(services.drop_channel(self.state, user, name))

    def carry_out(self, name: str, order: dict[str, object]) -> None:
        """An operator's order from the shell for a registered channel (see
        :func:`hubbub.core.services.carry_out`, which says what it raises)."""
        self._publish(services.carry_out(self.state, name, order))

    def set_access(
        self, user: User, name: str, account_id: str, account: str, status: str | None
    ) -> None:
        self._publish(services.set_access(self.state, user, name, account_id, account, status))

    # -- messages ----------------------------------------------------------------------

    def say(
        self,
        user: User,
        target: str,
        text: str,
        kind: MessageKind = MessageKind.PRIVMSG,
        status: str = "",
        tags: Mapping[str, str] = _NO_TAGS,
        parts: tuple[MessagePart, ...] = (),
        by: Listener | None = None,
    ) -> tuple[User | Channel, MessagePosted]:
        """Send a message to a channel or a user; see :func:`messaging.say`. ``by``: the
        session that said it, when the user has several (its echo is that session's)."""
        where, event = messaging.say(self.state, user, target, text, kind, status, tags, parts)
        self._post(user, event, by)
        return where, event

    def say_in_channel(
        self, user: User, channel: str, text: str, kind: MessageKind, by: Listener
    ) -> bool:
        """A tagless message to a channel that ``user`` may speak in, with no call to
        :meth:`say`'s general checks: True once it is posted, False when :meth:`say`
        must take it (see :func:`messaging.say_to_member_channel`)."""
        event = messaging.say_to_member_channel(self.state, user, channel, text, kind)
        if event is None:
            return False
        self._post(user, event, by)
        return True

    def _post(self, user: User, event: MessagePosted, by: Listener | None) -> None:
        self.said += 1
        listener = user.listener
        if by is not None and isinstance(listener, Presence):
            listener.speaking(event.msgid, by)
        self.publish(event)

    def redact(self, user: User, target: str, msgid: str, reason: str = "") -> None:
        self.publish(messaging.redact(self.state, user, target, msgid, reason))
