"""What the client knows: buffers (server, channels, private chats), their lines, members,
topics and modes, and the server's ISUPPORT, all built from IRC messages. No I/O.

Theory of operation
-------------------
:func:`hubbub.client.incoming.receive` applies one parsed
:class:`~hubbub.wire.message.Message` to a :class:`ChatState` and returns the
:data:`Update` values that say what changed, for the view to redraw. The commands each
have one handler (:mod:`hubbub.client.handlers`), found in a table; a command or numeric
without one is shown as text in the server buffer, so nothing a server sends is lost and
nothing unknown can fail. Names are compared through the server's CASEMAPPING
(:class:`~hubbub.wire.casemap.Casemap`), so buffers and members are keyed by
:data:`~hubbub.wire.casemap.Key`.

Lines a server replays are history: those inside a ``chathistory`` batch, and those whose
server-time is older than this client's JOIN of the channel. They count as read, never as
mentions, and go above the "You joined" line of the channel's latest join, followed by a
separator, so a channel reads: what was said before, "— end of earlier messages —", "You
joined #lobby", then what is said live.
A private chat has no join: its replayed lines go where their time puts them, and the
session counts which of them are unread once they are all in (:mod:`hubbub.client.history`).
Consecutive joins, parts, quits and nick changes in a buffer fold into one quiet line
(:mod:`hubbub.client.handlers.channels`).
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hubbub.client.support import Support
from hubbub.client.text import clean
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.message import Message

SERVER = Key("*")  # the server buffer's key; no nick or channel can be "*"
MAX_LINES = 2000  # lines kept per buffer


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
    DETAIL = "detail"  # server replies the client has no words for: shown quietly
    ERROR = "error"
    SEPARATOR = "separator"  # where replayed history ends


# What someone said: the lines unread counts and read markers are about.
COUNTED = frozenset({LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE})
SEPARATOR_TEXT = "— end of earlier messages —"


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
        dated: False when nobody said when it was said (``time`` is then when it
            arrived, and is not shown).
    """

    time: float
    kind: LineKind
    nick: str
    text: str
    own: bool = False
    mention: bool = False
    history: bool = False
    presence: tuple[Presence, ...] = ()
    display: str = ""  # the sender's display name (draft/metadata-3), if it set one
    dated: bool = True


@dataclass(frozen=True, slots=True)
class Member:
    nick: str
    prefixes: str = ""  # mode symbols, highest rank first ("@+")
    away: bool = False


class Buffer:
    """One conversation: the server, a channel or a private chat. Owned by the state."""

    __slots__ = (
        "arrival",
        "joined",
        "joined_at",
        "key",
        "kind",
        "lines",
        "members",
        "mentions",
        "modes",
        "msgids",
        "name",
        "read_to",
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
        # Read up to then (draft/read-marker), by this device or another of the account.
        self.read_to: float | None = None
        self.topic = ""
        self.members: dict[Key, Member] = {}
        self.modes = ""
        self.joined = False
        # The "You joined" line of the latest own join: replayed lines go above it. And
        # the join's server-time, when it had one: older lines are replayed.
        self.arrival: Line | None = None
        self.joined_at: float | None = None
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
class Redraw:
    """A buffer's lines changed above its last one (replayed history was placed)."""

    buffer: Key


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
class Opened:
    """A private chat's buffer was opened; the session may fetch its history."""

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
    | Redraw
    | BuffersChanged
    | MembersChanged
    | TopicChanged
    | StatusChanged
    | Focus
    | Joined
    | Opened
    | ShowHelp
    | QuitRequested
)


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
        self.batches: dict[str, tuple[str, ...]] = {}  # open batch reference -> type, params
        self.display_names: dict[Key, str] = {}  # by folded nick (handlers/profiles.py)
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
            if kind is BufferKind.QUERY:
                self._updates.append(Opened(key, name))
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

    def _replayed(self, message: Message, buffer: Buffer) -> bool:
        """Whether ``message`` is history: in a chathistory batch, or older than the join."""
        reference = message.tags.get("batch")
        if reference is not None and self.batches.get(reference, ("",))[0].endswith("chathistory"):
            return True
        sent = parse_time(message.tags.get("time"))
        return sent is not None and buffer.joined_at is not None and sent < buffer.joined_at

    def _add(self, buffer: Buffer, line: Line, msgid: str | None = None) -> None:
        if msgid:
            if msgid in buffer.msgids:
                return
            buffer.msgids.append(msgid)
        if line.history and self._place_replayed(buffer, line):
            self._updates.append(Redraw(buffer.key))
            return
        buffer.lines.append(line)
        counts = line.kind in COUNTED
        if buffer.key != self.active and counts and not line.own and not line.history:
            buffer.unread += 1
            if line.mention:
                buffer.mentions += 1
            self._updates.append(BuffersChanged())
        self._updates.append(LineAdded(buffer.key, line))

    def _place_replayed(self, buffer: Buffer, line: Line) -> bool:
        """Put a replayed line above the buffer's arrival line, under the earlier replayed
        lines, with the separator below them; with no arrival line, where its time puts
        it. False if that is the end (it is added as any line is)."""
        lines, arrival = buffer.lines, buffer.arrival
        at = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] is arrival), -1)
        if arrival is None or at < 0:
            at = len(lines)
            while at > 0 and lines[at - 1].time > line.time:
                at -= 1
            if at == len(lines):
                return False
            if len(lines) == MAX_LINES:
                if at == 0:
                    return True  # older than all a full buffer keeps
                lines.popleft()
                at -= 1
            lines.insert(at, line)
            return True
        separated = at > 0 and lines[at - 1].kind is LineKind.SEPARATOR
        top = at - 1 if separated else at
        # A full buffer keeps its newest lines: the oldest make room, or the new one goes.
        overflow = max(0, len(lines) + (1 if separated else 2) - MAX_LINES)
        if overflow > top:
            return True
        for _ in range(overflow):
            lines.popleft()
        top -= overflow
        if not separated:
            lines.insert(top, Line(arrival.time, LineKind.SEPARATOR, "", SEPARATOR_TEXT))
        lines.insert(top, line)
        return True

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
