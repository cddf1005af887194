"""Always-on users between nodes: each is kept by its home, which says so to the others
(``Kept``; see :mod:`hubbub.core.spread`).

Theory of operation
-------------------
On one server an always-on user whose last device leaves stays, kept with no device
(:mod:`hubbub.core.presences`). Between nodes every node holds every user, but only
the user's home keeps it: it alone saves the user's record in the shared store (which
names the node, :mod:`hubbub.storage.presences`) and publishes ``Kept`` whenever
whether the user is always-on, or whether a device is attached at the home, changes.
So every node knows who stays with no device anywhere (``Kept`` absent, and no other
node holding a device of it): a login to the account on any node attaches to it, and
``always_on_users`` counts the whole network's.

The home reacts to devices on other nodes as one server reacts to its own: the first
one attaching somewhere ends the auto-away, the last one leaving sets it again (and is
when the user last had a device). A user whose home is lost moves to the run that
reported it (``NodeLost.by``, the first report in the log): that run finds itself home
to a user with no device there, and keeps it from then on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hubbub.core import user_ops
from hubbub.core.events import DeviceAttached, DeviceDetached, Fact, Kept, Quit
from hubbub.core.presence import ELSEWHERE, AccountChoices, Presence

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubbub.core.model import User
    from hubbub.core.state import State

logger = logging.getLogger(__name__)

# What an always-on user's away message says while no device is attached.
AUTO_AWAY = "Not connected: messages are kept for later"


class Homes:
    """This node's share of keeping always-on users between nodes.

    Args:
        state: the chat's state.
        publish: where facts go (the hub's).
        choices: what each account chose, as this node knows it (``Presences``').
        always_on: whether an account is always-on (``Presences.always_on``).
        keep: saves an always-on user as it is now (``Presences.keep``).
    """

    def __init__(
        self,
        state: State,
        publish: Callable[[Fact], None],
        choices: dict[str, AccountChoices],
        always_on: Callable[[str | None], bool],
        keep: Callable[[User], None],
    ) -> None:
        self._state = state
        self._publish = publish
        self._choices = choices
        self._always_on = always_on
        self._keep = keep
        # Whether this node is one of a cluster's (else it is every user's home and
        # says nothing).
        self.between_nodes = False
        # What this node last said of each user, until it is applied.
        self.said: dict[str, Kept] = {}

    def home(self, user: User) -> bool:
        """Whether this node keeps ``user`` if it is always-on: its home (on one node,
        every user's)."""
        state = self._state
        return not self.between_nodes or state.spread.home(user.id) == state.ids.prefix

    def tell(self, user: User, on: bool, absent: bool = False, left: float = 0.0) -> None:
        """As the home of ``user``, say whether it is always-on (between nodes only),
        when the log does not say so already and it was not said since."""
        if not self.between_nodes:
            return
        known = self._state.spread.kept.get(user.id)
        if (known == (absent, left)) if on else known is None:
            return
        choices = self._choices.get(user.account_id or "", AccountChoices())
        fact = Kept(user.id, on, absent, left, choices.multiclient, choices.always_on)
        if self.said.get(user.id) != fact:
            self.said[user.id] = fact
            self._publish(fact)

    def heard(self, event: Kept) -> None:
        """Every node learns the account's choices from the user's home: the node it
        moves to when its home is lost keeps it by them."""
        if self.said.get(event.user) == event:
            del self.said[event.user]
        user = self._state.users.by_id.get(event.user)
        if event.on and user is not None and user.account_id is not None:
            self._choices[user.account_id] = AccountChoices(event.multiclient, event.always_on)

    def roamed(self, event: Fact) -> None:
        """Between nodes, after a device attached or left elsewhere, or a node was lost:
        the users this node is home to get what one server gives them. One moved here
        with no device here (its home lost) is kept here now; one kept here with no
        device is away while it has none anywhere, or quits if no longer always-on."""
        if not self.between_nodes:
            return
        state = self._state
        match event:
            case DeviceAttached(user_id) | DeviceDetached(user_id):
                found = state.users.by_id.get(user_id)
                users = [found] if found is not None else []
            case _:
                users = list(state.users)
        for user in users:
            if not self.home(user):
                continue
            listener = user.listener
            if listener is ELSEWHERE:
                if user.id not in state.spread.kept:
                    continue
                logger.info("always-on %s: kept here, its node lost", user.account)
                account = user.account_id
                said = state.spread.choices.get(user.id)
                if account is not None and said is not None and account not in self._choices:
                    # Its Kept fact may be older than this node's snapshot (probe 34).
                    self._choices[account] = AccountChoices(*said)
                listener = Presence([], state.spread.kept[user.id][1] or state.clock())
                # Away by its lost home's doing: cleared when a device attaches.
                listener.auto_away = user.away == AUTO_AWAY
                user.listener = listener
                for channel in user.channels.values():
                    channel.regroup(user)
            if isinstance(listener, Presence) and not listener.sessions:
                self._alone(user, listener, type(event) is DeviceDetached)
            self._keep(user)

    def _alone(self, user: User, listener: Presence, left: bool) -> None:
        """``user``, kept here with no device here: away (auto-away) while no node
        holds one of its devices, back when one does; ``left``: one just left."""
        if user.id in self._state.spread.others:
            if listener.auto_away:
                listener.auto_away = False
                self._away(user, None)
            return
        if not self._always_on(user.account_id):
            self._publish(Quit(user.actor, "Not always-on any more"))
            return
        if left:
            listener.left = self._state.clock()
        if user.away is None and not listener.auto_away:
            listener.auto_away = True
            self._away(user, AUTO_AWAY)

    def _away(self, user: User, message: str | None) -> None:
        for event in user_ops.set_away(self._state, user, message):
            self._publish(event)
