"""What users do in channels: join, part, kick, invite, topics, modes and renames.

Each function checks a request against the state and returns the events it causes,
changing nothing (:mod:`~hubbub.core.apply` does); a refusal raises
:class:`~hubbub.core.errors.ChatError`.
"""

from __future__ import annotations

from hubbub.core.channel_modes import decide_channel_modes
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    Actor,
    ChannelModeChanged,
    ChannelRenamed,
    Event,
    Invited,
    Joined,
    Kicked,
    Parted,
    TopicChanged,
)
from hubbub.core.model import Channel, User
from hubbub.core.modes import CHANNEL_MODES, DEFAULT_CHANNEL_MODES, ModeChange, ModeKind
from hubbub.core.presence import KeptChannel
from hubbub.core.registered import RegisteredChannel
from hubbub.core.state import State
from hubbub.wire.casemap import Key
from hubbub.wire.errors import InvalidName

# The service that grants registered status, as events name it.
SERVICE = Actor("ChanServ", "ChanServ", "services.hubbub")


def check_channel_name(state: State, name: str) -> str:
    """Raises:
    ChatError: BAD_CHANNEL_NAME."""
    try:
        return state.casemap.check_channel(name)
    except InvalidName as error:
        raise ChatError(Reason.BAD_CHANNEL_NAME, name, str(error)) from None


def join(state: State, user: User, name: str, key: str | None = None) -> list[Event]:
    """Put ``user`` in a channel, making it (with ``user`` as operator) if needed; no
    events when ``user`` is in it already.

    Raises:
        ChatError: BAD_CHANNEL_NAME, TOO_MANY_CHANNELS, INVITE_ONLY, BANNED, BAD_KEY,
            CHANNEL_FULL, or NAME_IN_USE (another node made it meanwhile).
    """
    name = check_channel_name(state, name)
    channel_key = state.casemap.fold(name)
    channel = state.channels.live.get(channel_key)
    if channel is not None and user in channel.members:
        return []
    if len(user.channels) >= state.limits.channels_per_user:
        raise ChatError(Reason.TOO_MANY_CHANNELS, name)
    record = state.channels.registered.get(channel_key)
    if channel is None:
        pending = state.channels.pending(channel_key) if record is None else None
        if pending is not None:
            # Being made by another JOIN on this node whose fact is not back yet: a
            # join into it, not a second making (which was refused: 400, name taken).
            return [Joined(user.actor, name, "", None, pending)]
        if record is None:
            incarnation = f"{channel_key} {state.ids.new()}"
            joined = Joined(user.actor, name, "o", state.clock(), incarnation)
        else:
            # An empty registered channel keeps its rules: they are checked as if it
            # were live, before it is made again. Its status comes from its access
            # list, not from being first.
            incarnation = record.incarnation or record.key
            draft = Channel(record.name, channel_key, 0.0, incarnation)
            record.restore(draft)
            check_entry(state, user, draft, key, record)
            joined = Joined(user.actor, record.name, "", state.clock(), incarnation)
        state.channels.claim(channel_key, incarnation, name=name)
    else:
        check_entry(state, user, channel, key, record)
        joined = Joined(user.actor, channel.name)
    events: list[Event] = [joined]
    status = record.status_for(user.account_id) if record is not None else ""
    if status and status != joined.status:
        change = ModeChange(True, status, user.nick)
        events.append(ChannelModeChanged(SERVICE, joined.channel, (change,)))
    return events


def rejoin(state: State, user: User, kept: KeptChannel, remade: set[Key]) -> list[Event]:
    """An always-on user back in a channel after a restart (core/presences.py). An
    unregistered one nobody made again yet is made as it was: with the user's status
    in it (not an operator for being the first back, probe 24), its flags, exceptions,
    bans, key and limit (invite-only, bans, key and limit only if the user is its
    operator), and its key added to ``remade``. One in ``remade`` (made again by
    another of the users brought back, its operators first) is walked back into as it
    was left: with the user's status, past its modes. Any other (live, or registered) is
    joined as JOIN joins it, by its rules.

    Raises:
        ChatError: as :func:`join`.
    """
    name = check_channel_name(state, kept.name)
    channel_key = state.casemap.fold(name)
    channels = state.channels
    if channel_key in remade:
        return _walk_back(state, user, name, channel_key, kept.status)
    if (
        channel_key in channels.live
        or channel_key in channels.registered
        or channels.pending(channel_key) is not None
    ):
        return join(state, user, name, kept.key)
    if len(user.channels) >= state.limits.channels_per_user:
        raise ChatError(Reason.TOO_MANY_CHANNELS, name)
    incarnation = f"{channel_key} {state.ids.new()}"
    channels.claim(channel_key, incarnation, name=name)
    remade.add(channel_key)
    now = state.clock()
    flags = {mode for mode in kept.flags if CHANNEL_MODES.get(mode) is ModeKind.FLAG}
    key, limit = kept.key, kept.limit
    lists = [(mode, mask) for mode, mask in kept.lists if mode in ("b", "e", "I")]
    if "o" not in kept.status:
        # Nobody there could let anyone in, nor lift a ban: the channel comes back
        # open, its name not locked for as long as this user is kept (probes 25, 28).
        flags.discard("i")
        key = limit = None
        lists = [(mode, mask) for mode, mask in lists if mode != "b"]
    changes = [ModeChange(True, mode) for mode in sorted(flags - set(DEFAULT_CHANNEL_MODES))]
    changes += [ModeChange(False, mode) for mode in DEFAULT_CHANNEL_MODES if mode not in flags]
    if key:
        changes.append(ModeChange(True, "k", key))
    if limit is not None and limit > 0:
        changes.append(ModeChange(True, "l", str(limit)))
    most = state.limits.list_length
    changes += [ModeChange(True, mode, mask) for mode, mask in lists[:most]]
    events: list[Event] = [Joined(user.actor, name, kept.status, now, incarnation)]
    if changes:
        events.append(ChannelModeChanged(SERVICE, name, tuple(changes), now))
    return events


def _walk_back(state: State, user: User, name: str, channel_key: Key, status: str) -> list[Event]:
    """``user`` back in a channel made again at this start, with its status."""
    channel = state.channels.live.get(channel_key)
    if channel is not None and user in channel.members:
        return []
    if len(user.channels) >= state.limits.channels_per_user:
        raise ChatError(Reason.TOO_MANY_CHANNELS, name)
    pending = state.channels.pending(channel_key)
    if channel is not None:
        joined = Joined(user.actor, channel.name)
    elif pending is not None:
        joined = Joined(user.actor, name, "", None, pending)
    else:
        raise ChatError(Reason.NO_SUCH_CHANNEL, name)
    events: list[Event] = [joined]
    if status:
        changes = tuple(ModeChange(True, mode, user.nick) for mode in status)
        events.append(ChannelModeChanged(SERVICE, joined.channel, changes))
    return events


def check_entry(
    state: State,
    user: User,
    channel: Channel,
    key: str | None,
    record: RegisteredChannel | None,
    *,
    with_key: bool = True,
) -> None:
    """Whether ``user`` may walk into ``channel``: as JOIN asks, and again as the join
    is applied (``with_key`` False: the key is never in the log, and was checked).

    Raises:
        ChatError: INVITE_ONLY, BANNED, BAD_KEY, CHANNEL_FULL.
    """
    if record is not None and record.status_for(user.account_id):
        # Its founder and access list come in past its modes: nobody else could let
        # them into an empty +i channel, nor unban them.
        return
    invited = user in channel.invited
    masks = state.masks_of(user)
    if "i" in channel.flags and not invited and not channel.matches("I", masks):
        raise ChatError(Reason.INVITE_ONLY, channel.name)
    if channel.matches("b", masks) and not channel.matches("e", masks) and not invited:
        raise ChatError(Reason.BANNED, channel.name)
    if with_key and channel.password is not None and key != channel.password:
        raise ChatError(Reason.BAD_KEY, channel.name)
    if channel.limit is not None and len(channel.members) >= channel.limit and not invited:
        raise ChatError(Reason.CHANNEL_FULL, channel.name)


def part(state: State, user: User, name: str, reason: str = "") -> list[Event]:
    channel = state.channels.member_channel(user, name)
    return [Parted(user.actor, channel.name, reason)]


def kick(state: State, user: User, name: str, nick: str, reason: str) -> list[Event]:
    """Raises:
    ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, USER_NOT_IN_CHANNEL."""
    channel = state.channels.member_channel(user, name)
    if not channel.is_op(user):
        raise ChatError(Reason.CHANOP_NEEDED, channel.name)
    victim = state.users.find(nick)
    if victim is None or victim not in channel.members:
        raise ChatError(Reason.USER_NOT_IN_CHANNEL, nick, channel.name)
    reason = reason[: state.limits.kicklen]
    return [Kicked(user.actor, channel.name, victim.nick, reason, victim.id)]


def invite(
    state: State, user: User, nick: str, name: str
) -> tuple[User, Channel | None, list[Event]]:
    """Invite ``nick`` into a channel. An operator's invite lets them in past the
    channel's rules; it is for that user, not the nick, and ends when they quit or the
    channel empties.

    Raises:
        ChatError: NO_SUCH_NICK, BAD_CHANNEL_NAME, NOT_ON_CHANNEL, CHANOP_NEEDED,
            USER_ON_CHANNEL.
    """
    target = state.users.find(nick)
    if target is None:
        raise ChatError(Reason.NO_SUCH_NICK, nick)
    channel = state.channels.find(name)
    if channel is not None and not channel.visible_to(user):
        # Answered as for a channel that does not exist, which changes nothing.
        channel = None
    admits = False
    if channel is None:
        # Relayed as it is to the invitee: it must be a channel name, not any text.
        name = check_channel_name(state, name)
    else:
        if user not in channel.members:
            raise ChatError(Reason.NOT_ON_CHANNEL, channel.name)
        if "i" in channel.flags and not channel.is_op(user):
            raise ChatError(Reason.CHANOP_NEEDED, channel.name)
        if target in channel.members:
            raise ChatError(Reason.USER_ON_CHANNEL, target.nick, channel.name)
        # Only an operator's invite lets someone past +i, +l and bans: any member's
        # would undo the operators' bans.
        admits = channel.is_op(user)
        name = channel.name
    return target, channel, [Invited(user.actor, target.nick, name, target.id, admits)]


def set_topic(state: State, user: User, name: str, text: str) -> list[Event]:
    """Set (or clear, with an empty text) a channel's topic.

    Raises:
        ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED (with +t).
    """
    channel = state.channels.member_channel(user, name)
    if "t" in channel.flags and not channel.is_op(user):
        raise ChatError(Reason.CHANOP_NEEDED, channel.name)
    text = text[: state.limits.topiclen]
    return [
        TopicChanged(
            user.actor,
            channel.name,
            text,
            state.clock(),
            state.ids.msgid(),
            (channel.history_key,),
        )
    ]


def change_channel_modes(
    state: State, user: User, channel: Channel, changes: list[ModeChange]
) -> tuple[list[ModeChange], list[ChatError], list[Event]]:
    """Channel mode changes by a channel operator.

    Returns:
        the changes that take effect, the refusals of single changes, and the events.

    Raises:
        ChatError: CHANOP_NEEDED when ``user`` may change no modes at all.
    """
    if not channel.is_op(user):
        raise ChatError(Reason.CHANOP_NEEDED, channel.name)
    applied, errors = decide_channel_modes(state, channel, changes)
    if not applied:
        return applied, errors, []
    event = ChannelModeChanged(user.actor, channel.name, tuple(applied), state.clock())
    return applied, errors, [event]


def rename(state: State, user: User, old: str, new: str, reason: str = "") -> list[Event]:
    """Give a channel a new name, keeping its members, modes and topic.

    Raises:
        ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL, CHANOP_NEEDED, BAD_CHANNEL_NAME,
            NAME_IN_USE, NO_PRIVILEGES (a registered channel, by other than its founder).
    """
    channel = state.channels.member_channel(user, old)
    if not channel.is_op(user):
        raise ChatError(Reason.CHANOP_NEEDED, channel.name)
    new = check_channel_name(state, new)
    key = state.casemap.fold(new)
    channels = state.channels
    if key != channel.key and (key in channels.live or key in channels.registered):
        # A registered name is taken even while its channel is empty.
        raise ChatError(Reason.NAME_IN_USE, channel.name, new)
    record = channels.registered.get(channel.key)
    if record is not None and key != channel.key and user.account_id != record.founder:
        raise ChatError(Reason.NO_PRIVILEGES, channel.name, "only its founder may")
    if key != channel.key or new != channel.name:
        # A new spelling of the same name too: "#cIean" is drawn as a live "#clean"
        # (probe 20: a same-key RENAME skipped the look-alike check).
        try:
            channels.claim(key, channel.incarnation, renaming=channel.key, name=new)
        except ChatError as error:
            raise ChatError(error.reason, channel.name, new) from None
    return [ChannelRenamed(user.actor, channel.name, new, reason)]
