"""Facts: one frozen dataclass (a named tuple for messages) per kind of change to the
chat; ``Event`` is their union.

An operation of the hub decides which facts a request causes and publishes them on the
bus; :class:`~hubbub.core.apply.Applier` changes the state by them and hands each to the
local sessions that must see it (:meth:`Listener.deliver`), where doors render it in
their dialect. Keepers (history, read markers) subscribe to the same facts.

Each event carries values, never live objects, so that rendering can be cached per
event and an event means the same thing on every node and in every door. People are
named by user id (``Actor.id``) and accounts by account id where a right depends on
who they are; names are there to be shown.

A few kinds are notices made while applying another fact, never published:
:class:`MonitoredOnline`, :class:`MonitoredOffline`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from hubbub.core.modes import ModeChange
from hubbub.wire.casemap import Key

_NO_KEY = Key("")
# Shared by every message without client-only tags; read-only, as a fact must be.
_NO_TAGS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as they were when they did it."""

    nick: str
    username: str
    host: str
    realname: str = ""
    account: str | None = None
    bot: bool = False
    # The user's id (see User.id); empty for a service.
    id: str = field(default="", compare=False)
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


class MessagePosted(NamedTuple):
    """A message: ``target`` is a channel name (``status`` then names the lowest status
    mode that receives it, if any) or the recipient's nick.

    ``tags`` are the sender's client-only tags; ``msgid`` identifies the message
    everywhere it is delivered, and ``time`` is when the server accepted it. A
    multi-line message (IRCv3 multiline) has its lines in ``parts``.

    A named tuple, as immutable as the other facts' frozen dataclasses: one is made for
    every message said, and a frozen dataclass of eleven fields took 0.77 µs to make
    (a tenth of a message's Python time), a named tuple 0.19 µs.
    """

    actor: Actor
    target: str
    text: str
    kind: MessageKind = MessageKind.PRIVMSG
    status: str = ""
    tags: Mapping[str, str] = _NO_TAGS
    time: float = 0.0
    msgid: str = ""
    parts: tuple[MessagePart, ...] = ()
    # Where it goes: the channel's folded name, or the recipient's user id.
    to: Key = _NO_KEY
    # The conversations it is kept in (message history); empty when it is not kept.
    kept_as: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserArrived:
    """A user finished registration: it is on the network from now on."""

    actor: Actor
    signon: float
    secure: bool = False
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Joined:
    """``actor`` joined; ``status`` is what it got by joining (``o`` for whoever made
    the channel). ``created`` is set when the join made the channel, with the new
    incarnation."""

    actor: Actor
    channel: str
    status: str = ""
    created: float | None = None
    incarnation: str = ""


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
    victim: str = ""  # its user id


@dataclass(frozen=True, slots=True)
class Banned:
    """Sent to a user a server ban (K-line, D-line, account ban) covers, before the
    forced quit that disconnects it; the reason is for it alone."""

    victim: str  # its user id
    reason: str


@dataclass(frozen=True, slots=True)
class Quit:
    """``actor`` left the network; ``forced``: by KILL or GHOST, its session is closed too."""

    actor: Actor
    reason: str
    forced: bool = False


@dataclass(frozen=True, slots=True)
class NodeLost:
    """The run of a hub whose user ids begin with ``prefix`` (a node, until it restarts)
    is gone: its users leave with ``reason``, its always-on ones move to the run ``by``
    that published this (cluster/nodes.py); applied again, it changes nothing."""

    prefix: str
    reason: str = "Node lost"
    by: str = ""


@dataclass(frozen=True, slots=True)
class Kept:
    """The home of ``user`` says whether it is always-on (``on``), whether no device is
    attached there (``absent``, since ``left``), and its account's choices (between
    nodes only: core/homes.py)."""

    user: str
    on: bool
    absent: bool = False
    left: float = 0.0
    multiclient: bool | None = None
    always_on: bool | None = None


@dataclass(frozen=True, slots=True)
class DeviceAttached:
    """The node run ``node`` holds a device of the user ``user`` (its id), which lives
    on another: its first there (core/spread.py)."""

    user: str
    node: str


@dataclass(frozen=True, slots=True)
class DeviceDetached:
    """The node run ``node`` holds no device of the user ``user`` any more: the user
    quits with ``reason`` when that run was its home and no other holds one."""

    user: str
    node: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AccountDropped:
    """The account ``account_id`` (named ``name``, folded) was deleted from the store: on
    every node, whoever is logged in to it is logged out, and a login to it decided
    meanwhile logs nobody in; its name is free."""

    account_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class AccountRegistered:
    """An account named ``name`` (as registered) was made: every node guards its name
    and its look-alikes."""

    name: str


@dataclass(frozen=True, slots=True)
class BansChanged:
    """An operator set (``ban``: the ban as JSON) or lifted (``lifted``: its kind and
    key) a server ban, kept in the store: every node holds the change as it applies
    this, in the log's order, and reads the bans again (a new connection on another node
    was let in until its next look at the store, up to two seconds later)."""

    ban: str = ""
    lifted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AttemptCounted:
    """The node ``node`` (its name and run) counted an attempt against one of its
    throttles of guesses and costly work (``throttle``: "login", "hashing",
    "registration", "oper" or "pass"; ``step`` and ``keys`` as that throttle counts
    them): every other node, and a later run of the same, counts it too, so that an
    address gets one allowance from the network, not one from each node (probe 15) or
    each restart (probe 18). ``time`` (epoch seconds) keeps a node that reads the log at
    start from counting again what was counted long ago."""

    throttle: str
    step: str
    keys: tuple[str, ...]
    node: str
    time: float


@dataclass(frozen=True, slots=True)
class AddressCounted:
    """The node run ``node`` (the prefix of its user ids, as NodeLost names it) holds
    ``count`` connections from the address block ``block`` (an IPv4 address or an IPv6
    /64): every node adds the others' counts to its own, so that an address has one
    allowance of connections (``connections_per_ip``) from the network, not one from
    each node. Published when the count changes and again every little while, with
    ``time`` (epoch seconds): a count not heard again for a while is a node's that went
    without a word."""

    node: str
    block: str
    count: int
    time: float


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    """ChanServ changed the registration of the channel ``key``: it is now ``record``
    (:func:`hubbub.core.registered.to_json`), or none when ``record`` is empty. ``new``:
    a registration made now, refused if the channel is registered by the time this is
    applied (another node registered it first); otherwise a change to a registration
    that has gone meanwhile (dropped elsewhere) changes nothing. Only the server (an
    operator's transfer, ``hubbub admin channels transfer``) changes a founder."""

    actor: Actor | None  # None: the server (an account was dropped)
    key: Key
    record: str
    new: bool = False


@dataclass(frozen=True, slots=True)
class Killed:
    """Sent to the victim of KILL only, before it is disconnected."""

    actor: Actor
    nick: str
    reason: str
    victim: str = ""  # its user id


@dataclass(frozen=True, slots=True)
class NickChanged:
    actor: Actor
    nick: str


@dataclass(frozen=True, slots=True)
class TopicChanged:
    """A channel's topic set (or cleared, empty): with a message id and the history it
    is kept in, like a message (draft/event-playback)."""

    actor: Actor
    channel: str
    topic: str
    time: float = 0.0
    msgid: str = ""
    kept_as: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelModeChanged:
    """Changes that took effect, each as it is applied: ``+k key``/``-k *``, ``+l n``,
    ``+o nick``, a list entry by its normal mask (added at ``time``)."""

    actor: Actor
    channel: str
    changes: tuple[ModeChange, ...]
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class UserModeChanged:
    """``oper_name`` names the operator block of a ``+o`` (OPER)."""

    actor: Actor
    nick: str
    changes: tuple[ModeChange, ...]
    oper_name: str | None = None


@dataclass(frozen=True, slots=True)
class Invited:
    """``admits``: an operator's invite, which lets its user (``invitee``, a user id)
    past the channel's rules once."""

    actor: Actor
    nick: str
    channel: str
    invitee: str = ""
    admits: bool = False


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
    account_id: str | None = None


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
    # For a private message, the other party's user id.
    other: str = ""


@dataclass(frozen=True, slots=True)
class ChannelRenamed:
    actor: Actor
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class MarkerMoved:
    """A read marker moved (draft/read-marker): ``owner`` is the user id of a user not
    logged in, or ``a:`` and the account id; the account's other connections are told.
    ``forgotten`` names the oldest marker that made room for it, if one had to."""

    target: str
    time: float
    owner: str = ""
    key: Key = _NO_KEY
    forgotten: Key | None = None
    by: str = ""  # the user id of who moved it
    # Moved by logging in (what was read before counts for the account): nobody is told.
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class MetadataValue:
    """One key of a :class:`MetadataChanged`: its new value, or None once removed."""

    key: str
    value: str | None


@dataclass(frozen=True, slots=True)
class MetadataChanged:
    """Keys of a user's or a channel's metadata (IRCv3 draft/metadata-3) changed.

    ``target`` is the user's id, or the channel's name (``channel``); ``shown`` is the
    name the target had when it changed, for the lines that tell of it. ``account_id``:
    a user's keys kept for the account it was logged in to (the keeper saves them).
    ``loaded``: the account's kept keys given at login, naming the user's whole set then
    and removing the kept ones that did not fit, so that the store holds that set; only
    what changes is told. ``actor`` is None for the server (kept keys loaded at login)."""

    actor: Actor | None
    target: str
    shown: str
    changes: tuple[MetadataValue, ...]
    channel: bool = False
    account_id: str | None = None
    loaded: bool = False


@dataclass(frozen=True, slots=True)
class Wallops:
    actor: Actor
    text: str


# What sessions are handed (Listener.deliver).
Event = (
    MessagePosted
    | Joined
    | Parted
    | Kicked
    | Quit
    | Killed
    | Banned
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
    | MetadataChanged
)

# What the bus carries: the facts sessions see, and arrivals, which no session is
# handed (MONITOR watchers get MonitoredOnline instead).
Fact = (
    Event
    | UserArrived
    | NodeLost
    | Kept
    | DeviceAttached
    | DeviceDetached
    | RegistrationChanged
    | AccountDropped
    | AccountRegistered
    | AttemptCounted
    | AddressCounted
    | BansChanged
)


class Audience(Protocol):
    """Local listeners to whom a channel message is the same bytes (IRC sessions with one
    capability variant and framing): their door renders it once and appends it to each
    one's outbox, with no call per recipient. The fan-out's hot path
    (:meth:`~hubbub.core.apply.Applier._message`).
    """

    def post(self, event: MessagePosted, outboxes: Iterable[Any], skip: object) -> None:
        """Hand ``event`` to every outbox but ``skip`` (the sender's, or None)."""
        ...
