"""Always-on users brought back from the store at start (see :mod:`hubbub.core.presence`).

A step at a time, so that a node of a cluster can wait between them for the log to
bring its facts back (``Bus.settled``; on one node each step's facts are applied before
it returns): each user arrives with no device, then gets its user modes and away
message, then all walk back into their channels (those that let them in), their
operators first, and last the channels' modes are set. An unregistered channel is made
again by its operator, as it was, and its other members come back in as they were
(probe 26: a member back first made it again open, and its operator then came in as a
member).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from hubbub.core import channel_ops, user_ops
from hubbub.core.errors import ChatError
from hubbub.core.events import ChannelModeChanged, Fact
from hubbub.core.model import Listener, User
from hubbub.core.modes import ModeChange
from hubbub.core.presence import KeptChannel, Presence, PresenceRecord, rank
from hubbub.core.state import State
from hubbub.wire.casemap import Key

logger = logging.getLogger(__name__)


class Restoring:
    """The steps of bringing always-on users back.

    Args:
        state: the chat's state.
        publish: where facts go (the hub's).
        arrivals: the applier's listeners of arrivals not applied yet.
        keep: saves a user's record again (``Presences.keep``).
    """

    def __init__(
        self,
        state: State,
        publish: Callable[[Fact], None],
        arrivals: dict[str, Listener],
        keep: Callable[[User], None],
    ) -> None:
        self._state = state
        self._publish = publish
        self._arrivals = arrivals
        self._keep = keep

    def arrive(self, account_id: str, record: PresenceRecord) -> str | None:
        """Publish the arrival of a kept user with no device; its id (None: refused,
        its nick taken)."""
        state = self._state
        try:
            arrival = user_ops.arrive(
                state,
                record.nick,
                record.username,
                record.host,
                record.realname,
                False,
                record.account,
                account_id,
            )
        except ChatError as error:
            logger.warning("always-on %s: not restored: %s", record.account, error)
            return None
        absent = Presence([], record.left or state.clock())
        absent.auto_away = record.auto_away
        self._arrivals[arrival.actor.id] = absent
        self._publish(arrival)
        return arrival.actor.id

    def settle(self, user_id: str, record: PresenceRecord) -> User | None:
        """Once its arrival is applied: the user with its modes and away message back
        (None: its arrival was refused, another node gave its nick out first)."""
        user = self._state.users.by_id.get(user_id)
        if user is None:
            self._arrivals.pop(user_id, None)
            return None
        wanted = [ModeChange(True, mode) for mode in record.modes]
        applied = user_ops.change_user_modes(user, wanted)
        for event in user_ops.user_modes_changed(user, applied):
            self._publish(event)
        if record.away is not None:
            for event in user_ops.set_away(self._state, user, record.away):
                self._publish(event)
        return user

    def order(self, back: Iterable[tuple[User, PresenceRecord]]) -> list[tuple[User, KeptChannel]]:
        """Each user's channels, their operators first."""
        entries = [(user, entry) for user, record in back for entry in record.channels]
        entries.sort(key=lambda pair: rank(pair[1].status))
        return entries

    def rejoin(self, user: User, channel: KeptChannel, remade: set[Key]) -> list[Fact]:
        """Publish ``user``'s join of ``channel``; returns the channel's modes, set last
        (each join is checked again as it is applied, and a channel made again +i would
        refuse its own members)."""
        try:
            events = channel_ops.rejoin(self._state, user, channel, remade)
        except ChatError as error:
            logger.info("always-on %s: not back in %s: %s", user.account, channel.name, error)
            return []
        for event in events:
            if type(event) is not ChannelModeChanged:
                self._publish(event)
        return [e for e in events if type(e) is ChannelModeChanged]

    def finish(self, users: Iterable[User], modes: Iterable[Fact]) -> None:
        """The channels' modes set, and the users back kept again."""
        for event in modes:
            self._publish(event)
        for user in users:
            self._keep(user)

    def restore_all(self, kept: Iterable[tuple[str, PresenceRecord]]) -> list[User]:
        """Bring always-on users back at once (on one node, where each step's facts are
        applied as they are published)."""
        arrived = [(self.arrive(account_id, record), record) for account_id, record in kept]
        back = [
            (user, record)
            for user_id, record in arrived
            if user_id is not None and (user := self.settle(user_id, record)) is not None
        ]
        remade: set[Key] = set()
        modes = [m for user, entry in self.order(back) for m in self.rejoin(user, entry, remade)]
        users = [user for user, _ in back]
        self.finish(users, modes)
        return users

    def restore(self, account_id: str, record: PresenceRecord) -> User | None:
        """Bring one always-on user back."""
        restored = self.restore_all([(account_id, record)])
        return restored[0] if restored else None
