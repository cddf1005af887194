"""Facts the hub announces: one frozen dataclass per kind, ``Event`` is their union.

Doors receive them through :meth:`Listener.deliver` and render them in their dialect.
Each event carries values, never live objects, so that rendering can be cached per
event and an event means the same thing wherever it is delivered.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hubbub.core.modes import ModeChange


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as they were when they did it."""

    nick: str
    username: str
    host: str
    realname: str = ""
    account: str | None = None
    bot: bool = False
    # nick!user@host, made once: every line that names the actor starts with it.
    mask: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", f"{self.nick}!{self.username}@{self.host}")


class MessageKind(enum.StrEnum):
    """What a message is: talk, a notice (never answered automatically), or tags only.

    A string enum: a kind is its command's name wherever a string goes (formatting it
    is cheaper than reading ``.value``)."""

    PRIVMSG = "PRIVMSG"
    NOTICE = "NOTICE"
    TAGMSG = "TAGMSG"


@dataclass(frozen=True, slots=True)
class MessagePart:
    """One line of a multi-line message; ``concat`` joins it to the line before."""

    text: str
    concat: bool = False


@dataclass(frozen=True, slots=True)
class MessagePosted:
    """A message: ``target`` is a channel name (``status`` then names the lowest status
    mode that receives it, if any) or the recipient's nick.

    ``tags`` are the sender's client-only tags; ``msgid`` identifies the message
    everywhere it is delivered, and ``time`` is when the server accepted it. A
    multi-line message (IRCv3 multiline) has its lines in ``parts``.
    """

    actor: Actor
    target: str
    text: str
    kind: MessageKind = MessageKind.PRIVMSG
    status: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    time: float = 0.0
    msgid: str = ""
    parts: tuple[MessagePart, ...] = ()


@dataclass(frozen=True, slots=True)
class Joined:
    actor: Actor
    channel: str


@dataclass(frozen=True, slots=True)
class Parted:
    actor: Actor
    channel: str
    reason: str


@dataclass(frozen=True, slots=True)
class Kicked:
    actor: Actor
    channel: str
    nick: str
    reason: str


@dataclass(frozen=True, slots=True)
class Quit:
    actor: Actor
    reason: str


@dataclass(frozen=True, slots=True)
class Killed:
    """Sent to the victim of KILL only, before it is disconnected."""

    actor: Actor
    nick: str
    reason: str


@dataclass(frozen=True, slots=True)
class NickChanged:
    actor: Actor
    nick: str


@dataclass(frozen=True, slots=True)
class TopicChanged:
    actor: Actor
    channel: str
    topic: str


@dataclass(frozen=True, slots=True)
class ChannelModeChanged:
    actor: Actor
    channel: str
    changes: tuple[ModeChange, ...]


@dataclass(frozen=True, slots=True)
class UserModeChanged:
    actor: Actor
    nick: str
    changes: tuple[ModeChange, ...]


@dataclass(frozen=True, slots=True)
class Invited:
    actor: Actor
    nick: str
    channel: str


@dataclass(frozen=True, slots=True)
class AwayChanged:
    """A user went away (with a message) or came back (``message`` is None)."""

    actor: Actor
    message: str | None


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """A user logged in to an account (or out: ``account`` is None)."""

    actor: Actor
    account: str | None


@dataclass(frozen=True, slots=True)
class RealnameChanged:
    actor: Actor
    realname: str


@dataclass(frozen=True, slots=True)
class MonitoredOnline:
    """A nick someone monitors came online (MONITOR)."""

    actor: Actor


@dataclass(frozen=True, slots=True)
class MonitoredOffline:
    """A nick someone monitors went offline (MONITOR)."""

    nick: str


@dataclass(frozen=True, slots=True)
class MessageRedacted:
    """A message was withdrawn by its sender or a channel operator."""

    actor: Actor
    target: str
    msgid: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChannelRenamed:
    actor: Actor
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class MarkerMoved:
    """The read marker of a conversation moved, for everyone logged in to the account
    that moved it (draft/read-marker)."""

    target: str
    time: float


@dataclass(frozen=True, slots=True)
class Wallops:
    actor: Actor
    text: str


Event = (
    MessagePosted
    | Joined
    | Parted
    | Kicked
    | Quit
    | Killed
    | NickChanged
    | TopicChanged
    | ChannelModeChanged
    | UserModeChanged
    | Invited
    | AwayChanged
    | AccountChanged
    | RealnameChanged
    | MonitoredOnline
    | MonitoredOffline
    | MessageRedacted
    | ChannelRenamed
    | Wallops
    | MarkerMoved
)


class Listener(Protocol):
    """What the hub needs of a user's session: somewhere to deliver events."""

    def deliver(self, event: Event) -> None: ...

    def disconnect(self, reason: str) -> None:
        """Close the session (KILL); the hub has already announced the quit."""
        ...
