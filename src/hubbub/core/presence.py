"""One account on several devices: a user whose events reach several sessions, or none.

Theory of operation
-------------------
A user's listener is normally the one session it registered from. When another
connection logs in to the same account and asks for the same nick (multiclient), it is
*attached*: the user's listener becomes a :class:`Presence` that hands each event to
every session, and the others in the chat still see one user. When all but one session
have gone, the user's listener is that session again, so a user on one device costs
nothing more than before.

An account may also be *always-on*: its user stays when its last session leaves, with a
:class:`Presence` of no sessions, away (auto-away) until a session attaches again. Such
a presence is kept in the store (a :class:`PresenceRecord`, handed by
:class:`~hubbub.core.presences.Presences` to the ``PresenceSink``) so that it comes back
after a restart.

Attaching and detaching are this node's delivery, not the chat: no fact is published for
them (the auto-away is an ordinary ``AwayChanged``). A user of another node has
:data:`ELSEWHERE` for its listener, which hears nothing here, until a session here
attaches to it: then this node says so to the others, for the user no longer quits when
its own node's last device leaves (:mod:`hubbub.core.spread`,
:mod:`hubbub.core.roaming`).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from hubbub.core.events import MessagePosted

if TYPE_CHECKING:
    from hubbub.core.errors import ChatError
    from hubbub.core.events import Audience, Event, Fact
    from hubbub.core.model import Listener, User

# Messages said through a presence whose echo has not come back yet: between nodes a
# round trip, on one node none. Bounded, for messages dropped as they were applied
# (their target gone) never echo.
_SPEAKERS_KEPT = 64


class Presence:
    """The listener of a user on several sessions of this node, or on none (always-on).

    Args:
        sessions: the sessions, oldest first.
    """

    __slots__ = ("_speakers", "auto_away", "left", "sessions")

    def __init__(self, sessions: list[Listener], left: float = 0.0) -> None:
        self.sessions = sessions
        # Whether the user's away message was set because its last session left, and
        # so is cleared when one attaches.
        self.auto_away = False
        # When its last session left (0: never, or it has sessions).
        self.left = left
        # Made at the first message said: an always-on user with no device costs none.
        self._speakers: OrderedDict[str, Listener] | None = None

    @property
    def audience(self) -> Audience | None:
        # Channel messages go through deliver, session by session: each renders them
        # for its own capabilities.
        return None

    @property
    def outbox(self) -> object:
        return None

    def speaking(self, msgid: str, session: Listener) -> None:
        """``session`` said the message ``msgid``: its echo goes to that session as an
        echo (echo-message), and to the others as a message."""
        speakers = self._speakers
        if speakers is None:
            speakers = self._speakers = OrderedDict()
        speakers[msgid] = session
        if len(speakers) > _SPEAKERS_KEPT:
            speakers.popitem(last=False)

    def deliver(self, event: Event) -> None:
        for session in tuple(self.sessions):
            session.deliver(event)

    def arrived(self, user: User) -> None:
        for session in tuple(self.sessions):
            session.arrived(user)

    def refused(self, fact: Fact, error: ChatError) -> None:
        for session in tuple(self.sessions):
            session.refused(fact, error)

    def echo(self, event: MessagePosted) -> None:
        speakers = self._speakers
        speaker = speakers.pop(event.msgid, None) if speakers is not None else None
        # A message to oneself was delivered to every device already, as its recipient.
        to_self = event.to == event.actor.id
        for session in tuple(self.sessions):
            if session is speaker:
                session.echo(event)
            elif not to_self:
                # The user said it on another device: this one shows it as said.
                session.deliver(event)

    def disconnect(self, reason: str) -> None:
        for session in tuple(self.sessions):
            session.disconnect(reason)

    def network(self, reachable: bool) -> None:
        for session in tuple(self.sessions):
            session.network(reachable)


class _Elsewhere:
    """The listener of a user whose sessions are on another node: it hears nothing
    here."""

    audience = None
    outbox = None

    def deliver(self, event: Event) -> None:
        pass

    def arrived(self, user: User) -> None:
        pass

    def refused(self, fact: Fact, error: ChatError) -> None:
        pass

    def echo(self, event: MessagePosted) -> None:
        pass

    def network(self, reachable: bool) -> None:
        pass

    def disconnect(self, reason: str) -> None:
        pass


ELSEWHERE: Listener = _Elsewhere()


def sessions_of(user: User) -> tuple[Listener, ...]:
    """The sessions ``user``'s events reach on this node (none for an always-on user
    with no device attached)."""
    listener = user.listener
    if isinstance(listener, Presence):
        return tuple(listener.sessions)
    return (listener,)


def others(user: User, session: Listener) -> tuple[Listener, ...]:
    """The sessions of ``user`` but ``session``: the user's other devices."""
    return tuple(s for s in sessions_of(user) if s is not session)


class KeptChannel(NamedTuple):
    """A channel an always-on user was in, as its record keeps it: enough for the user
    to walk back in, and for an unregistered channel to be made again as it was (its
    rules: flags, key, limit, and its ban, ban-exception and invite-exception masks,
    each as ``(mode, mask)``; probe 27: a restart forgot the bans and the limit)."""

    name: str
    key: str | None
    status: str
    flags: str
    limit: int | None = None
    lists: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PresenceRecord:
    """An always-on user as the store keeps it, to bring it back after a restart: whose
    it is (the account's name), who it is, where it was (:class:`KeptChannel`), and
    whether it was away by itself or because nobody was attached.
    """

    account: str
    nick: str
    username: str
    host: str
    realname: str
    modes: str
    away: str | None
    auto_away: bool
    channels: tuple[KeptChannel, ...]
    left: float


# Channel statuses, highest first; members with none come last.
_RANKS = "qaohv"


def rank(status: str) -> int:
    """Where a member of a channel with ``status`` comes back among always-on users
    (its operators first, see Presences.restore_all)."""
    return min((_RANKS.index(mode) for mode in status if mode in _RANKS), default=len(_RANKS))


class Choice(enum.Enum):
    """How the server treats an account that set nothing: never, only those that ask
    (opt-in), or all but those that refuse (opt-out)."""

    OFF = "off"
    OPT_IN = "opt-in"
    OPT_OUT = "opt-out"


@dataclass(frozen=True, slots=True)
class PresencePolicy:
    """The server's defaults for accounts that set nothing."""

    multiclient: Choice = Choice.OPT_OUT
    always_on: Choice = Choice.OPT_IN


@dataclass(frozen=True, slots=True)
class AccountChoices:
    """What an account chose (None: the server's default)."""

    multiclient: bool | None = None
    always_on: bool | None = None
