"""Channels and the people in them: joins, parts, kicks, quits, nick changes, topics,
NAMES, modes, away and invites. No I/O."""

from __future__ import annotations

from dataclasses import replace

from hubbub.client.handlers.profiles import carry_over, forget_unshared
from hubbub.client.handlers.replies import numeric_text
from hubbub.client.handlers.table import Table
from hubbub.client.state import (
    SERVER,
    Buffer,
    BufferKind,
    BuffersChanged,
    ChatState,
    Focus,
    Joined,
    Line,
    LineAdded,
    LineKind,
    Member,
    MembersChanged,
    Presence,
    StatusChanged,
    TopicChanged,
    nick_of,
    parse_time,
)
from hubbub.client.text import clean
from hubbub.wire import numerics as n
from hubbub.wire.message import Message

TABLE = Table()
handles = TABLE.handles


@handles("JOIN")
def _join(state: ChatState, message: Message) -> None:
    if not message.params:
        return
    nick = nick_of(message.source)
    when = state._time(message)
    for name in message.params[0].split(","):
        if not name:
            continue
        buffer = state.open(name, BufferKind.CHANNEL)
        key = buffer.key
        if state.is_me(nick):
            buffer.name = name
            buffer.joined = True
            buffer.members.clear()
            # The topic the server had before a reconnection may be gone: its RPL_TOPIC
            # follows this JOIN when there is one, and nothing at all when there is none.
            buffer.topic = ""
            # The same for its modes: the session asks for them (MODE) on joining.
            buffer.modes = ""
            state._names.pop(key, None)
            state._updates.extend(
                (Joined(key, name), MembersChanged(key), BuffersChanged(), TopicChanged(key))
            )
            buffer.arrival = Line(when, LineKind.INFO, "", f"You joined {clean(name)}")
            buffer.joined_at = parse_time(message.tags.get("time"))
            state._add(buffer, buffer.arrival)
            if key in state.focus_on_join:
                state.focus_on_join.discard(key)
                state._updates.append(Focus(key))
            continue
        buffer.members[state.fold(nick)] = Member(nick)
        state._updates.append(MembersChanged(key))
        _presence(state, buffer, Presence("join", clean(nick, 64)), when)


def _leave(state: ChatState, buffer: Buffer, nick: str, verb: str, when: float) -> None:
    if buffer.members.pop(state.fold(nick), None) is not None:
        state._updates.append(MembersChanged(buffer.key))
        _presence(state, buffer, Presence(verb, clean(nick, 64)), when)


@handles("PART")
def _part(state: ChatState, message: Message) -> None:
    if not message.params:
        return
    nick = nick_of(message.source)
    for name in message.params[0].split(","):
        buffer = state._channel(name)
        if buffer is None:
            continue
        if state.is_me(nick):
            gone = [m.nick for m in buffer.members.values()]
            buffer.joined = False
            buffer.members.clear()
            state._updates.extend((MembersChanged(buffer.key), BuffersChanged()))
            state.note(f"You left {buffer.name}", buffer.key)
            forget_unshared(state, gone)
        else:
            _leave(state, buffer, nick, "part", state._time(message))
            forget_unshared(state, (nick,))


@handles("KICK")
def _kick(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    buffer = state._channel(message.params[0])
    if buffer is None:
        return
    victim, by = message.params[1], nick_of(message.source)
    reason = clean(message.params[2]) if len(message.params) > 2 else ""
    if state.is_me(victim):
        gone = [m.nick for m in buffer.members.values()]
        buffer.joined = False
        buffer.members.clear()
        state._updates.extend((MembersChanged(buffer.key), BuffersChanged()))
        text = f"You were kicked by {clean(by, 64)}: {reason}"
        state._add(buffer, Line(state._time(message), LineKind.ERROR, "", text))
        forget_unshared(state, gone)
        return
    if buffer.members.pop(state.fold(victim), None) is not None:
        state._updates.append(MembersChanged(buffer.key))
    forget_unshared(state, (victim,))
    text = f"{clean(victim, 64)} was kicked by {clean(by, 64)}: {reason}"
    state._add(buffer, Line(state._time(message), LineKind.EVENT, "", text))


@handles("QUIT")
def _quit(state: ChatState, message: Message) -> None:
    nick = nick_of(message.source)
    when = state._time(message)
    for buffer in list(state.buffers.values()):
        if buffer.kind is BufferKind.CHANNEL:
            _leave(state, buffer, nick, "quit", when)
        elif buffer.kind is BufferKind.QUERY and buffer.key == state.fold(nick):
            _presence(state, buffer, Presence("quit", clean(nick, 64)), when)
    state.display_names.pop(state.fold(nick), None)


@handles("NICK")
def _nick(state: ChatState, message: Message) -> None:
    if not message.params:
        return
    old, new = nick_of(message.source), message.params[0]
    when = state._time(message)
    old_key, new_key = state.fold(old), state.fold(new)
    if state.is_me(old):
        state.nick = new
        state._updates.append(StatusChanged())
        state.note(f"You are now known as {clean(new, 64)}", SERVER)
    carry_over(state, old, new)
    change = Presence("nick", clean(old, 64), clean(new, 64))
    for buffer in list(state.buffers.values()):
        member = buffer.members.pop(old_key, None)
        if member is not None:
            buffer.members[new_key] = replace(member, nick=new)
            state._updates.append(MembersChanged(buffer.key))
            _presence(state, buffer, change, when)
    query = state.buffers.get(old_key)
    if query is not None and query.kind is BufferKind.QUERY and new_key not in state.buffers:
        del state.buffers[old_key]
        query.name, query.key = new, new_key
        state.buffers[new_key] = query
        if state.active == old_key:
            state.active = new_key
        _presence(state, query, change, when)
        state._updates.append(BuffersChanged())


@handles("TOPIC")
def _topic(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    buffer = state.open(message.params[0], BufferKind.CHANNEL)
    buffer.topic = clean(message.params[1])
    state._updates.append(TopicChanged(buffer.key))
    by = clean(nick_of(message.source), 64)
    text = f"{by} changed the topic to: {buffer.topic}" if buffer.topic else f"{by} unset it"
    state._add(buffer, Line(state._time(message), LineKind.EVENT, "", text))


@handles(n.RPL_TOPIC, n.RPL_NOTOPIC)
def _topic_reply(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    buffer = state._channel(message.params[1])
    if buffer is None:
        numeric_text(state, message)
        return
    buffer.topic = clean(message.params[2]) if message.command == n.RPL_TOPIC else ""
    state._updates.append(TopicChanged(buffer.key))
    if buffer.topic:
        state._add(buffer, Line(state._time(message), LineKind.INFO, "", f"Topic: {buffer.topic}"))


@handles(n.RPL_NAMREPLY)
def _names(state: ChatState, message: Message) -> None:
    if len(message.params) < 4:
        return
    key = state.fold(message.params[2])
    gathered = state._names.setdefault(key, {})
    for entry in message.params[3].split(" "):
        prefixes, nick = state._member_prefixes(entry)
        if nick:
            gathered[state.fold(nick)] = Member(nick, prefixes)


@handles(n.RPL_ENDOFNAMES)
def _end_of_names(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    key = state.fold(message.params[1])
    gathered = state._names.pop(key, {})
    buffer = state._channel(message.params[1])
    if buffer is None:
        return
    if buffer.joined:
        away = {k for k, m in buffer.members.items() if m.away}
        buffer.members = {k: replace(m, away=k in away) for k, m in gathered.items()}
        state._updates.append(MembersChanged(key))
    if key in state.names_requested:
        state.names_requested.discard(key)
        members = sorted(gathered.values(), key=lambda m: (state.rank(m), state.fold(m.nick)))
        listed = " ".join(m.prefixes[:1] + m.nick for m in members)
        text = clean(f"{len(members)} in {buffer.name}: {listed}")
        state._add(buffer, Line(state._time(message), LineKind.INFO, "", text))


@handles("MODE")
def _mode(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    target = message.params[0]
    by = clean(nick_of(message.source), 64) or state.network
    shown = clean(" ".join(message.params[1:]))
    buffer = state._channel(target)
    if buffer is None:
        if state.is_me(target):
            state.note(f"Your modes: {shown}", SERVER)
        return
    _apply_modes(state, buffer, message.params[1], list(message.params[2:]))
    state._add(buffer, Line(state._time(message), LineKind.EVENT, "", f"{by} sets mode {shown}"))


@handles(n.RPL_CHANNELMODEIS)
def _channel_modes(state: ChatState, message: Message) -> None:
    if len(message.params) < 3:
        return
    buffer = state._channel(message.params[1])
    if buffer is None:
        return
    buffer.modes = ""
    _apply_modes(state, buffer, message.params[2], list(message.params[3:]))


def _apply_modes(state: ChatState, buffer: Buffer, modes: str, args: list[str]) -> None:
    """Follow a channel mode change: member prefixes and the channel's simple modes."""
    support = state.support
    adding = True
    flags = set(buffer.modes)
    for mode in modes:
        if mode in "+-":
            adding = mode == "+"
            continue
        if mode in support.prefix_modes:
            if not args:
                break
            nick = args.pop(0)
            member = buffer.members.get(state.fold(nick))
            if member is None:
                continue
            symbol = support.prefix_symbols[support.prefix_modes.index(mode)]
            held = set(member.prefixes) | {symbol} if adding else set(member.prefixes) - {symbol}
            prefixes = "".join(s for s in support.prefix_symbols if s in held)
            buffer.members[state.fold(nick)] = replace(member, prefixes=prefixes)
            state._updates.append(MembersChanged(buffer.key))
            continue
        takes_argument = (
            mode in support.list_modes
            or mode in support.param_modes
            or (adding and mode in support.set_param_modes)
        )
        if takes_argument:
            if args:
                args.pop(0)
            if mode in support.list_modes:
                continue
        if adding:
            flags.add(mode)
        else:
            flags.discard(mode)
    buffer.modes = "".join(sorted(flags))
    state._updates.append(TopicChanged(buffer.key))


@handles("AWAY")
def _away(state: ChatState, message: Message) -> None:
    nick = nick_of(message.source)
    key = state.fold(nick)
    away = bool(message.params and message.params[0])
    for buffer in state.buffers.values():
        member = buffer.members.get(key)
        if member is not None and member.away != away:
            buffer.members[key] = replace(member, away=away)
            state._updates.append(MembersChanged(buffer.key))


@handles(n.RPL_NOWAWAY, n.RPL_UNAWAY)
def _own_away(state: ChatState, message: Message) -> None:
    state.away = message.command == n.RPL_NOWAWAY
    state._updates.append(StatusChanged())
    state.note("You are marked as away" if state.away else "You are back")


@handles("INVITE")
def _invite(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    by, channel = clean(nick_of(message.source), 64), clean(message.params[1], 64)
    if state.is_me(message.params[0]):
        state.note(f"{by} invites you to {channel} (type /join {channel})")
    elif (buffer := state._channel(channel)) is not None:
        state.note(f"{by} invited {clean(message.params[0], 64)}", buffer.key)


def _presence(state: ChatState, buffer: Buffer, change: Presence, when: float) -> None:
    """Add a join/part/quit/nick change, folded into the last line if that is one."""
    last = buffer.lines[-1] if buffer.lines else None
    if last is not None and last.kind is LineKind.PRESENCE and when - last.time < 600:
        changes = (*last.presence, change)
        buffer.lines[-1] = Line(
            last.time, LineKind.PRESENCE, "", fold_presence(changes), presence=changes
        )
        state._updates.append(LineAdded(buffer.key, buffer.lines[-1], replaced=True))
        return
    changes = (change,)
    line = Line(when, LineKind.PRESENCE, "", fold_presence(changes), presence=changes)
    state._add(buffer, line)


def fold_presence(changes: tuple[Presence, ...]) -> str:
    """``→ anna, bo joined · ← cy left · dee is now dee_`` for a run of changes."""
    groups: dict[str, list[str]] = {}
    for change in changes:
        if change.verb == "nick":
            groups.setdefault("nick", []).append(f"{change.nick} is now {change.new_nick}")
        else:
            groups.setdefault(change.verb, []).append(change.nick)
    parts: list[str] = []
    for verb, names in groups.items():
        unique = list(dict.fromkeys(names))
        if verb == "join":
            parts.append("→ " + ", ".join(unique) + " joined")
        elif verb == "part":
            parts.append("← " + ", ".join(unique) + " left")
        elif verb == "quit":
            parts.append("← " + ", ".join(unique) + " quit")
        else:
            parts.append(", ".join(unique))
    return " · ".join(parts)
