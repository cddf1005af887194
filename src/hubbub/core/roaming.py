"""This node's share of users whose devices are on several nodes (see
:mod:`hubbub.core.spread`): it says which users it holds devices of, and fits each such
user's listener here to what the log says.

Theory of operation
-------------------
A user of another node has :data:`~hubbub.core.presence.ELSEWHERE` for its listener
here. When a client here attaches to it, the listener becomes a ``Presence`` of that
session and this node publishes ``DeviceAttached``; when its last session here leaves,
the listener is ``ELSEWHERE`` again and it publishes ``DeviceDetached``, with the reason
the user quits for if that was its last device anywhere.

While a user's devices are on more than one node, its listener on each node that has
some is a ``Presence``, even of one session: a message said on another node finds no
speaker among its sessions, and so each of them shows it as said by the user (on one
node, a lone session is the speaker of everything the user says).

A read marker a device moves is told to the user's other devices on its node by the
door; this node tells its own of a marker moved on another node.

A node the others counted lost (cut off from NATS for longer than the node timeout)
holds no device in the log's eyes any more: once it applies its own ``NodeLost`` it
closes them, and their clients reconnect.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from hubbub.core.events import DeviceAttached, DeviceDetached, Event, Fact, MarkerMoved, NodeLost
from hubbub.core.model import Listener, User
from hubbub.core.presence import ELSEWHERE, Presence
from hubbub.core.state import State

# Read markers of this node's devices awaiting their facts (see Roaming.marking).
_MARKS_KEPT = 64


class Roaming:
    """The devices this node holds of users that have devices on other nodes too.

    Args:
        state: the chat's state.
        publish: where facts go (the hub's).
        forget: called with a user id when this node's devices of it were all closed.
    """

    def __init__(
        self, state: State, publish: Callable[[Fact], None], forget: Callable[[str], object]
    ) -> None:
        self._state = state
        self._publish = publish
        self._forget = forget
        # The DeviceAttached published for each user that are not back from the log
        # yet: the log does not count this node's device of it yet, which must not be
        # closed as one the network counts gone. A count: a device may attach, leave
        # and another attach within one round trip, and the first one's fact coming
        # back says nothing of the last.
        self._attaching: dict[str, int] = {}
        # Read markers moved by this node's devices of such users, until they come back
        # from the log: the door tells those devices' neighbours here (bounded, as
        # Presence's speakers).
        self._marked: OrderedDict[Event, bool] = OrderedDict()

    def others(self, user: User) -> int:
        """How many other nodes hold devices of ``user`` (each at least one)."""
        own, spread = self._state.ids.prefix, self._state.spread
        return len({spread.home(user.id), *spread.elsewhere(user.id)} - {own})

    def spreads(self, user: User) -> bool:
        """Whether ``user`` has devices on other nodes than this one."""
        uid = user.id
        return uid in self._attaching or self._state.spread.spread(uid, self._state.ids.prefix)

    def attach(self, user: User, session: Listener) -> None:
        """The first device here of a user that lives on another node."""
        user.listener = Presence([session])
        self._attaching[user.id] = self._attaching.get(user.id, 0) + 1
        self._publish(DeviceAttached(user.id, self._state.ids.prefix))

    def left(self, user: User, reason: str) -> bool:
        """The last session here of ``user`` left: whether the user stays, for other
        nodes hold devices of it (this node then says it holds none). When it does not,
        the caller makes it quit, as on one server."""
        if not self.spreads(user):
            return False
        self._set(user, ELSEWHERE)
        self._publish(DeviceDetached(user.id, self._state.ids.prefix, reason))
        return True

    def marking(self, user: User, events: Iterable[Event]) -> None:
        """A device here moves ``user``'s read markers by ``events``."""
        if self.spreads(user):
            for event in events:
                self._marked[event] = True
                if len(self._marked) > _MARKS_KEPT:
                    self._marked.popitem(last=False)

    def follow(self, event: Fact) -> None:
        """After ``apply`` of a fact about devices between nodes: each user it concerns
        gets the listener here that the log now calls for."""
        users = self._state.users.by_id
        match event:
            case DeviceAttached(user_id, run) | DeviceDetached(user_id, run):
                if run == self._state.ids.prefix and type(event) is DeviceAttached:
                    pending = self._attaching.pop(user_id, 0) - 1
                    if pending > 0:
                        self._attaching[user_id] = pending
                user = users.get(user_id)
                if user is not None:
                    self._fit(user)
            case NodeLost():
                for user in list(users.values()):
                    if user.listener is not ELSEWHERE:
                        self._fit(user)
            case MarkerMoved(by=user_id, quiet=False):
                if self._marked.pop(event, False):
                    return  # moved by a device here: the door told the others here
                user = users.get(user_id)
                listener = user.listener if user is not None else ELSEWHERE
                if isinstance(listener, Presence) and user is not None and self.spreads(user):
                    listener.deliver(event)

    def _fit(self, user: User) -> None:
        listener = user.listener
        if listener is ELSEWHERE:
            return
        if user.id not in self._attaching and not self._state.spread.holds(
            user.id, self._state.ids.prefix
        ):
            # This node was counted lost: its devices are not the user's any more.
            self._set(user, ELSEWHERE)
            self._forget(user.id)
            listener.disconnect(
                "This server was counted lost by the network (cut off too long): connect again"
            )
            return
        spreads = self.spreads(user)
        if isinstance(listener, Presence):
            if len(listener.sessions) == 1 and not spreads:
                self._set(user, listener.sessions[0])
        elif spreads:
            self._set(user, Presence([listener]))

    def _set(self, user: User, listener: Listener) -> None:
        user.listener = listener
        for channel in user.channels.values():
            channel.regroup(user)
