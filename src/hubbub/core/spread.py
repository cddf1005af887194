"""Where a user's devices are between nodes: the node run it lives on, and the others
that hold a device of it.

Theory of operation
-------------------
Every node applies every fact and holds every user. A user lives on one node run, its
*home*: the run that made it arrive (the prefix of its id), until it moves. A client on
another node that logs in to the user's account and asks for its nick is attached to it
there as a second device on the home is (:mod:`hubbub.core.presences`): that node gives
the user a :class:`~hubbub.core.presence.Presence` of its own, and ``apply`` hands the
user's messages to it there, with no change to what any node is sent (each gets every
fact already).

The network must know which nodes hold devices, or the home would make the user quit
when its own last device leaves. So a node that is not the home says so when its first
device of a user attaches (``DeviceAttached``) and when its last one leaves
(``DeviceDetached``); the home's own devices are not counted, its being home says it
has some. Applied in the log's order, the facts keep this table the same on every node:

===================  ==============================  ===================================
fact                 about the home                  about another node
===================  ==============================  ===================================
``DeviceAttached``   nothing                         it is added to the user's others
``DeviceDetached``   the user moves to its first     it is taken out
                     other node, or quits if none
``NodeLost``         as ``DeviceDetached``, but the  as ``DeviceDetached``
                     quit is forced
===================  ==============================  ===================================

A home whose last device leaves publishes ``Quit`` when it knows of no other node with
one (as one server does), else ``DeviceDetached``; if the other node's last device left
meanwhile (earlier in the log), applying it finds none and quits the user, on every node
alike. A node whose device attached while the home's ``Quit`` was on its way applies
that quit with a device of a user that is not its own: it closes the device, whose
client reconnects.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.core.model import User


def run_of(user_id: str) -> str:
    """The node run that made a user (its id's prefix)."""
    return user_id.rpartition(".")[0]


class Spread:
    """Each user's home and the other node runs holding its devices, as the log says."""

    __slots__ = ("homes", "others")

    def __init__(self) -> None:
        # The home of each user that moved from the run that made it, by user id.
        self.homes: dict[str, str] = {}
        # The runs other than the home that hold devices, by user id, in the log's
        # order: the first is where the user moves when its home lets go.
        self.others: dict[str, list[str]] = {}

    def home(self, user_id: str) -> str:
        home = self.homes.get(user_id)
        return home if home is not None else run_of(user_id)

    def elsewhere(self, user_id: str) -> tuple[str, ...]:
        """The runs other than the home that hold a device of the user."""
        return tuple(self.others.get(user_id, ()))

    def holds(self, user_id: str, run: str) -> bool:
        """Whether ``run`` holds a device of the user (as the home, or another)."""
        return run == self.home(user_id) or run in self.others.get(user_id, ())

    def spread(self, user_id: str, run: str) -> bool:
        """Whether a device of the user is on a run other than ``run``."""
        return run != self.home(user_id) or user_id in self.others

    def attached(self, user_id: str, run: str) -> None:
        if run == self.home(user_id):
            return  # the home's devices are not counted (moved there meanwhile)
        runs = self.others.setdefault(user_id, [])
        if run not in runs:
            runs.append(run)

    def detached(self, user_id: str, run: str) -> bool:
        """``run`` holds no device of the user any more: whether the user stays (False:
        it was the home, and no other run holds one)."""
        runs = self.others.get(user_id)
        if run != self.home(user_id):
            if runs is not None and run in runs:
                runs.remove(run)
                if not runs:
                    del self.others[user_id]
            return True
        if runs is None:
            return False
        home = runs.pop(0)
        if not runs:
            del self.others[user_id]
        if home == run_of(user_id):
            self.homes.pop(user_id, None)
        else:
            self.homes[user_id] = home
        return True

    def lost(self, run: str, users: Iterable[User]) -> list[User]:
        """A node run is gone (``NodeLost``): it holds no device of anyone. Returns the
        users that must quit: those it was home to with no other run holding one."""
        # detached() takes the run out of each user's devices as it answers.
        return [u for u in users if self.holds(u.id, run) and not self.detached(u.id, run)]

    def forget(self, user_id: str) -> None:
        """The user quit."""
        self.homes.pop(user_id, None)
        self.others.pop(user_id, None)

    def runs(self, users: Iterable[User]) -> set[str]:
        """Every run holding a device of one of ``users``: the runs whose loss counts."""
        found = {self.home(user.id) for user in users}
        for runs in self.others.values():
            found.update(runs)
        return found
