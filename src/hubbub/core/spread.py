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
                     quit is forced; an always-on
                     user with no other node moves
                     to the run that reported it
``Kept``             whether it is always-on, and    (published by the home only)
                     has no device at its home
===================  ==============================  ===================================

A home whose last device leaves publishes ``Quit`` when it knows of no other node with
one (as one server does), else ``DeviceDetached``; if the other node's last device left
meanwhile (earlier in the log), applying it finds none and quits the user, on every node
alike. A node whose device attached while the home's ``Quit`` was on its way applies
that quit with a device of a user that is not its own: it closes the device, whose
client reconnects.

An always-on user stays with no device at all: its home keeps it (and its record in
the shared store) and says so with ``Kept``, so that every node knows it stays with no
device (a client logging in to its account on any node attaches to it, and is replayed
what it missed since ``left``). Its home lost, it moves to the run named by the first
``NodeLost`` of that home in the log (the first node to notice), which keeps it from
then on: the nodes need not agree on who is alive, the log's order decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.core.model import User


def run_of(user_id: str) -> str:
    """The node run that made a user (its id's prefix)."""
    return user_id.rpartition(".")[0]


class Spread:
    """Each user's home and the other node runs holding its devices, as the log says."""

    __slots__ = ("choices", "homes", "kept", "others")

    def __init__(self) -> None:
        # The home of each user that moved from the run that made it, by user id.
        self.homes: dict[str, str] = {}
        # The runs other than the home that hold devices, by user id, in the log's
        # order: the first is where the user moves when its home lets go.
        self.others: dict[str, list[str]] = {}
        # The always-on users, by user id, as their homes said (Kept): whether no
        # device is attached at the home, and since when.
        self.kept: dict[str, tuple[bool, float]] = {}
        # Their accounts' choices as their homes said (multiclient, always-on): the
        # node a user moves to keeps it by them, even one started from a snapshot
        # that holds no Kept fact of it (probe 34).
        self.choices: dict[str, tuple[bool | None, bool | None]] = {}

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

    def said_kept(
        self,
        user_id: str,
        on: bool,
        absent: bool,
        left: float,
        choices: tuple[bool | None, bool | None] = (None, None),
    ) -> None:
        """The user's home said whether it is always-on (``Kept``), and its account's
        ``choices`` (multiclient, always-on)."""
        if on:
            self.kept[user_id] = (absent, left)
            self.choices[user_id] = choices
        else:
            self.kept.pop(user_id, None)
            self.choices.pop(user_id, None)

    def absent(self, user_id: str) -> float | None:
        """When the last device anywhere of an always-on user left (None: one is
        attached somewhere, or the user is not always-on)."""
        kept = self.kept.get(user_id)
        if kept is None or not kept[0] or user_id in self.others:
            return None
        return kept[1]

    def lost(self, run: str, users: Iterable[User], by: str = "") -> list[User]:
        """A node run is gone (``NodeLost``, reported by the run ``by``): it holds no
        device of anyone. Returns the users that must quit: those it was home to with
        no other run holding one, but the always-on ones, which move to ``by``."""
        quits = []
        for user in users:
            # detached() takes the run out of each user's devices as it answers.
            if not self.holds(user.id, run) or self.detached(user.id, run):
                continue
            if user.id in self.kept and by and by != run:
                self.homes[user.id] = by
                # Its devices on the lost run are gone: when they left is not known
                # here (0), the run it moves to says (Kept).
                absent, left = self.kept[user.id]
                self.kept[user.id] = (True, left if absent else 0.0)
            else:
                quits.append(user)
        return quits

    def forget(self, user_id: str) -> None:
        """The user quit."""
        self.homes.pop(user_id, None)
        self.others.pop(user_id, None)
        self.kept.pop(user_id, None)
        self.choices.pop(user_id, None)

    def runs(self, users: Iterable[User]) -> set[str]:
        """Every run holding a device of one of ``users``: the runs whose loss counts."""
        found = {self.home(user.id) for user in users}
        for runs in self.others.values():
            found.update(runs)
        return found
