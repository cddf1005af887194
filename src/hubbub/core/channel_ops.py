"""Operations on channels: joining, leaving, kicking, inviting, topics and modes."""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.channel_modes import apply_channel_modes
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    Actor,
    AwayChanged,
    ChannelModeChanged,
    ChannelRenamed,
    Invited,
    Joined,
    Kicked,
    Parted,
    TopicChanged,
)
from hubbub.core.hub_base import HubBase
from hubbub.core.model import NO_CHANNELS, Channel, Topic, User
from hubbub.core.modes import DEFAULT_CHANNEL_MODES, PREFIXES, ModeChange
from hubbub.core.registered import RegisteredChannel
from hubbub.wire.errors import InvalidName

# The service that grants registered status, as events name it.
SERVICE = Actor("ChanServ", "ChanServ", "services.hubbub")


class ChannelOperations(HubBase):
    """The hub's channel operations."""

    def join(self, user: User, name: str, key: str | None = None) -> Channel | None:
        """Put ``user`` in a channel, creating it (with ``user`` as operator) if needed.

        Returns:
            the channel, or None if ``user`` was already in it.

        Raises:
            ChatError: BAD_CHANNEL_NAME, TOO_MANY_CHANNELS, INVITE_ONLY, BANNED,
                BAD_KEY or CHANNEL_FULL.
        """
        try:
            name = self.casemap.check_channel(name)
        except InvalidName as error:
            raise ChatError(Reason.BAD_CHANNEL_NAME, name, str(error)) from None
        channel_key = self.casemap.fold(name)
        channel = self.channels.get(channel_key)
        if channel is not None and user in channel.members:
            return None
        if len(user.channels) >= self.limits.channels_per_user:
            raise ChatError(Reason.TOO_MANY_CHANNELS, name)
        record = self.registered.get(channel_key)
        if channel is None:
            channel = Channel(
                record.name if record else name,
                channel_key,
                self.clock(),
                f"{channel_key} {self._new_id()}",
            )
            if record is None:
                channel.flags.update(DEFAULT_CHANNEL_MODES)
                status = "o"
            else:
                # An empty registered channel keeps its rules: they are checked as if
                # it were live, before it is made again.
                record.restore(channel)
                self._check_entry(user, channel, key, record)
                # Its status comes from its access list, not from being first.
                status = ""
            self.channels[channel_key] = channel
        else:
            self._check_entry(user, channel, key, record)
            status = ""
        self._uninvite(user, channel)
        channel.members[user] = status
        if user.channels is NO_CHANNELS:
            user.channels = {}
        user.channels[channel_key] = channel
        self._deliver(channel.members, Joined(user.actor, channel.name))
        if record is not None:
            self._grant_access(user, channel, record)
        if user.away is not None:
            # away-notify: "servers SHOULD send an AWAY ... after a user joins a channel"
            event = AwayChanged(user.actor, user.away)
            self._deliver((m for m in channel.members if m is not user), event)
        return channel

    def _check_entry(
        self, user: User, channel: Channel, key: str | None, record: RegisteredChannel | None
    ) -> None:
        if record is not None and record.status_for(user.account_id):
            # Its founder and access list come in past its modes: nobody else could
            # let them into an empty +i channel, nor unban them.
            return
        invited = user in channel.invited
        masks = self.masks_of(user)
        if "i" in channel.flags and not invited and not channel.matches("I", masks):
            raise ChatError(Reason.INVITE_ONLY, channel.name)
        if channel.matches("b", masks) and not channel.matches("e", masks) and not invited:
            raise ChatError(Reason.BANNED, channel.name)
        if channel.password is not None and key != channel.password:
            raise ChatError(Reason.BAD_KEY, channel.name)
        if channel.limit is not None and len(channel.members) >= channel.limit and not invited:
            raise ChatError(Reason.CHANNEL_FULL, channel.name)

    def part(self, user: User, name: str, reason: str = "") -> None:
        """Take ``user`` out of a channel; its members see the part."""
        channel = self.member_channel(user, name)
        self._deliver(channel.members, Parted(user.actor, channel.name, reason))
        self._leave(user, channel)

    def part_all(self, user: User) -> None:
        """``JOIN 0``: leave every channel."""
        for channel in list(user.channels.values()):
            self.part(user, channel.name, "")

    def kick(self, user: User, name: str, nick: str, reason: str) -> None:
        """Remove ``nick`` from a channel by its operator's order.

        Raises:
            ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, USER_NOT_IN_CHANNEL.
        """
        channel = self.member_channel(user, name)
        if not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        victim = self.find_user(nick)
        if victim is None or victim not in channel.members:
            raise ChatError(Reason.USER_NOT_IN_CHANNEL, nick, channel.name)
        reason = reason[: self.limits.kick_length]
        self._deliver(channel.members, Kicked(user.actor, channel.name, victim.nick, reason))
        self._leave(victim, channel)

    def invite(self, user: User, nick: str, name: str) -> tuple[User, Channel | None]:
        """Invite ``nick`` into a channel; the invitee is told. An operator's invite lets
        them in past the channel's rules; it is for that user, not the nick, and ends
        when they quit or the channel empties.

        Raises:
            ChatError: NO_SUCH_NICK, BAD_CHANNEL_NAME, NOT_ON_CHANNEL, CHANOP_NEEDED,
                USER_ON_CHANNEL.
        """
        target = self.find_user(nick)
        if target is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick)
        channel = self.find_channel(name)
        if channel is not None and not channel.visible_to(user):
            # Answered as for a channel that does not exist, which changes nothing.
            channel = None
        if channel is None:
            # Relayed as it is to the invitee: it must be a channel name, not any text.
            try:
                name = self.casemap.check_channel(name)
            except InvalidName as error:
                raise ChatError(Reason.BAD_CHANNEL_NAME, name, str(error)) from None
        else:
            if user not in channel.members:
                raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
            if "i" in channel.flags and not channel.is_op(user):
                raise ChatError(Reason.CHANOP_NEEDED, channel.name)
            if target in channel.members:
                raise ChatError(Reason.USER_ON_CHANNEL, target.nick, channel.name)
            if channel.is_op(user):
                # Only an operator's invite lets someone past +i, +l and bans: any
                # member's would undo the operators' bans.
                self._invite(target, channel)
        event = Invited(user.actor, target.nick, channel.name if channel else name)
        target.listener.deliver(event)
        if channel is not None:
            # invite-notify: the other members may hear of it; doors pick who wants to.
            self._deliver((m for m in channel.members if m is not user), event)
        return target, channel

    def set_topic(self, user: User, name: str, text: str) -> None:
        """Set (or clear, with an empty text) a channel's topic.

        Raises:
            ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED (with +t).
        """
        channel = self.member_channel(user, name)
        if "t" in channel.flags and not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        text = text[: self.limits.topic_length]
        channel.topic = Topic(text, user.mask, self.clock()) if text else None
        self._deliver(channel.members, TopicChanged(user.actor, channel.name, text))
        self.channel_changed(channel)

    def change_channel_modes(
        self, user: User, channel: Channel, changes: list[ModeChange]
    ) -> tuple[list[ModeChange], list[ChatError]]:
        """Apply channel mode changes by a channel operator.

        Returns:
            the changes that took effect (announced to the members), and the
            refusals of single changes.

        Raises:
            ChatError: CHANOP_NEEDED when ``user`` may change no modes at all.
        """
        if not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        applied, errors = apply_channel_modes(self, user, channel, changes)
        if any(change.mode not in PREFIXES for change in applied):
            self.channel_changed(channel)
        return applied, errors

    def rename(self, user: User, old: str, new: str, reason: str = "") -> Channel:
        """Give a channel a new name, keeping its members, modes and topic.

        Raises:
            ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, BAD_CHANNEL_NAME,
                NAME_IN_USE.
        """
        channel = self.member_channel(user, old)
        if not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        try:
            new = self.casemap.check_channel(new)
        except InvalidName as error:
            raise ChatError(Reason.BAD_CHANNEL_NAME, new, str(error)) from None
        key = self.casemap.fold(new)
        if key != channel.key and (key in self.channels or key in self.registered):
            # A registered name is taken even while its channel is empty.
            raise ChatError(Reason.NAME_IN_USE, channel.name, new)
        record = self.registered.get(channel.key)
        if record is not None and key != channel.key:
            if user.account_id != record.founder:
                raise ChatError(Reason.NO_PRIVILEGES, channel.name, "only its founder may")
            del self.registered[record.key]
            if self.channel_sink is not None:
                self.channel_sink.delete(record.key)
        event = ChannelRenamed(user.actor, channel.name, new, reason)
        del self.channels[channel.key]
        for member in channel.members:
            del member.channels[channel.key]
            member.channels[key] = channel
        channel.name, channel.key = new, key
        self.channels[key] = channel
        if record is not None:
            # The registration goes with the channel, its incarnation (history) too.
            moved = replace(record, key=key, incarnation=channel.incarnation)
            self._keep_registration(moved.with_state_of(channel))
        self._deliver(channel.members, event)
        return channel

    # -- registered channels (ChanServ) ------------------------------------------------

    def _grant_access(self, user: User, channel: Channel, record: RegisteredChannel) -> None:
        """Give a joining user the status its account has on a registered channel."""
        status = record.status_for(user.account_id)
        if status and status not in channel.members.get(user, ""):
            channel.members[user] = status + channel.members[user]
            change = ModeChange(True, status, user.nick)
            self._deliver(channel.members, ChannelModeChanged(SERVICE, channel.name, (change,)))

    def register_channel(self, user: User, name: str) -> RegisteredChannel:
        """Register a channel to ``user``'s account (its operator, logged in).

        Raises:
            ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, NO_PRIVILEGES (not
                logged in), NAME_IN_USE (already registered).
        """
        channel = self.member_channel(user, name)
        if not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        founder = user.account_id
        if founder is None or user.account is None:
            raise ChatError(Reason.NO_PRIVILEGES, channel.name, "log in to an account first")
        if channel.key in self.registered:
            raise ChatError(Reason.NAME_IN_USE, channel.name)
        record = RegisteredChannel(
            channel.key,
            channel.name,
            founder,
            self.clock(),
            names={founder: user.account},
            # What was said since this incarnation began stays readable.
            incarnation=channel.incarnation,
        )
        self._keep_registration(record.with_state_of(channel))
        return self.registered[channel.key]

    def drop_channel(self, user: User, name: str) -> None:
        """Forget a channel's registration (its founder only)."""
        record = self.founded_by(user, name)
        del self.registered[record.key]
        if self.channel_sink is not None:
            self.channel_sink.delete(record.key)

    def set_access(
        self, user: User, name: str, account_id: str, account: str, status: str | None
    ) -> None:
        """Give an account (by id, and its name to show) a status on a registered
        channel, or take it away with None (founder only)."""
        record = self.founded_by(user, name)
        access = dict(record.access)
        names = dict(record.names)
        if status is None:
            access.pop(account_id, None)
            if account_id != record.founder:
                names.pop(account_id, None)
        else:
            access[account_id] = status
            names[account_id] = account
        self._keep_registration(replace(record, access=access, names=names))

    def founded_by(self, user: User, name: str) -> RegisteredChannel:
        """A registered channel, which ``user`` must have founded.

        Raises:
            ChatError: NO_SUCH_CHANNEL (not registered) or NO_PRIVILEGES.
        """
        record = self.registered.get(self.casemap.fold(name))
        if record is None:
            raise ChatError(Reason.NO_SUCH_CHANNEL, name)
        if user.account_id is None or user.account_id != record.founder:
            raise ChatError(Reason.NO_PRIVILEGES, record.name, "only its founder may")
        return record

    def forget_account_rights(self, account_id: str) -> None:
        """An account is gone: the channels it founded are no longer registered, and it
        leaves every access list."""
        for record in list(self.registered.values()):
            if record.founder == account_id:
                del self.registered[record.key]
                if self.channel_sink is not None:
                    self.channel_sink.delete(record.key)
            elif account_id in record.access:
                access = {k: v for k, v in record.access.items() if k != account_id}
                names = {k: v for k, v in record.names.items() if k != account_id}
                self._keep_registration(replace(record, access=access, names=names))

    def _keep_registration(self, record: RegisteredChannel) -> None:
        self.registered[record.key] = record
        if self.channel_sink is not None:
            self.channel_sink.save(record)

    def channel_changed(self, channel: Channel) -> None:
        """A channel's topic, modes or lists changed: a registered one keeps them."""
        record = self.registered.get(channel.key)
        if record is not None:
            self._keep_registration(record.with_state_of(channel))
