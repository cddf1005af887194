"""Attaching devices to users and keeping always-on users (see :mod:`hubbub.core.presence`).

The rules: a session logged in to an account may attach to that account's user on this
node when it asks for that user's nick, or to the account's always-on user whatever
nick it asked for; an account attaches at most ``clients_per_account`` sessions, has one
always-on user, and the server keeps at most ``always_on_users`` users without
sessions. Each device's own address is kept too, for the server bans. Whether an account
allows attaching (multiclient) and stays (always-on) is its own setting, or else the
server's default (:class:`PresencePolicy`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable

from hubbub.core import user_ops
from hubbub.core.events import (
    AccountChanged,
    AccountDropped,
    AwayChanged,
    ChannelModeChanged,
    ChannelRenamed,
    DeviceAttached,
    DeviceDetached,
    Fact,
    Joined,
    Kept,
    Kicked,
    MarkerMoved,
    NickChanged,
    NodeLost,
    Parted,
    Quit,
    RealnameChanged,
    UserModeChanged,
)
from hubbub.core.homes import AUTO_AWAY, Homes
from hubbub.core.model import Listener, User
from hubbub.core.ports import Kinds, PresenceSink
from hubbub.core.presence import (
    ELSEWHERE,
    AccountChoices,
    Choice,
    KeptChannel,
    Presence,
    PresencePolicy,
    PresenceRecord,
    sessions_of,
)
from hubbub.core.restoring import Restoring
from hubbub.core.roaming import Roaming
from hubbub.core.server_bans import ServerBan, covers
from hubbub.core.state import State

logger = logging.getLogger(__name__)

# The facts of devices between nodes (core/roaming.py).
_ROAMING: Kinds = frozenset({DeviceAttached, DeviceDetached, NodeLost, MarkerMoved})
# The facts that change what is kept of an always-on user, or end one, and those: what
# follow() is subscribed to.
FOLLOWED: Kinds = _ROAMING | {
    AccountChanged,
    AccountDropped,
    AwayChanged,
    ChannelModeChanged,
    ChannelRenamed,
    Joined,
    Kicked,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
    UserModeChanged,
    Kept,
}
# Devices whose last leaving is remembered per account (the most recent).
DEVICES_KEPT = 32


def _decide(choice: bool | None, default: Choice) -> bool:
    if default is Choice.OFF:
        return False
    if choice is not None:
        return choice
    return default is Choice.OPT_OUT


class Presences:
    """The devices attached to users of this node, and the always-on accounts.

    Args:
        state: the chat's state (read; the facts this publishes change it).
        publish: where facts go (the hub's).
        arrivals: the listeners of users whose arrival is not applied yet (the
            applier's), by user id.
    """

    def __init__(
        self,
        state: State,
        publish: Callable[[Fact], None],
        arrivals: dict[str, Listener],
    ) -> None:
        self._state = state
        self._publish = publish
        self._arrivals = arrivals
        self.policy = PresencePolicy()
        # What each account logged in here chose, as its sessions loaded it at login.
        self.choices: dict[str, AccountChoices] = {}
        # When each device of those accounts last left ("": the unnamed device).
        self.seen: dict[str, dict[str, float]] = {}
        # Where always-on users are kept (None: nowhere, they end with the process).
        self.sink: PresenceSink | None = None
        # Accounts whose users are being brought back at start: kept (saved, and told
        # to the other nodes) once whole, for a node killed halfway must leave their
        # records whole (probe 34).
        self.restoring_accounts: set[str] = set()
        # Each account's always-on user (one: probe 24 kept a user for each connection of
        # an account, each with another nick, until always_on_users was full), by
        # account id, and the other way: its record is forgotten when it quits (the
        # Quit no longer says which account it was logged in to).
        self._holders: dict[str, str] = {}
        self._held: dict[str, str] = {}
        # The username and host of each device of users with several, by user id: a ban
        # on one device's address closes that device (probe 24: only the user's first
        # device's address was matched).
        self._devices: dict[str, dict[Listener, tuple[str, str]]] = {}
        # This node's devices of users with devices on other nodes too.
        self.roaming = Roaming(state, publish, lambda user_id: self._devices.pop(user_id, None))
        # Bringing always-on users back from the store.
        self.restoring = Restoring(state, publish, arrivals, self.keep)
        # Always-on users between nodes: kept by their homes (core/homes.py).
        self.homes = Homes(state, publish, self.choices, self.always_on, self.keep)

    # -- the rules ---------------------------------------------------------------------

    def multiclient(self, account_id: str) -> bool:
        choices = self.choices.get(account_id, AccountChoices())
        return _decide(choices.multiclient, self.policy.multiclient)

    def always_on(self, account_id: str | None) -> bool:
        if account_id is None:
            return False
        choices = self.choices.get(account_id, AccountChoices())
        return _decide(choices.always_on, self.policy.always_on)

    def choose(self, account_id: str, choices: AccountChoices) -> None:
        """An account changed its choices (NickServ SET): they are kept, and its user,
        if no longer always-on and with no device attached, leaves."""
        self.choices[account_id] = choices
        if self.sink is not None:
            self.sink.choose(account_id, choices)
        for user in list(self._state.account_users.get(account_id, ())):
            self.keep(user)
            if self._deviceless(user) and not self.always_on(account_id):
                self._publish(Quit(user.actor, "Not always-on any more"))

    def target(self, account_id: str, nick: str) -> User | None:
        """The user a session logged in to ``account_id`` that asked for ``nick`` attaches
        to, if any: that account's user holding the nick (on any node), or its user with
        no device."""
        if not self.multiclient(account_id):
            return None
        users = self._state.account_users.get(account_id, ())
        key = self._state.casemap.fold(nick)
        for user in users:
            if user.key == key:
                return user
        for user in users:
            if self._deviceless(user):
                return user
        return None

    def _deviceless(self, user: User) -> bool:
        """Whether ``user`` is kept with no device attached anywhere (on another node
        the log says so: ``Kept``)."""
        listener = user.listener
        if isinstance(listener, Presence):
            return not listener.sessions and user.id not in self._state.spread.others
        return listener is ELSEWHERE and self._state.spread.absent(user.id) is not None

    def full(self, user: User) -> bool:
        """Whether ``user`` has as many devices as an account may attach: those here,
        and one for each other node holding some (how many there is not known here)."""
        here = [s for s in sessions_of(user) if s is not ELSEWHERE]
        return len(here) + self.roaming.others(user) >= self._state.limits.clients_per_account

    def absent(self) -> int:
        """Users kept with no device attached (in the whole network)."""
        return sum(1 for user in self._state.users if self._deviceless(user))

    # -- devices -----------------------------------------------------------------------

    def attach(self, user: User, session: Listener, username: str = "", host: str = "") -> None:
        """Hand ``user``'s events to ``session`` too from now on; an auto-away ends.
        ``username`` and ``host``: the device's own, which bans are matched against."""
        known = self._devices.setdefault(user.id, {})
        for present in sessions_of(user):
            if present is not ELSEWHERE:
                known.setdefault(present, (user.username, user.host))
        known[session] = (username or user.username, host or user.host)
        listener = user.listener
        if listener is ELSEWHERE:
            self.roaming.attach(user, session)
        elif isinstance(listener, Presence):
            sessions = listener.sessions
            sessions.append(session)
            if len(sessions) == 1:
                # Back from no device: the user's listener is the session itself again
                # (a Presence still while other nodes hold devices, core/roaming.py).
                if not self.roaming.spreads(user):
                    user.listener = session
                if listener.auto_away:
                    listener.auto_away = False
                    self._publish_all(user_ops.set_away(self._state, user, None))
        else:
            user.listener = Presence([listener, session])
        self._regroup(user)
        self.keep(user)

    def seen_by(self, account_id: str | None, device: str | None) -> float:
        """When ``device`` of an account last left (0: never seen)."""
        if account_id is None:
            return 0.0
        return self.seen.get(account_id, {}).get(device or "", 0.0)

    def loaded(self, account_id: str, choices: AccountChoices, seen: dict[str, float]) -> None:
        """What the store keeps of an account, read as a session logged in to it."""
        self.choices[account_id] = choices
        known = self.seen.get(account_id, {})
        for device, time in seen.items():
            self._saw(account_id, device, max(time, known.get(device, 0.0)))

    def _saw(self, account_id: str, device: str, time: float) -> None:
        """Note when a device left, keeping an account's latest DEVICES_KEPT (as the
        store does: a client naming a new device at each connection grew this without
        end, probe 24)."""
        known = self.seen.setdefault(account_id, {})
        known[device] = time
        if len(known) > DEVICES_KEPT:
            del known[min(known, key=known.__getitem__)]

    def detach(
        self,
        user: User,
        session: Listener,
        device: str | None = None,
        caught_up: bool = True,
        reason: str = "",
    ) -> bool:
        """``session`` (the client's ``device``, if it named one) left: whether ``user``
        stays (another device is attached, here or on another node, or it is always-on).
        When it does not, the caller makes it quit (with ``reason``, which the last
        device anywhere quits with when it is on another node). A device cut off before
        it read what it was sent (``caught_up`` False: past its SendQ) keeps its time:
        what it missed is replayed again next time (probe 25)."""
        account_id = user.account_id
        if account_id is not None and caught_up:
            now = self._state.clock()
            self._saw(account_id, device or "", now)
            if self.sink is not None:
                self.sink.seen(account_id, device or "", now)
        known = self._devices.get(user.id)
        if known is not None:
            known.pop(session, None)
            if len(known) <= 1:
                del self._devices[user.id]  # the one left is the user's own address
        listener = user.listener
        if isinstance(listener, Presence):
            if session in listener.sessions:
                listener.sessions.remove(session)
            remaining = listener.sessions
            if len(remaining) == 1 and not self.roaming.spreads(user):
                user.listener = remaining[0]
                self._regroup(user)
                return True
            if remaining:
                return True
        elif listener is not session:
            return True  # not this session's user any more
        if self.roaming.left(user, reason):
            return True
        if (
            not self.always_on(user.account_id)
            or not self._holds(user)
            or not self._room_for_absent()
        ):
            return False
        absent = Presence([], self._state.clock())
        user.listener = absent
        self._regroup(user)
        if user.away is None:
            absent.auto_away = True
            self._publish_all(user_ops.set_away(self._state, user, AUTO_AWAY))
        self.keep(user)
        return True

    def _holds(self, user: User) -> bool:
        """Whether ``user`` is its account's always-on user: the first of the account's
        users to be, for as long as it is there."""
        account_id = user.account_id
        if account_id is None:
            return False
        holder = self._holders.get(account_id)
        if holder is not None and holder != user.id and holder in self._state.users.by_id:
            return False
        if holder != user.id:
            if holder is not None:
                self._held.pop(holder, None)
            self._holders[account_id] = user.id
            self._held[user.id] = account_id
        return True

    def _let_go(self, user_id: str) -> str | None:
        """Forget that ``user_id`` was its account's always-on user; the account."""
        account_id = self._held.pop(user_id, None)
        if account_id is not None and self._holders.get(account_id) == user_id:
            del self._holders[account_id]
        return account_id

    def banned_devices(
        self, ban: ServerBan, spared: Collection[str]
    ) -> list[tuple[User, Listener]]:
        """The devices ``ban`` covers, of users it does not cover whole (``spared``:
        the ids of those it does)."""
        found = []
        for user_id, known in self._devices.items():
            user = self._state.users.by_id.get(user_id)
            if user is None or user_id in spared:
                continue
            for session, (username, host) in known.items():
                if covers(ban, username, host, user.account_id):
                    found.append((user, session))
        return found

    def _room_for_absent(self) -> bool:
        limit = self._state.limits.always_on_users
        if self.absent() < limit:
            return True
        logger.warning("always-on: %d users are kept without a device already (the most)", limit)
        return False

    def _regroup(self, user: User) -> None:
        for channel in user.channels.values():
            channel.regroup(user)

    def _publish_all(self, events: Iterable[Fact]) -> None:
        for event in events:
            self._publish(event)

    # -- following the chat ------------------------------------------------------------

    def follow(self, event: Fact) -> None:
        """After ``apply``: an always-on user that changed is saved again; one whose
        account was dropped leaves."""
        kind = type(event)
        if kind not in FOLLOWED:  # a bus subscription with kinds sends no others
            return
        if kind in _ROAMING:
            self.roaming.follow(event)
            self.homes.roamed(event)
            return
        if type(event) is Kept:
            self.homes.heard(event)
            return
        if self.sink is None and kind is not AccountDropped:
            return
        users = self._state.users.by_id
        match event:
            case (
                AccountChanged()
                | Joined()
                | Parted()
                | NickChanged()
                | UserModeChanged()
                | AwayChanged()
                | RealnameChanged()
            ):
                user = users.get(event.actor.id)
                if user is not None:
                    self._changed(user)
            case Kicked(victim=victim):
                user = users.get(victim)
                if user is not None:
                    self._changed(user)
            case ChannelRenamed(new=name) | ChannelModeChanged(channel=name):
                channel = self._state.channels.find(name)
                for member in list(channel.members) if channel is not None else ():
                    self._changed(member)
            case Quit(actor):
                self._devices.pop(actor.id, None)
                self.homes.said.pop(actor.id, None)
                account_id = self._let_go(actor.id)
                if account_id is not None and self.sink is not None:
                    self.sink.save(account_id, None)
            case AccountDropped(account_id):
                self.choices.pop(account_id, None)
                self.seen.pop(account_id, None)
                for user in list(self._state.users):
                    listener = user.listener
                    absent = isinstance(listener, Presence) and not listener.sessions
                    if absent and user.account_id is None:
                        self._publish(Quit(user.actor, "Account dropped"))

    def _changed(self, user: User) -> None:
        here = user.listener is not ELSEWHERE
        if user.account_id is not None and here and self.always_on(user.account_id):
            self.keep(user)

    # -- the store ---------------------------------------------------------------------

    def keep(self, user: User) -> None:
        """Save an always-on user as it is now (or forget it, when it is not)."""
        sink = self.sink
        account_id = user.account_id
        if account_id is None or not self.homes.home(user):
            return  # between nodes, its home keeps it
        if account_id in self.restoring_accounts:
            return
        if not self.always_on(account_id) or self._state.users.by_id.get(user.id) is not user:
            if self._let_go(user.id) is not None and sink is not None:
                sink.save(account_id, None)
            self.homes.tell(user, False)
            return
        if not self._holds(user):
            return  # another user of the account is its always-on one
        listener = user.listener
        absent = isinstance(listener, Presence) and not listener.sessions
        left = listener.left if absent and isinstance(listener, Presence) else 0.0
        self.homes.tell(user, True, absent, left)
        if sink is None:
            return
        record = PresenceRecord(
            user.account or "",
            user.nick,
            user.username,
            user.host,
            user.realname,
            "".join(sorted(user.modes - {"o"})),
            user.away,
            isinstance(listener, Presence) and listener.auto_away,
            tuple(
                KeptChannel(
                    c.name,
                    c.password,
                    c.members.get(user, ""),
                    "".join(sorted(c.flags)),
                    c.limit,
                    tuple((mode, e.mask) for mode, entries in c.lists.items() for e in entries),
                )
                for c in user.channels.values()
            ),
            left,
        )
        sink.save(account_id, record)
