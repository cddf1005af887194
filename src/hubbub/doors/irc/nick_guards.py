"""Registered nicks held by someone not logged in to their account: the grace before
the nick is taken back, and the hold after, kept per account for the whole server.

Per account, not per connection: a grace kept by the connection began again with each
reconnect, so a nick could be held for good by reconnecting every ``nick_grace``
(probe 14). A grace begun by one connection goes on for the next; after a take-back the
account's names (its name, changes of case, look-alikes) are held from everyone not
logged in to it, and each take-back holds them twice as long as the last, up to
:data:`HOLD_GROWTH` times the grace. A guard is forgotten, and the growth with it, once
that longest hold has passed again with nobody taking the names.

In a cluster the nodes share the guards (:class:`~hubbub.accounts.throttle.Shared`):
each tells the others when a grace begins or ends and when a hold begins, so a grace
begun on one node goes on on another, and a nick held on one is held on all.
"""

from __future__ import annotations

import time

from hubbub.accounts.throttle import Shared

HOLD_GROWTH = 64


class NickGuard:
    """One account's grace (when it ends) and hold (until when its names are held)."""

    __slots__ = ("deadline", "held_until", "owner", "takebacks")

    def __init__(self, owner: str, deadline: float, takebacks: int = 0) -> None:
        self.owner = owner  # the account (its folded name; a skeleton for look-alikes)
        self.deadline = deadline
        self.held_until = 0.0
        self.takebacks = takebacks


class NickGuards(Shared):
    """The guards of one server's accounts, by owner.

    Args:
        grace: the grace (``nick_grace``) of guards begun on other nodes.
    """

    def __init__(self, grace: float = 60.0) -> None:
        self._by_owner: dict[str, NickGuard] = {}
        self._sweep_at = 256
        self.grace = grace

    def __len__(self) -> int:
        return len(self._by_owner)

    def get(self, owner: str) -> NickGuard | None:
        return self._by_owner.get(owner)

    def begin(self, owner: str, now: float, grace: float) -> NickGuard:
        """A new grace for ``owner``'s names, ending ``grace`` seconds from ``now``."""
        guard = self._begin(owner, now, grace)
        self._tell("begin", owner)
        return guard

    def _begin(self, owner: str, now: float, grace: float) -> NickGuard:
        if len(self._by_owner) >= self._sweep_at:
            self._sweep(now, grace)
        earlier = self._by_owner.get(owner)
        # Twice as long at each grace, until a quiet spell as long as the longest hold.
        if (
            earlier is None
            or max(earlier.deadline, earlier.held_until) + grace * HOLD_GROWTH <= now
        ):
            takebacks = 0
        else:
            takebacks = earlier.takebacks
        guard = NickGuard(owner, now + grace, takebacks)
        self._by_owner[owner] = guard
        return guard

    def end(self, guard: NickGuard) -> None:
        """The account's owner logged in during ``guard``'s grace: it ends, no hold."""
        if self._by_owner.get(guard.owner) is guard:
            del self._by_owner[guard.owner]
            self._tell("end", guard.owner)

    def hold(self, guard: NickGuard, now: float, grace: float) -> None:
        """A take-back at the end of ``guard``'s grace: hold the names, longer each time."""
        guard.takebacks += 1
        guard.held_until = now + grace * min(2 ** (guard.takebacks - 1), HOLD_GROWTH)
        self._tell("hold", guard.owner, str(guard.takebacks))

    def count_shared(self, step: str, keys: tuple[str, ...]) -> None:
        """A guard changed on another node: the same here. Idempotent, as two nodes
        whose users took one account's names both take them back at its deadline."""
        now, owner = time.monotonic(), keys[0] if keys else ""
        guard = self._by_owner.get(owner)
        if step == "begin" and len(keys) == 1:
            if guard is None or guard.deadline <= now:
                self._begin(owner, now, self.grace)
        elif step == "end" and len(keys) == 1:
            self._by_owner.pop(owner, None)
        elif step == "hold" and len(keys) == 2 and keys[1].isascii() and keys[1].isdigit():
            if guard is None:
                guard = self._begin(owner, now - self.grace, self.grace)
            takebacks = min(int(keys[1][:6]), HOLD_GROWTH * 2)
            if takebacks > guard.takebacks:
                guard.takebacks = takebacks
                growth = min(2 ** (takebacks - 1), HOLD_GROWTH)
                guard.held_until = max(guard.held_until, now + self.grace * growth)

    def _sweep(self, now: float, grace: float) -> None:
        # Amortised: the next sweep waits until the table has doubled, so a stream of
        # new guards costs O(1) each however many stay.
        quiet = grace * HOLD_GROWTH
        self._by_owner = {
            owner: guard
            for owner, guard in self._by_owner.items()
            if max(guard.deadline, guard.held_until) + quiet > now
        }
        self._sweep_at = max(256, 2 * len(self._by_owner))
