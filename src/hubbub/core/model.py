"""The chat's state: users, channels and their memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hubbub.core.events import Actor
from hubbub.core.modes import MUTE_PREFIX, PREFIXES, Glob

if TYPE_CHECKING:
    from hubbub.core.errors import ChatError
    from hubbub.core.events import Audience, Event, Fact, MessagePosted
    from hubbub.wire.casemap import Key


# Modes that keep people out (with a key, a limit and bans), or hide the channel.
CLOSING_MODES = frozenset("isp")
# One shared empty set (each frozenset() call makes a new object).
NO_MODES: frozenset[str] = frozenset()
# Every user starts with this one empty dict of channels, and join (the only place a
# channel is added) gives a user a dict of its own first: an idle user costs no dict.
NO_CHANNELS: dict[Key, Channel] = {}
# Likewise for metadata (draft/metadata-3): most users and channels set no keys, and the
# first key set gives the owner a dict of its own (core/metadata.py).
NO_METADATA: dict[str, str] = {}


class Listener(Protocol):
    """What the hub needs of a user's session: somewhere to deliver events.

    A listener with an ``audience`` is also reached through its ``outbox`` by channel
    messages (see :class:`Audience`); one with none gets every event through
    :meth:`deliver`. A listener whose audience changes (an IRC client asks for a
    capability) says so with :meth:`~hubbub.core.hub.Hub.regroup`.
    """

    @property
    def audience(self) -> Audience | None: ...

    @property
    def outbox(self) -> object: ...

    def deliver(self, event: Event) -> None: ...

    def arrived(self, user: User) -> None:
        """The user this session registered is in the chat (its arrival is applied):
        on one node as :meth:`~hubbub.core.hub.Hub.register` runs, between nodes a round
        trip later (docs/design/cluster.md). What follows registration goes here."""
        ...

    def refused(self, fact: Fact, error: ChatError) -> None:
        """A fact of this session's user was refused as it was applied: another node
        gave the nick or made the channel first (docs/design/cluster.md). On one node
        this does not happen: the operation's checks refuse first."""
        ...

    def echo(self, event: MessagePosted) -> None:
        """The user's own message, as it is applied: after its recipients were handed
        it, and between nodes in the log's order like every other message (IRCv3
        echo-message; a door that shows no echo ignores it)."""
        ...

    def disconnect(self, reason: str) -> None:
        """Close the session (KILL); the hub has already announced the quit."""
        ...

    def network(self, reachable: bool) -> None:
        """This node lost (False) or regained (True) the other nodes: meanwhile what the
        user sends waits, and it hears nobody on other nodes (a door tells its user)."""
        ...


class User:
    """A registered user, local or not, with the session that receives its events.

    Rights and kept data belong to the person, never to the nick (which anyone may take
    once it is free): to ``id``, unique to this user among all users this server has
    had, and to ``account_id``, the stable id of the account it is logged in to.
    """

    __slots__ = (
        "_actor",
        "account",
        "account_id",
        "away",
        "channels",
        "host",
        "id",
        "key",
        "last_active",
        "listener",
        "metadata",
        "modes",
        "nick",
        "oper_name",
        "realname",
        "secure",
        "signon",
        "skeleton",
        "username",
    )

    def __init__(
        self,
        id: str,
        nick: str,
        key: Key,
        skeleton: Key,
        username: str,
        host: str,
        realname: str,
        listener: Listener,
        signon: float,
    ) -> None:
        self.id = id
        self.nick = nick
        self.key = key
        self.skeleton = skeleton
        self.username = username
        self.host = host
        self.realname = realname
        self.listener = listener
        self.signon = signon
        self.last_active = signon
        # Immutable and shared while empty: most users never set a mode.
        self.modes: frozenset[str] = NO_MODES
        self.away: str | None = None
        self.account: str | None = None
        self.account_id: str | None = None
        self.secure = False
        self.oper_name: str | None = None
        self.channels: dict[Key, Channel] = NO_CHANNELS
        self.metadata: dict[str, str] = NO_METADATA
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        """This user as events name it; rebuilt after :meth:`changed`."""
        if self._actor is None:
            self._actor = Actor(
                self.nick,
                self.username,
                self.host,
                self.realname,
                self.account,
                "B" in self.modes,
                self.id,
            )
        return self._actor

    def changed(self) -> None:
        """Note a change of nick, realname or bot mode (the next events name the new one)."""
        self._actor = None

    def deliver(self, event: Event) -> None:
        """Hand an event to the user's session. A method, not the listener's bound method
        kept on each user (72 bytes a user): channel messages, the hot path, reach most
        sessions through their audience instead."""
        self.listener.deliver(event)

    @property
    def mask(self) -> str:
        return f"{self.nick}!{self.username}@{self.host}"

    @property
    def is_oper(self) -> bool:
        return "o" in self.modes

    def __repr__(self) -> str:
        return f"<User {self.mask}>"


@dataclass(frozen=True, slots=True)
class Topic:
    text: str
    setter: str
    time: float


@dataclass(frozen=True, slots=True)
class ListEntry:
    """An entry of a ban, ban-exception or invite-exception list, with its matcher made
    once (entries are checked at every JOIN and, for bans, every message said)."""

    mask: str
    setter: str
    time: float
    folded: str
    # Whether it is a mute (the m: extban), which counts only when speaking.
    muting: bool = field(init=False, compare=False, repr=False)
    glob: Glob = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        muting = self.folded.startswith(MUTE_PREFIX)
        mask = self.folded[len(MUTE_PREFIX) :] if muting else self.folded
        # A frozen dataclass: its own fields are set through object.
        object.__setattr__(self, "muting", muting)
        object.__setattr__(self, "glob", Glob(mask))


class Channel:
    """A channel: its members with their status modes, its modes, lists and topic.

    Message history is kept by :attr:`history_key`. What is said while anyone may walk in
    is kept under the channel's name, where whoever walks in later may read it too. What
    is said while the channel is closed (see :attr:`closed`) is kept under this
    ``incarnation`` only: once the channel empties, someone who creates it again must not
    read it. A registered channel has one incarnation for as long as it is registered.
    """

    __slots__ = (
        "audiences",
        "created",
        "flags",
        "incarnation",
        "invited",
        "key",
        "limit",
        "lists",
        "members",
        "metadata",
        "name",
        "password",
        "topic",
    )

    def __init__(self, name: str, key: Key, created: float, incarnation: str) -> None:
        self.name = name
        self.key = key
        self.created = created
        self.incarnation = incarnation
        # The value is the member's status modes, highest first ("ov", "v", "").
        self.members: dict[User, str] = {}
        # The members again, grouped by their listener's audience, each with what the
        # audience posts to (its outbox); under None, those reached one by one, each
        # with itself. Kept in step with ``members`` by join, leave and regroup.
        self.audiences: dict[Audience | None, dict[User, object]] = {}
        self.flags: set[str] = set()
        self.password: str | None = None
        self.limit: int | None = None
        self.lists: dict[str, list[ListEntry]] = {"b": [], "e": [], "I": []}
        self.topic: Topic | None = None
        # Invites are for the person invited, not for whoever holds the nick next.
        self.invited: set[User] = set()
        self.metadata: dict[str, str] = NO_METADATA

    def join(self, user: User, status: str) -> None:
        """Make ``user`` a member with ``status``."""
        self.members[user] = status
        self._group(user)

    def leave(self, user: User) -> None:
        del self.members[user]
        self._ungroup(user)

    def regroup(self, user: User) -> None:
        """Move a member to the group of its listener's audience, which changed."""
        self._ungroup(user)
        self._group(user)

    def _group(self, user: User) -> None:
        listener = user.listener
        audience = listener.audience
        group = self.audiences.get(audience)
        if group is None:
            group = self.audiences[audience] = {}
        group[user] = user if audience is None else listener.outbox

    def _ungroup(self, user: User) -> None:
        for audience, group in self.audiences.items():
            if group.pop(user, None) is not None:
                if not group:
                    del self.audiences[audience]
                return

    @property
    def closed(self) -> bool:
        """Whether some people may not walk in: invite-only, keyed, limited, with bans,
        or hidden (secret or private)."""
        return (
            not self.flags.isdisjoint(CLOSING_MODES)
            or self.password is not None
            or self.limit is not None
            or bool(self.lists["b"])
        )

    @property
    def history_key(self) -> str:
        """Where what is said now is kept, and read from."""
        return self.incarnation if self.closed else self.key

    def visible_to(self, user: User) -> bool:
        """Whether ``user`` may learn that this channel exists.

        Modern IRC client protocol, secret channel mode: "A channel that is set to secret
        will not show up in responses to the LIST or NAMES command unless the client
        sending the command is joined to the channel." Nor anywhere else: a non-member is
        answered as if it did not exist. Server operators see every channel.
        """
        return "s" not in self.flags or user in self.members or user.is_oper

    def shown_to(self, user: User) -> bool:
        """Whether ``user`` may see this channel's members, topic and ban list: a private
        (+p) or secret (+s) one shows them to its members and server operators only (a
        private one still admits that it exists)."""
        return self.flags.isdisjoint("ps") or user in self.members or user.is_oper

    def prefix_of(self, user: User, multi: bool = False) -> str:
        """The status prefix shown before ``user``'s nick: the highest, or all of them."""
        status = self.members.get(user, "")
        if not status:
            return ""
        if multi:
            return "".join(PREFIXES[m] for m in status)
        return PREFIXES[status[0]]

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def can_speak_moderated(self, user: User) -> bool:
        return bool(self.members.get(user))

    def matches(
        self, list_mode: str, folded_masks: tuple[str, ...], speaking: bool = False
    ) -> bool:
        """Whether any of the user's folded masks matches an entry of a list.

        Entries of the mute extban (``m:mask``) count only when ``speaking``.
        """
        for entry in self.lists[list_mode]:
            if entry.muting and not speaking:
                continue
            fullmatch = entry.glob.fullmatch
            if any(fullmatch(mask) for mask in folded_masks):
                return True
        return False

    def __repr__(self) -> str:
        return f"<Channel {self.name} ({len(self.members)})>"
