"""The hub: every operation on the chat, its rules, and who hears about it.

Each operation checks its rules first and raises :class:`ChatError` before changing
anything; then it changes state and delivers one event to each listener that must see
it, in one synchronous pass.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from hubbub.core.channel_modes import apply_channel_modes
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AwayChanged,
    Event,
    Invited,
    Joined,
    Kicked,
    Killed,
    Listener,
    MessageKind,
    MessagePosted,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
    TopicChanged,
    UserModeChanged,
    Wallops,
)
from hubbub.core.model import Channel, Topic, User
from hubbub.core.modes import DEFAULT_CHANNEL_MODES, ModeChange, statuses_from
from hubbub.core.monitor import Monitors
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.errors import InvalidName

_NO_TAGS: Mapping[str, str] = {}


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


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    nick: str
    key: Key
    username: str
    host: str
    realname: str
    time: float


class Hub:
    """All users and channels of this server, and the operations on them.

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
        self.monitors = Monitors(casemap, self.limits.monitor_length)
        # Message ids: unique within this process by the counter, across restarts by the
        # random prefix.
        self._msgid_prefix = secrets.token_hex(4)
        self._msgid_counter = itertools.count(1)
        self.whowas_entries: deque[WhowasEntry] = deque(maxlen=self.limits.whowas_length)

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
        holder = self._skeletons.get(self.casemap.skeleton(nick))
        if holder is not None and holder is not user:
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

    # -- users -------------------------------------------------------------------------

    def register(
        self,
        nick: str,
        username: str,
        host: str,
        realname: str,
        listener: Listener,
        secure: bool = False,
    ) -> User:
        """Add a user that finished registration.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        nick = self.check_nick(nick)
        user = User(
            nick,
            self.casemap.fold(nick),
            self.casemap.skeleton(nick),
            username,
            host,
            realname,
            listener,
            self.clock(),
        )
        user.secure = secure
        self.users[user.key] = user
        self._skeletons[user.skeleton] = user
        self.peak_users = max(self.peak_users, len(self.users))
        self._deliver(self.monitors.watching(user.key), MonitoredOnline(user.actor))
        return user

    def change_nick(self, user: User, nick: str) -> None:
        """Rename ``user``; everyone sharing a channel with them is told.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        nick = self.check_nick(nick, user)
        if nick == user.nick:
            return
        event = NickChanged(user.actor, nick)
        self._remember(user)
        del self.users[user.key]
        del self._skeletons[user.skeleton]
        old_key = user.key
        user.nick = nick
        user.key = self.casemap.fold(nick)
        user.skeleton = self.casemap.skeleton(nick)
        self.users[user.key] = user
        self._skeletons[user.skeleton] = user
        user.changed()
        for channel in user.channels.values():
            if old_key in channel.invited:
                channel.invited.discard(old_key)
                channel.invited.add(user.key)
        user.listener.deliver(event)
        self._deliver(self.neighbours(user), event)
        if old_key != user.key:
            self._deliver(self.monitors.watching(old_key), MonitoredOffline(event.actor.nick))
            self._deliver(self.monitors.watching(user.key), MonitoredOnline(user.actor))

    def quit(self, user: User, reason: str) -> None:
        """Remove a user; everyone sharing a channel with them sees the quit."""
        if self.users.get(user.key) is not user:
            return
        event = Quit(user.actor, reason)
        self._deliver(self.neighbours(user), event)
        for channel in list(user.channels.values()):
            self._leave(user, channel)
        self._remember(user)
        del self.users[user.key]
        del self._skeletons[user.skeleton]
        self.monitors.clear(user)
        self._deliver(self.monitors.watching(user.key), MonitoredOffline(user.nick))

    def kill(self, killer: User, nick: str, reason: str) -> User:
        """Disconnect another user by operator's order.

        Raises:
            ChatError: NO_PRIVILEGES or NO_SUCH_NICK.
        """
        if not killer.is_oper:
            raise ChatError(Reason.NO_PRIVILEGES)
        victim = self.find_user(nick)
        if victim is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick)
        victim.listener.deliver(Killed(killer.actor, victim.nick, reason))
        message = f"Killed ({killer.nick} ({reason}))"
        self.quit(victim, message)
        victim.listener.disconnect(message)
        return victim

    def set_away(self, user: User, text: str | None) -> None:
        """Mark ``user`` away (or back); neighbours and watchers are told (away-notify)."""
        away = text[: self.limits.away_length] if text else None
        if away == user.away:
            return
        user.away = away
        self._announce(user, AwayChanged(user.actor, away))

    def set_realname(self, user: User, realname: str) -> None:
        """Change ``user``'s real name (SETNAME); neighbours and watchers are told."""
        user.realname = realname
        user.changed()
        event = RealnameChanged(user.actor, realname)
        user.listener.deliver(event)
        self._announce(user, event)

    def _announce(self, user: User, event: Event) -> None:
        """Deliver to everyone sharing a channel with ``user`` or monitoring it, once."""
        audience = self.neighbours(user)
        audience.update(self.monitors.watching(user.key))
        audience.discard(user)
        self._deliver(audience, event)

    def make_oper(self, user: User, oper_name: str) -> None:
        user.oper_name = oper_name
        self.change_user_modes(user, [ModeChange(True, "o")], allow_oper=True)

    def change_user_modes(
        self, user: User, changes: Iterable[ModeChange], allow_oper: bool = False
    ) -> list[ModeChange]:
        """Apply user mode changes; return those that changed something.

        ``+o`` comes only from OPER; a user may drop it with ``-o``.
        """
        applied = []
        for change in changes:
            if change.mode == "o" and change.adding and not allow_oper:
                continue
            if change.mode == "r":
                continue
            if change.mode == "B":
                user.changed()
            if change.adding and change.mode not in user.modes:
                user.modes.add(change.mode)
            elif not change.adding and change.mode in user.modes:
                user.modes.discard(change.mode)
                if change.mode == "o":
                    user.oper_name = None
            else:
                continue
            applied.append(change)
        if applied:
            user.listener.deliver(UserModeChanged(user.actor, user.nick, tuple(applied)))
        return applied

    def wallops(self, user: User, text: str) -> None:
        """Send a message to every user with mode +w.

        Raises:
            ChatError: NO_PRIVILEGES for a non-operator.
        """
        if not user.is_oper:
            raise ChatError(Reason.NO_PRIVILEGES)
        event = Wallops(user.actor, text)
        self._deliver((u for u in self.users.values() if "w" in u.modes), event)

    # -- channels ----------------------------------------------------------------------

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

    def masks_of(self, user: User) -> tuple[str, ...]:
        """The folded masks that bans and exceptions are matched against."""
        return (self.casemap.fold(user.mask),)

    def member_channel(self, user: User, name: str) -> Channel:
        """The channel ``name``, which ``user`` must be in.

        Raises:
            ChatError: NO_SUCH_CHANNEL or NOT_ON_CHANNEL.
        """
        channel = self.find_channel(name)
        if channel is None:
            raise ChatError(Reason.NO_SUCH_CHANNEL, name)
        if user not in channel.members:
            raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
        return channel

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
        target.listener.deliver(
            Invited(user.actor, target.nick, channel.name if channel else name)
        )
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

    # -- messages ----------------------------------------------------------------------

    def say(
        self,
        user: User,
        target: str,
        text: str,
        kind: MessageKind = MessageKind.PRIVMSG,
        status: str = "",
        tags: Mapping[str, str] = _NO_TAGS,
    ) -> tuple[User | Channel, MessagePosted]:
        """Send a message to a channel (its members, or those with at least the status
        mode ``status``) or to a user.

        Returns:
            the channel or user that was messaged, and the event (for echoes).

        Raises:
            ChatError: NO_SUCH_NICK, NO_SUCH_CHANNEL or CANNOT_SEND.
        """
        now = self.clock()
        if kind is not MessageKind.TAGMSG:
            user.last_active = now
        msgid = f"{self._msgid_prefix}{next(self._msgid_counter):x}"
        if target.startswith("#"):
            channel = self.find_channel(target)
            if channel is None:
                raise ChatError(Reason.NO_SUCH_CHANNEL, target)
            self._check_speech(user, channel, text)
            event = MessagePosted(user.actor, channel.name, text, kind, status, tags, now, msgid)
            if status:
                # STATUSMSG: "@#chan" reaches operators, "+#chan" voiced users and up.
                ranks = statuses_from(status)
                for member, modes in channel.members.items():
                    if member is not user and not ranks.isdisjoint(modes):
                        member.listener.deliver(event)
            else:
                for member in channel.members:
                    if member is not user:
                        member.listener.deliver(event)
            return channel, event
        recipient = self.find_user(target)
        if recipient is None:
            raise ChatError(Reason.NO_SUCH_NICK, target)
        event = MessagePosted(user.actor, recipient.nick, text, kind, "", tags, now, msgid)
        recipient.listener.deliver(event)
        return recipient, event

    def _check_speech(self, user: User, channel: Channel, text: str) -> None:
        # +C: CTCP requests other than ACTION are not relayed.
        if "C" in channel.flags and text.startswith("\x01") and not text.startswith("\x01ACTION"):
            raise ChatError(Reason.CANNOT_SEND, channel.name, "CTCPs are not allowed (+C)")
        status = channel.members.get(user)
        if status is None:
            if "n" in channel.flags:
                raise ChatError(Reason.CANNOT_SEND, channel.name, "no external messages (+n)")
            status = ""
        if status:
            return
        if "m" in channel.flags:
            raise ChatError(Reason.CANNOT_SEND, channel.name, "channel is moderated (+m)")
        masks = self.masks_of(user)
        if channel.matches("b", masks, speaking=True) and not channel.matches(
            "e", masks, speaking=True
        ):
            raise ChatError(Reason.CANNOT_SEND, channel.name, "you are banned (+b)")

    # -- internals ---------------------------------------------------------------------

    def _leave(self, user: User, channel: Channel) -> None:
        del channel.members[user]
        del user.channels[channel.key]
        if not channel.members:
            del self.channels[channel.key]

    def _remember(self, user: User) -> None:
        self.whowas_entries.append(
            WhowasEntry(user.nick, user.key, user.username, user.host, user.realname, self.clock())
        )

    @staticmethod
    def _deliver(listeners: Iterable[User], event: Event) -> None:
        for user in listeners:
            user.listener.deliver(event)
