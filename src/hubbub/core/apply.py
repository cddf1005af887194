"""The one place the chat changes: each event, applied to the state and handed to the
local sessions that must see it.

Operations (:mod:`~hubbub.core.hub`) decide which events a request causes and change
nothing; the bus hands every event to :meth:`Applier.apply` on every node. Applying
never refuses: whatever was decided happens, in the order published. Sessions receive
events through :meth:`Listener.deliver`, synchronously, in the same call chain as the
line that caused them.

The fan-out of a channel message is the hot path of the whole server (see
``benchmarks/``): :meth:`Applier._message` hands it to each group of members that need
the same bytes (:attr:`Channel.audiences`), and the door appends one rendering to each
member's outbox; members without an audience get it through their listener.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from hubbub.core.channel_modes import apply_mode, list_full
from hubbub.core.channel_ops import check_entry
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AccountChanged,
    AccountDropped,
    AccountRegistered,
    AddressCounted,
    AttemptCounted,
    AwayChanged,
    Banned,
    BansChanged,
    ChannelModeChanged,
    ChannelRenamed,
    DeviceAttached,
    DeviceDetached,
    Event,
    Fact,
    Invited,
    Joined,
    Kept,
    Kicked,
    Killed,
    MarkerMoved,
    MessageKind,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    NodeLost,
    Parted,
    Quit,
    RealnameChanged,
    RegistrationChanged,
    TopicChanged,
    UserArrived,
    UserModeChanged,
    Wallops,
)
from hubbub.core.markers import account_of, owner_of
from hubbub.core.metadata import apply_metadata
from hubbub.core.model import NO_CHANNELS, Channel, Listener, Topic, User
from hubbub.core.modes import (
    DEFAULT_CHANNEL_MODES,
    statuses_from,
)
from hubbub.core.presence import ELSEWHERE
from hubbub.core.recent import Sent
from hubbub.core.services import apply_registration
from hubbub.core.stamps import Stamps
from hubbub.core.state import State
from hubbub.core.users import same


class _Moot(Exception):
    """The user or channel a fact is about is gone by the time it is applied: between
    nodes, two decisions raced (a KICK of someone who had just left, an INVITE of
    someone who had just quit, a KILL and a QUIT). The fact changes nothing, on every
    node alike (each raised a traceback, probe 15)."""


def deliver(listeners: Iterable[User], event: Event) -> None:
    for user in listeners:
        user.deliver(event)


class Applier:
    """Applies events to a :class:`State`.

    Args:
        state: what the events change.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        # The sessions of users registering on this node, until their arrival is
        # applied: every other user is elsewhere.
        self.arrivals: dict[str, Listener] = {}
        # For the metrics: messages applied, and their copies handed to local users.
        self.messages = 0
        self.delivered = 0
        # Messages' times in the log's order (core/stamps.py).
        self.stamps = Stamps()

    def apply(self, event: Fact) -> None:
        # A try costs nothing until it catches (a context manager would, per fact).
        try:
            if type(event) is MessagePosted:  # most facts: no match statement for them
                self._message(event)
            else:
                self._apply(event)
        except _Moot:
            return

    def _apply(self, event: Fact) -> None:
        match event:
            case MessagePosted():
                self._message(event)
            case Joined():
                self._joined(event)
            case Parted(actor, name):
                user, channel = self._user(actor.id), self._channel(name)
                if user in channel.members:  # else kicked meanwhile
                    deliver(channel.members, event)
                    self.state.channels.leave(user, channel)
            case Kicked(_, name, _, _, victim):
                channel, kicked = self._channel(name), self._user(victim)
                if kicked in channel.members:  # else gone meanwhile
                    deliver(channel.members, event)
                    self.state.channels.leave(kicked, channel)
            case Quit():
                self._quit(event)
            case RegistrationChanged():
                apply_registration(self.state, event)
            case NodeLost(run, reason, by):
                # Its users with a device on another node move there, its always-on
                # users to the run that reported it (core/spread.py).
                for user in self.state.spread.lost(run, list(self.state.users), by):
                    self._quit(Quit(user.actor, reason, forced=True))
            case Kept(user_id, on, absent, left, multiclient, always_on):
                self._user(user_id)  # moot once the user quit
                self.state.spread.said_kept(user_id, on, absent, left, (multiclient, always_on))
            case DeviceAttached(user_id, run):
                self._user(user_id)  # moot once the user quit
                self.state.spread.attached(user_id, run)
            case DeviceDetached(user_id, run, reason):
                user = self._user(user_id)
                if not self.state.spread.detached(user_id, run):
                    self._quit(Quit(user.actor, reason))
            case Killed(victim=victim) | Banned(victim=victim):
                self._user(victim).listener.deliver(event)
            case NickChanged():
                self._nick(event)
            case AwayChanged(actor, message):
                user = self._user(actor.id)
                user.away = message
                self._announce(user, event)
            case AccountChanged():
                self._account(event)
            case AccountDropped(account_id):
                self._account_dropped(account_id)
            case AccountRegistered() | AttemptCounted() | AddressCounted() | BansChanged():
                pass  # the accounts', throttles' and bans' (each follows the bus)
            case RealnameChanged(actor, realname):
                user = self._user(actor.id)
                user.realname = realname
                user.changed()
                user.listener.deliver(event)
                self._announce(user, event)
            case UserModeChanged():
                self._user_modes(event)
            case ChannelModeChanged():
                self._channel_modes(event)
            case TopicChanged(actor, name, text, time):
                channel = self._channel(name)
                channel.topic = Topic(text, actor.mask, time) if text else None
                deliver(channel.members, event)
                self.state.channels.keep_state(channel)
            case Invited():
                self._invited(event)
            case MessageRedacted():
                self._redacted(event)
            case ChannelRenamed():
                self._renamed(event)
            case MarkerMoved():
                self._marker(event)
            case MetadataChanged():
                apply_metadata(self.state, event)
            case Wallops():
                deliver((u for u in self.state.users if "w" in u.modes), event)
            case UserArrived():
                self._arrived(event)
            case MonitoredOnline() | MonitoredOffline():
                pass  # notices made while applying other events, never published

    # -- users -------------------------------------------------------------------------

    def _user(self, user_id: str) -> User:
        user = self.state.users.by_id.get(user_id)
        if user is None:
            raise _Moot
        return user

    def _channel(self, name: str) -> Channel:
        channel = self.state.channels.live.get(self.state.casemap.fold(name))
        if channel is None:
            raise _Moot
        return channel

    def _announce(self, user: User, event: Event) -> None:
        """Deliver to everyone sharing a channel with ``user`` or monitoring it, once."""
        audience = self.state.neighbours(user)
        audience.update(self.state.monitors.watching(user.key))
        audience.discard(user)
        deliver(audience, event)

    def _arrived(self, event: UserArrived) -> None:
        state, actor = self.state, event.actor
        if not state.users.settle(actor.nick, actor.id):
            # Another node gave the nick out first (earlier in the log): refused here
            # as everywhere; the session that asked is told.
            self.arrivals.pop(actor.id, ELSEWHERE).refused(
                event, ChatError(Reason.NICK_IN_USE, actor.nick)
            )
            return
        user = User(
            actor.id,
            actor.nick,
            same(actor.nick, state.casemap.fold(actor.nick)),
            state.users.skeleton_of(actor.id, actor.nick),
            actor.username,
            actor.host,
            actor.realname,
            self.arrivals.pop(actor.id, ELSEWHERE),
            event.signon,
        )
        user.secure = event.secure
        if actor.account is not None and event.account_id is not None:
            user.account, user.account_id = actor.account, event.account_id
            state.account_users.setdefault(event.account_id, set()).add(user)
        state.users.add(user)
        user.listener.arrived(user)
        watchers = state.monitors.watching(user.key)
        if watchers:
            # Only then: most users are watched by nobody, and an idle user need not
            # carry an Actor.
            deliver(watchers, MonitoredOnline(user.actor))

    def _nick(self, event: NickChanged) -> None:
        state = self.state
        user = self._user(event.actor.id)
        if not state.users.settle(event.nick, user.id):
            user.listener.refused(event, ChatError(Reason.NICK_IN_USE, event.nick))
            return
        old_key = user.key
        state.users.rename(user, event.nick, state.clock())
        user.listener.deliver(event)
        deliver(state.neighbours(user), event)
        if old_key != user.key:
            deliver(state.monitors.watching(old_key), MonitoredOffline(event.actor.nick))
            deliver(state.monitors.watching(user.key), MonitoredOnline(user.actor))

    def _quit(self, event: Quit) -> None:
        state = self.state
        user = self._user(event.actor.id)
        deliver(state.neighbours(user), event)
        for channel in list(user.channels.values()):
            state.channels.leave(user, channel)
        state.users.remove(user, state.clock())
        state.channels.forget_invites(user)
        state.markers.take(owner_of(user.id, None))
        self._leave_account(user)
        state.monitors.clear(user)
        deliver(state.monitors.watching(user.key), MonitoredOffline(user.nick))
        # A device here of a user living on another node, which quit there as this
        # device attached (the home had not heard of it yet): its client reconnects.
        if event.forced or state.spread.home(user.id) != state.ids.prefix:
            user.listener.disconnect(event.reason)
        state.spread.forget(user.id)

    def _account_dropped(self, account_id: str) -> None:
        state = self.state
        state.dropped_accounts.add(account_id)
        for user in list(state.account_users.get(account_id, ())):
            self._account(AccountChanged(user.actor, None, None))
        state.markers.take(owner_of("", account_id))

    def _account(self, event: AccountChanged) -> None:
        state = self.state
        if event.account_id in state.dropped_accounts:
            # Decided on a node that had not applied the drop yet: nobody is logged in
            # to an account that is gone, on any node.
            event = AccountChanged(event.actor, None, None)
        user = self._user(event.actor.id)
        was = user.account
        self._leave_account(user)
        user.account, user.account_id = event.account, event.account_id
        if event.account_id is not None:
            state.account_users.setdefault(event.account_id, set()).add(user)
            # What was read before logging in moves to the account (MarkerMoved events
            # published after this one).
            state.markers.take(owner_of(user.id, None))
        user.changed()
        self._announce(user, event)
        if was is not None and event.account is None:
            # Logged out by the server (its account dropped, here or from the shell):
            # the user's own connections are told too (probe 30: they were not).
            user.listener.deliver(event)

    def _leave_account(self, user: User) -> None:
        """Forget a user in its account's set; the account's markers stay in memory only
        while someone is logged in to it."""
        if user.account_id is None:
            return
        users = self.state.account_users.get(user.account_id)
        if users is not None:
            users.discard(user)
            if not users:
                del self.state.account_users[user.account_id]
                self.state.markers.take(owner_of("", user.account_id))

    def _user_modes(self, event: UserModeChanged) -> None:
        user = self._user(event.actor.id)
        counts = self.state.users.mode_counts
        if event.oper_name is not None:
            user.oper_name = event.oper_name
        for change in event.changes:
            if change.adding:
                user.modes = user.modes | {change.mode}
                counts[change.mode] += 1
            else:
                user.modes = user.modes - {change.mode}
                counts[change.mode] -= 1
                if change.mode == "o":
                    user.oper_name = None
            if change.mode == "B":
                user.changed()
        if event.changes:
            user.listener.deliver(event)

    def _marker(self, event: MarkerMoved) -> None:
        self.state.markers.move(event.owner, event.key, event.time, event.forgotten)
        account = account_of(event.owner)
        if account is not None and not event.quiet:
            others = self.state.account_users.get(account, ())
            deliver((u for u in others if u.id != event.by), event)

    # -- channels ----------------------------------------------------------------------

    def _joined(self, event: Joined) -> None:
        state = self.state
        user = self._user(event.actor.id)
        key = state.casemap.fold(event.channel)
        channel = state.channels.live.get(key)
        status = event.status
        if channel is not None and event.created is not None:
            # Made on another node first (earlier in the log): a join into it, with no
            # status for being first.
            status = ""
        if channel is not None and user not in channel.members:
            # Decided on a node that had not yet applied what came before it in the log
            # (+l filled, +i or a ban set elsewhere): refused as one server would.
            try:
                check_entry(
                    state, user, channel, None, state.channels.registered.get(key), with_key=False
                )
            except ChatError as error:
                user.listener.refused(event, error)
                return
        elif channel is None:
            if not state.channels.settle(key, event.incarnation, name=event.channel):
                user.listener.refused(event, ChatError(Reason.NAME_IN_USE, event.channel))
                return
            channel = Channel(event.channel, key, event.created or 0.0, event.incarnation)
            record = state.channels.registered.get(key)
            if record is None:
                channel.flags.update(DEFAULT_CHANNEL_MODES)
            else:
                record.restore(channel)
            state.channels.add(channel)
        state.channels.uninvite(user, channel)
        channel.join(user, status)
        if user.channels is NO_CHANNELS:
            user.channels = {}
        user.channels[key] = channel
        deliver(channel.members, event)
        if user.away is not None:
            # away-notify: "servers SHOULD send an AWAY ... after a user joins a channel"
            away = AwayChanged(user.actor, user.away)
            deliver((m for m in channel.members if m is not user), away)

    def _channel_modes(self, event: ChannelModeChanged) -> None:
        channel = self._channel(event.channel)
        lasting = False
        applied = []
        for change in event.changes:
            if list_full(self.state, channel, change):
                continue  # filled meanwhile by changes decided at once (probe 21)
            lasting |= apply_mode(self.state, channel, change, event.actor.mask, event.time)
            applied.append(change)
        if not applied:
            return
        if len(applied) != len(event.changes):
            event = replace(event, changes=tuple(applied))
        deliver(channel.members, event)
        if lasting:
            self.state.channels.keep_state(channel)

    def _invited(self, event: Invited) -> None:
        state = self.state
        invitee = self._user(event.invitee)
        channel = state.channels.live.get(state.casemap.fold(event.channel))
        if event.admits and channel is not None:
            state.channels.invite(invitee, channel)
        invitee.listener.deliver(event)
        inviter = state.users.by_id.get(event.actor.id)
        if channel is not None and inviter in channel.members:
            # invite-notify: the other members may hear of it; doors pick who wants to.
            deliver((m for m in channel.members if m is not inviter), event)

    def _renamed(self, event: ChannelRenamed) -> None:
        channels = self.state.channels
        channel = self._channel(event.old)
        key = self.state.casemap.fold(event.new)
        if key != channel.key and not channels.settle(
            key, channel.incarnation, channel.key, name=event.new
        ):
            # Another node gave the name out first (earlier in the log).
            renamer = self.state.users.by_id.get(event.actor.id)
            if renamer is not None:
                renamer.listener.refused(event, ChatError(Reason.NAME_IN_USE, event.new))
            return
        record = channels.registered.get(channel.key)
        if record is not None and key != channel.key:
            channels.unregister(record.key)
        channels.rekey(channel, event.new, key)
        if record is not None:
            # The registration goes with the channel, its incarnation (history) too.
            moved = replace(record, key=key, incarnation=channel.incarnation)
            channels.keep(moved.with_state_of(channel))
        deliver(channel.members, event)

    # -- messages ----------------------------------------------------------------------

    def _message(self, event: MessagePosted) -> None:
        state = self.state
        sender = state.users.by_id.get(event.actor.id)
        sender_account = sender.account_id if sender is not None else None
        channel = state.channels.live.get(event.to)
        event = self.stamps.stamped(event, channel.key if channel is not None else None)
        self.messages += 1
        if channel is not None:
            if event.status:
                # STATUSMSG: "@#chan" reaches operators, "+#chan" voiced users and up.
                ranks = statuses_from(event.status)
                for member, modes in channel.members.items():
                    if member is not sender and not ranks.isdisjoint(modes):
                        member.deliver(event)
                        self.delivered += member.listener is not ELSEWHERE
            else:
                for audience, group in channel.audiences.items():
                    if audience is not None:
                        skip = group.get(sender) if sender is not None else None
                        audience.post(event, group.values(), skip)
                        # One addition per audience, not per member: the fan-out's cost.
                        self.delivered += len(group) - (skip is not None)
                    else:
                        for member in group:
                            if member is not sender:
                                member.deliver(event)
                                self.delivered += member.listener is not ELSEWHERE
            sent = Sent(event.actor.id, sender_account, channel.incarnation, channel.name, None)
        else:
            recipient = state.users.by_id.get(event.to)
            if recipient is None:
                return
            recipient.deliver(event)
            self.delivered += recipient.listener is not ELSEWHERE
            sent = Sent(
                event.actor.id, sender_account, recipient.id, recipient.nick, recipient.account_id
            )
        state.recent.keep(event.msgid, sent)
        if sender is not None:
            sender.listener.echo(event)
            if event.kind is not MessageKind.TAGMSG:
                sender.last_active = event.time

    def _redacted(self, event: MessageRedacted) -> None:
        state = self.state
        state.recent.forget(event.msgid)
        if event.other:
            audience = [state.users.by_id.get(event.actor.id), state.users.by_id.get(event.other)]
            deliver((u for u in audience if u is not None), event)
        else:
            deliver(self._channel(event.target).members, event)
