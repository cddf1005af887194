"""What the client knows: buffers (server, channels, private chats), their lines, members,
topics and modes, and the server's ISUPPORT, all built from IRC messages. No I/O.

Theory of operation
-------------------
:meth:`ChatState.receive` takes one parsed :class:`~hubbub.wire.message.Message` and
returns the :data:`Update` values that say what changed, for the view to redraw. The
commands each have one handler, found in a table (``_HANDLERS``); a command or numeric
without one is shown as text in the server buffer, so nothing a server sends is lost and
nothing unknown can fail. Names are compared through the server's CASEMAPPING
(:class:`~hubbub.wire.casemap.Casemap`), so buffers and members are keyed by
:data:`~hubbub.wire.casemap.Key`.

Lines inside a ``chathistory`` batch are history: they are shown but count as read.
Consecutive joins, parts, quits and nick changes in a buffer fold into one quiet line.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from hubbub.client.text import clean, mentions
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Casemap, Casemapping, Key
from hubbub.wire.message import Message

SERVER = Key("*")  # the server buffer's key; no nick or channel can be "*"
MAX_LINES = 2000  # lines kept per buffer
_ACTION = "\x01ACTION "
_CASEMAPPINGS = {
    "ascii": Casemapping.ASCII,
    "rfc1459": Casemapping.RFC1459,
    "rfc1459-strict": Casemapping.RFC1459,
    "strict-rfc1459": Casemapping.RFC1459,
    "rfc8265": Casemapping.PRECIS,
    "rfc7613": Casemapping.PRECIS,
}
_WHOIS_REPLIES = frozenset(
    {
        n.RPL_WHOISUSER,
        n.RPL_WHOISSERVER,
        n.RPL_WHOISOPERATOR,
        n.RPL_WHOISIDLE,
        n.RPL_WHOISCHANNELS,
        n.RPL_WHOISACCOUNT,
        n.RPL_WHOISACTUALLY,
        n.RPL_WHOISHOST,
        n.RPL_WHOISMODES,
        n.RPL_WHOISSECURE,
        n.RPL_WHOISCERTFP,
        n.RPL_WHOISBOT,
        n.RPL_WHOISREGNICK,
        n.RPL_WHOISSPECIAL,
        n.RPL_ENDOFWHOIS,
        n.RPL_WHOWASUSER,
        n.RPL_ENDOFWHOWAS,
    }
)
# Registration numerics the session answers; shown as text but not as errors.
_QUIET = frozenset({n.RPL_ENDOFNAMES, n.RPL_LISTSTART, n.RPL_TOPICWHOTIME, n.RPL_CREATIONTIME})


class BufferKind(enum.IntEnum):
    """In the order the buffer list shows them."""

    SERVER = 0
    CHANNEL = 1
    QUERY = 2


class LineKind(enum.Enum):
    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"
    PRESENCE = "presence"  # joins, parts, quits, nick changes: folded, quiet
    EVENT = "event"  # topic and mode changes, kicks, invites
    INFO = "info"  # server replies and the client's own notes
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Presence:
    """One join, part, quit or nick change inside a folded presence line."""

    verb: str  # "join", "part", "quit", "nick"
    nick: str
    new_nick: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a buffer.

    Attributes:
        time: when it was said (server-time when the server offers it), Unix seconds.
        nick: who said it, or "" for the server and the client itself.
        text: safe to show (see :func:`hubbub.client.text.clean`).
        own: said by this client's user.
        mention: names this client's nick (or is a private message to it).
        history: replayed from the server's history, not live.
        presence: what a folded presence line is made of.
    """

    time: float
    kind: LineKind
    nick: str
    text: str
    own: bool = False
    mention: bool = False
    history: bool = False
    presence: tuple[Presence, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    nick: str
    prefixes: str = ""  # mode symbols, highest rank first ("@+")
    away: bool = False


class Buffer:
    """One conversation: the server, a channel or a private chat. Owned by the state."""

    __slots__ = (
        "joined",
        "key",
        "kind",
        "lines",
        "members",
        "mentions",
        "modes",
        "msgids",
        "name",
        "topic",
        "unread",
    )

    def __init__(self, name: str, key: Key, kind: BufferKind) -> None:
        self.name = name
        self.key = key
        self.kind = kind
        self.lines: deque[Line] = deque(maxlen=MAX_LINES)
        self.unread = 0
        self.mentions = 0
        self.topic = ""
        self.members: dict[Key, Member] = {}
        self.modes = ""
        self.joined = False
        # Message ids seen here, so history replayed after a reconnection is not shown twice.
        self.msgids: deque[str] = deque(maxlen=MAX_LINES)


# -- updates: what changed, for the view ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineAdded:
    """A line was added to a buffer, or (``replaced``) took the place of its last line."""

    buffer: Key
    line: Line
    replaced: bool = False


@dataclass(frozen=True, slots=True)
class BuffersChanged:
    """Buffers opened, closed or renamed, or their unread counts changed."""


@dataclass(frozen=True, slots=True)
class MembersChanged:
    buffer: Key


@dataclass(frozen=True, slots=True)
class TopicChanged:
    buffer: Key


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """Own nick, away state, connection state or the network name changed."""


@dataclass(frozen=True, slots=True)
class Focus:
    """The user asked for this buffer (joined a channel, opened a query)."""

    buffer: Key


@dataclass(frozen=True, slots=True)
class Joined:
    """This client joined a channel; the session may fetch its history."""

    buffer: Key
    name: str


@dataclass(frozen=True, slots=True)
class ShowHelp:
    topic: str = ""


@dataclass(frozen=True, slots=True)
class QuitRequested:
    reason: str


Update = (
    LineAdded
    | BuffersChanged
    | MembersChanged
    | TopicChanged
    | StatusChanged
    | Focus
    | Joined
    | ShowHelp
    | QuitRequested
)


# -- ISUPPORT ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Support:
    """The ISUPPORT tokens the client uses, with the defaults of the modern IRC client
    protocol for servers that send none."""

    prefix_modes: str = "ov"
    prefix_symbols: str = "@+"
    chantypes: str = "#&"
    casemapping: Casemapping = Casemapping.RFC1459
    network: str = ""
    # CHANMODES: A (list, always a parameter), B (always), C (only when set), D (never).
    list_modes: str = "beI"
    param_modes: str = "k"
    set_param_modes: str = "l"
    statusmsg: str = ""

    def apply(self, tokens: Iterable[str]) -> Support:
        """This support with the tokens of one RPL_ISUPPORT applied."""
        changes: dict[str, object] = {}
        for token in tokens:
            key, _, value = token.partition("=")
            negated = key.startswith("-")
            key = key.removeprefix("-").upper()
            if key == "PREFIX":
                modes, _, symbols = value.removeprefix("(").partition(")")
                if negated or len(modes) != len(symbols):
                    modes = symbols = ""
                changes["prefix_modes"], changes["prefix_symbols"] = modes, symbols
            elif key == "CHANTYPES":
                changes["chantypes"] = "" if negated else value
            elif key == "CASEMAPPING":
                changes["casemapping"] = _CASEMAPPINGS.get(value.lower(), Casemapping.RFC1459)
            elif key == "NETWORK":
                changes["network"] = "" if negated else clean(value, 64)
            elif key == "STATUSMSG":
                changes["statusmsg"] = "" if negated else value
            elif key == "CHANMODES" and not negated:
                groups = [*value.split(","), "", "", ""]
                changes["list_modes"], changes["param_modes"] = groups[0], groups[1]
                changes["set_param_modes"] = groups[2]
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_time(value: str | None) -> float | None:
    """An IRCv3 server-time tag (``2024-05-01T12:00:00.000Z``) as Unix seconds."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def nick_of(source: str | None) -> str:
    return (source or "").partition("!")[0]


Handler = Callable[["ChatState", Message], None]
_HANDLERS: dict[str, Handler] = {}


def handles(*commands: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for command in commands:
            _HANDLERS[command] = handler
        return handler

    return register


class ChatState:
    """Buffers and everything else the client knows about one network.

    Args:
        nick: the nick the client asks for (the server's 001 has the last word).
        network: the server buffer's name until the server says its NETWORK.
        clock: Unix time, for lines without server-time.
    """

    def __init__(
        self, nick: str, network: str = "server", clock: Callable[[], float] = time.time
    ) -> None:
        self.nick = nick
        self.network = network
        self.clock = clock
        self.support = Support()
        self.casemap = Casemap(self.support.casemapping)
        self.buffers: dict[Key, Buffer] = {SERVER: Buffer(network, SERVER, BufferKind.SERVER)}
        self.active: Key = SERVER
        self.registered = False
        self.connected = False
        self.away = False
        self.caps: frozenset[str] = frozenset()
        self.batches: dict[str, str] = {}  # open batch reference -> type
        # Channels whose NAMES reply is being gathered, and those the user asked to see.
        self._names: dict[Key, dict[Key, Member]] = {}
        self.names_requested: set[Key] = set()
        self.focus_on_join: set[Key] = set()
        self._updates: list[Update] = []

    # -- reading --------------------------------------------------------------------------

    def fold(self, name: str) -> Key:
        return self.casemap.fold(name)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in (self.support.chantypes or "#")

    def is_me(self, nick: str) -> bool:
        return self.fold(nick) == self.fold(self.nick)

    def buffer(self, key: Key) -> Buffer | None:
        return self.buffers.get(key)

    @property
    def current(self) -> Buffer:
        return self.buffers.get(self.active) or self.buffers[SERVER]

    def ordered(self) -> list[Buffer]:
        """Buffers in the order the list shows them: the server, channels, private chats."""
        return sorted(self.buffers.values(), key=lambda b: (b.kind, b.key))

    def joined_channels(self) -> list[str]:
        return [b.name for b in self.ordered() if b.kind is BufferKind.CHANNEL and b.joined]

    def rank(self, member: Member) -> int:
        """0 for the highest prefix; len(symbols) for none."""
        symbols = self.support.prefix_symbols
        return symbols.index(member.prefixes[0]) if member.prefixes else len(symbols)

    def sorted_members(self, buffer: Buffer) -> list[Member]:
        return sorted(buffer.members.values(), key=lambda m: (self.rank(m), self.fold(m.nick)))

    # -- writing --------------------------------------------------------------------------

    def emit(self, update: Update) -> None:
        """Queue an update for the view (a command's request to switch buffers, say)."""
        self._updates.append(update)

    def take_updates(self) -> list[Update]:
        updates, self._updates = self._updates, []
        return updates

    def receive(self, message: Message) -> list[Update]:
        """Apply one message from the server; return what changed."""
        message = safe_message(message)
        handler = _HANDLERS.get(message.command)
        if handler is None:
            self._unknown(message)
        else:
            handler(self, message)
        return self.take_updates()

    def select(self, key: Key) -> list[Update]:
        """Make a buffer the one on screen; its unread counts go to zero."""
        buffer = self.buffers.get(key)
        if buffer is not None:
            self.active = key
            buffer.unread = buffer.mentions = 0
            self._updates.append(BuffersChanged())
        return self.take_updates()

    def open(self, name: str, kind: BufferKind) -> Buffer:
        """The buffer called ``name``, opened if it is not yet."""
        key = self.fold(name)
        buffer = self.buffers.get(key)
        if buffer is None:
            buffer = self.buffers[key] = Buffer(name, key, kind)
            self._updates.append(BuffersChanged())
        return buffer

    def close(self, key: Key) -> list[Update]:
        """Forget a buffer (not the server's)."""
        if key != SERVER and self.buffers.pop(key, None) is not None:
            if self.active == key:
                self.active = SERVER
                self._updates.append(Focus(SERVER))
            self._updates.append(BuffersChanged())
        return self.take_updates()

    def note(self, text: str, key: Key | None = None, kind: LineKind = LineKind.INFO) -> None:
        """Add the client's own remark to a buffer (the active one by default)."""
        buffer = self.buffers.get(self.active if key is None else key) or self.buffers[SERVER]
        self._add(buffer, Line(self.clock(), kind, "", clean(text)))

    def show(self, line: Line, key: Key = SERVER) -> None:
        """Add a line made elsewhere (the plain dialect's) to a buffer."""
        self._add(self.buffers.get(key) or self.buffers[SERVER], line)

    def said(self, target: str, text: str, kind: LineKind = LineKind.MESSAGE) -> None:
        """Show a message this client sent (when the server does not echo it)."""
        buffer = self._conversation(target, self.nick)
        self._add(buffer, Line(self.clock(), kind, self.nick, clean(text), own=True))

    def connection_made(self) -> list[Update]:
        self.connected = True
        self.registered = False
        self.batches.clear()
        self._names.clear()
        self._updates.append(StatusChanged())
        return self.take_updates()

    def connection_lost(self, reason: str) -> list[Update]:
        """The connection is gone: channels are no longer joined, members unknown."""
        self.connected = self.registered = False
        self.caps = frozenset()
        for buffer in self.buffers.values():
            if buffer.kind is BufferKind.CHANNEL and buffer.joined:
                buffer.joined = False
                buffer.members.clear()
                self._updates.append(MembersChanged(buffer.key))
        self.note(f"Disconnected: {reason}", SERVER, LineKind.ERROR)
        for buffer in list(self.buffers.values()):
            if buffer.kind is BufferKind.CHANNEL:
                self.note("Disconnected; rejoining once reconnected.", buffer.key, LineKind.ERROR)
        self._updates.append(StatusChanged())
        return self.take_updates()

    # -- helpers --------------------------------------------------------------------------

    def _time(self, message: Message) -> float:
        return parse_time(message.tags.get("time")) or self.clock()

    def _in_history(self, message: Message) -> bool:
        reference = message.tags.get("batch")
        return reference is not None and self.batches.get(reference, "").endswith("chathistory")

    def _add(self, buffer: Buffer, line: Line, msgid: str | None = None) -> None:
        if msgid:
            if msgid in buffer.msgids:
                return
            buffer.msgids.append(msgid)
        buffer.lines.append(line)
        counts = line.kind in (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE)
        if buffer.key != self.active and counts and not line.own and not line.history:
            buffer.unread += 1
            if line.mention:
                buffer.mentions += 1
            self._updates.append(BuffersChanged())
        self._updates.append(LineAdded(buffer.key, line))

    def _presence(self, buffer: Buffer, change: Presence, when: float) -> None:
        """Add a join/part/quit/nick change, folded into the last line if that is one."""
        last = buffer.lines[-1] if buffer.lines else None
        if last is not None and last.kind is LineKind.PRESENCE and when - last.time < 600:
            changes = (*last.presence, change)
            buffer.lines[-1] = Line(
                last.time, LineKind.PRESENCE, "", fold_presence(changes), presence=changes
            )
            self._updates.append(LineAdded(buffer.key, buffer.lines[-1], replaced=True))
            return
        changes = (change,)
        line = Line(when, LineKind.PRESENCE, "", fold_presence(changes), presence=changes)
        self._add(buffer, line)

    def _conversation(self, target: str, sender: str) -> Buffer:
        """The buffer a message between ``sender`` and ``target`` belongs in."""
        bare = target.lstrip(self.support.statusmsg) if self.support.statusmsg else target
        if self.is_channel(bare):
            return self.open(bare, BufferKind.CHANNEL)
        if not sender or ("." in sender and not self.registered):
            return self.buffers[SERVER]
        other = target if self.is_me(sender) else sender
        if other == "*" or (self.is_me(other) and not self.is_me(target)):
            return self.buffers[SERVER]
        return self.open(other, BufferKind.QUERY)

    def _channel(self, name: str) -> Buffer | None:
        buffer = self.buffers.get(self.fold(name))
        return buffer if buffer is not None and buffer.kind is BufferKind.CHANNEL else None

    def _member_prefixes(self, entry: str) -> tuple[str, str]:
        """``@+nick!user@host`` (multi-prefix, userhost-in-names) as (prefixes, nick)."""
        symbols = self.support.prefix_symbols
        index = 0
        while index < len(entry) and entry[index] in symbols:
            index += 1
        prefixes = "".join(sorted(set(entry[:index]), key=symbols.index))
        return prefixes, entry[index:].partition("!")[0]

    def _rekey(self) -> None:
        """Fold every name again after the server announced its CASEMAPPING."""
        self.casemap = Casemap(self.support.casemapping)
        buffers: dict[Key, Buffer] = {}
        for buffer in self.buffers.values():
            if buffer.kind is not BufferKind.SERVER:
                buffer.key = self.fold(buffer.name)
            buffer.members = {self.fold(m.nick): m for m in buffer.members.values()}
            buffers[buffer.key] = buffer
        active = self.buffers.get(self.active)
        self.buffers = buffers
        self.active = active.key if active is not None else SERVER
        self._updates.append(BuffersChanged())

    def _unknown(self, message: Message) -> None:
        """Show what the client has no handler for, as text, in the server buffer."""
        params = message.params[1:] if message.command.isdigit() else message.params
        text = " ".join(p for p in params if p)
        if not message.command.isdigit():
            text = f"{message.command} {text}".strip()
        if not text:
            return
        kind = LineKind.ERROR if message.command[:1] in "45" else LineKind.INFO
        self._add(self.buffers[SERVER], Line(self._time(message), kind, "", clean(text)))


def safe_message(message: Message) -> Message:
    """``message`` with control characters and escape sequences removed from its source
    and parameters, so no name or text the server sends can reach the screen with them.
    A CTCP message keeps the ``\x01`` around its cleaned text."""
    source = clean(message.source, 512) if message.source else message.source
    params = [clean(param) for param in message.params]
    if params and message.params[-1].startswith("\x01"):
        params[-1] = "\x01" + clean(message.params[-1].strip("\x01")) + "\x01"
    if source == message.source and tuple(params) == message.params:
        return message
    return replace(message, source=source, params=tuple(params))


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


# -- handlers ---------------------------------------------------------------------------------


@handles(n.RPL_WELCOME)
def _welcome(state: ChatState, message: Message) -> None:
    if message.params:
        state.nick = message.params[0]
    state.registered = True
    state._updates.append(StatusChanged())
    _numeric_text(state, message)


@handles(n.RPL_ISUPPORT)
def _isupport(state: ChatState, message: Message) -> None:
    old = state.support
    state.support = old.apply(message.params[1:-1])
    if state.support.casemapping is not old.casemapping:
        state._rekey()
    if state.support.network and state.support.network != old.network:
        state.network = state.buffers[SERVER].name = state.support.network
        state._updates.extend((BuffersChanged(), StatusChanged(), TopicChanged(SERVER)))


@handles("PING", "PONG", "CAP", "AUTHENTICATE", "TAGMSG", "CHGHOST", "SETNAME", "ACCOUNT")
def _ignored(state: ChatState, message: Message) -> None:
    """Answered by the session, or nothing to show."""


@handles("BATCH")
def _batch(state: ChatState, message: Message) -> None:
    if not message.params:
        return
    reference = message.params[0]
    if reference.startswith("+") and len(message.params) > 1:
        state.batches[reference[1:]] = message.params[1]
    else:
        state.batches.pop(reference[1:], None)


@handles("PRIVMSG", "NOTICE")
def _message(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    target, text = message.params[0], message.params[-1]
    sender = nick_of(message.source)
    kind = LineKind.NOTICE if message.command == "NOTICE" else LineKind.MESSAGE
    if text.startswith(_ACTION):
        kind, text = LineKind.ACTION, text[len(_ACTION) :].rstrip("\x01")
    elif text.startswith("\x01"):
        if kind is LineKind.MESSAGE:
            # Other CTCP requests (VERSION, PING, ...) are noted, not answered.
            state._add(
                state.buffers[SERVER],
                Line(state._time(message), LineKind.INFO, "", clean(f"CTCP from {sender}")),
            )
        return
    if kind is LineKind.NOTICE and not state.is_channel(target) and not state.is_me(sender):
        # A notice to us from a user goes to its open private chat, else where we look.
        existing = state.buffers.get(state.fold(sender)) if sender else None
        if existing is None and (not state.registered or "!" not in (message.source or "")):
            buffer = state.buffers[SERVER]
        else:
            buffer = existing or state.current
    else:
        buffer = state._conversation(target, sender)
    own = state.is_me(sender)
    history = state._in_history(message)
    private = buffer.kind is BufferKind.QUERY and not own
    line = Line(
        state._time(message),
        kind,
        sender or state.network,
        clean(text),
        own=own,
        mention=not own and (private or mentions(text, state.nick)),
        history=history,
    )
    state._add(buffer, line, message.tags.get("msgid"))


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
            state._names.pop(key, None)
            state._updates.extend((Joined(key, name), MembersChanged(key), BuffersChanged()))
            state._add(buffer, Line(when, LineKind.INFO, "", f"You joined {clean(name)}"))
            if key in state.focus_on_join:
                state.focus_on_join.discard(key)
                state._updates.append(Focus(key))
            continue
        buffer.members[state.fold(nick)] = Member(nick)
        state._updates.append(MembersChanged(key))
        state._presence(buffer, Presence("join", clean(nick, 64)), when)


def _leave(state: ChatState, buffer: Buffer, nick: str, verb: str, when: float) -> None:
    if buffer.members.pop(state.fold(nick), None) is not None:
        state._updates.append(MembersChanged(buffer.key))
        state._presence(buffer, Presence(verb, clean(nick, 64)), when)


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
            buffer.joined = False
            buffer.members.clear()
            state._updates.extend((MembersChanged(buffer.key), BuffersChanged()))
            state.note(f"You left {buffer.name}", buffer.key)
        else:
            _leave(state, buffer, nick, "part", state._time(message))


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
        buffer.joined = False
        buffer.members.clear()
        state._updates.extend((MembersChanged(buffer.key), BuffersChanged()))
        text = f"You were kicked by {clean(by, 64)}: {reason}"
        state._add(buffer, Line(state._time(message), LineKind.ERROR, "", text))
        return
    if buffer.members.pop(state.fold(victim), None) is not None:
        state._updates.append(MembersChanged(buffer.key))
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
            state._presence(buffer, Presence("quit", clean(nick, 64)), when)


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
    change = Presence("nick", clean(old, 64), clean(new, 64))
    for buffer in list(state.buffers.values()):
        member = buffer.members.pop(old_key, None)
        if member is not None:
            buffer.members[new_key] = replace(member, nick=new)
            state._updates.append(MembersChanged(buffer.key))
            state._presence(buffer, change, when)
    query = state.buffers.get(old_key)
    if query is not None and query.kind is BufferKind.QUERY and new_key not in state.buffers:
        del state.buffers[old_key]
        query.name, query.key = new, new_key
        state.buffers[new_key] = query
        if state.active == old_key:
            state.active = new_key
        state._presence(query, change, when)
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
        _numeric_text(state, message)
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


@handles("ERROR")
def _error(state: ChatState, message: Message) -> None:
    text = clean(message.params[-1]) if message.params else "closing"
    state.note(f"Server error: {text}", SERVER, LineKind.ERROR)


@handles("FAIL", "WARN", "NOTE")
def _standard_reply(state: ChatState, message: Message) -> None:
    """IRCv3 standard-replies: ``FAIL <command> <code> [context...] :<description>``."""
    text = clean(message.params[-1]) if message.params else message.command
    kind = LineKind.ERROR if message.command == "FAIL" else LineKind.INFO
    state.note(text, None, kind)


@handles(n.RPL_LIST)
def _list(state: ChatState, message: Message) -> None:
    if len(message.params) < 3:
        return
    topic = clean(message.params[3]) if len(message.params) > 3 else ""
    text = f"{clean(message.params[1], 64)} ({clean(message.params[2], 8)}) {topic}".rstrip()
    state._add(state.buffers[SERVER], Line(state._time(message), LineKind.INFO, "", text))


@handles(n.RPL_LISTEND)
def _list_end(state: ChatState, message: Message) -> None:
    state.note("End of the channel list", SERVER)


@handles(*_WHOIS_REPLIES, n.RPL_AWAY)
def _whois(state: ChatState, message: Message) -> None:
    """WHOIS replies (and "is away" for a message just sent) go where the user looks."""
    if len(message.params) < 2:
        return
    subject = message.params[1]
    if message.command == n.RPL_AWAY and (buffer := state.buffers.get(state.fold(subject))):
        key: Key | None = buffer.key
    else:
        key = None
    details = " ".join(message.params[2:]).strip()
    state.note(f"[{subject}] {details}", key)


@handles(*(code for code in n.__dict__.values() if isinstance(code, str) and code[:1] in "45"))
def _error_reply(state: ChatState, message: Message) -> None:
    """Refusals and errors: shown where the user is looking, with what they are about."""
    if message.command in (n.ERR_NICKNAMEINUSE, n.ERR_ERRONEUSNICKNAME) and not state.registered:
        return  # the session tries another nick
    subjects = [p for p in message.params[1:-1] if p]
    text = clean(" ".join([*subjects, message.params[-1]])) if message.params else ""
    key = None
    for subject in subjects:
        if state.fold(subject) in state.buffers:
            key = state.fold(subject)
            break
    state.note(text or message.command, key, LineKind.ERROR)


def _numeric_text(state: ChatState, message: Message) -> None:
    text = " ".join(p for p in message.params[1:] if p)
    if text and message.command not in _QUIET:
        line = Line(state._time(message), LineKind.INFO, "", clean(text))
        state._add(state.buffers[SERVER], line)


# The session shows how SASL went; the rest are details nobody needs to read.
for _code in (
    n.RPL_TOPICWHOTIME,
    n.RPL_CREATIONTIME,
    n.RPL_LISTSTART,
    n.RPL_SASLSUCCESS,
    n.ERR_SASLFAIL,
    n.ERR_SASLTOOLONG,
    n.ERR_SASLABORTED,
    n.ERR_SASLALREADY,
    n.RPL_SASLMECHS,
):
    _HANDLERS[_code] = _ignored
