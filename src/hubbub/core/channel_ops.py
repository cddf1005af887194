"""Operations on channels: joining, leaving, kicking, inviting, topics and modes."""

from __future__ import annotations

from hubbub.core.channel_modes import apply_channel_modes
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AwayChanged,
    ChannelRenamed,
    Invited,
    Joined,
    Kicked,
    Parted,
    TopicChanged,
)
from hubbub.core.hub_base import HubBase
from hubbub.core.model import Channel, Topic, User
from hubbub.core.modes import DEFAULT_CHANNEL_MODES, ModeChange
from hubbub.wire.errors import InvalidName


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
        if channel is None:
            channel = Channel(name, channel_key, self.clock())
            channel.flags.update(DEFAULT_CHANNEL_MODES)
            self.channels[channel_key] = channel
            status = "o"
        else:
            self._check_entry(user, channel, key)
            status = ""
        channel.invited.discard(user.key)
        channel.members[user] = status
        user.channels[channel_key] = channel
        self._deliver(channel.members, Joined(user.actor, channel.name))
        if user.away is not None:
            # away-notify: "servers SHOULD send an AWAY ... after a user joins a channel"
            event = AwayChanged(user.actor, user.away)
            self._deliver((m for m in channel.members if m is not user), event)
        return channel

    def _check_entry(self, user: User, channel: Channel, key: str | None) -> None:
        invited = user.key in channel.invited
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
        """Invite ``nick`` into a channel; the invitee is told.

        Raises:
            ChatError: NO_SUCH_NICK, NOT_ON_CHANNEL, CHANOP_NEEDED, USER_ON_CHANNEL.
        """
        target = self.find_user(nick)
        if target is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick)
        channel = self.find_channel(name)
        if channel is not None:
            if user not in channel.members:
                raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
            if "i" in channel.flags and not channel.is_op(user):
                raise ChatError(Reason.CHANOP_NEEDED, channel.name)
            if target in channel.members:
                raise ChatError(Reason.USER_ON_CHANNEL, target.nick, channel.name)
            channel.invited.add(target.key)
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
        return apply_channel_modes(self, user, channel, changes)

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
        if key != channel.key and key in self.channels:
            raise ChatError(Reason.NAME_IN_USE, channel.name, new)
        event = ChannelRenamed(user.actor, channel.name, new, reason)
        del self.channels[channel.key]
        for member in channel.members:
            del member.channels[channel.key]
            member.channels[key] = channel
        channel.name, channel.key = new, key
        self.channels[key] = channel
        self._deliver(channel.members, event)
        return channel
