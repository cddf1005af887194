"""The bus and the registry of a server that is its own whole network (the default)."""

from __future__ import annotations

from hubbub.core.events import Fact
from hubbub.core.ports import Kinds, Subscriber


class LocalBus:
    """Publishing is a direct synchronous call of each subscriber, in the order they
    subscribed: no task, no queue, no copy. An event is applied and delivered before
    ``publish`` returns, so the fan-out stays one call chain from the line read."""

    __slots__ = ("_by_kind", "_subscribers", "settled")

    applying_own = True  # every fact is this node's own

    def __init__(self) -> None:
        self._subscribers: tuple[tuple[Subscriber, Kinds | None], ...] = ()
        # Who takes each class of fact, in subscription order: made at its first fact.
        self._by_kind: dict[type[Fact], tuple[Subscriber, ...]] = {}
        self.settled = None  # every fact is applied before publish returns

    def subscribe(
        self, subscriber: Subscriber, own_only: bool = False, kinds: Kinds | None = None
    ) -> None:
        # Every fact is this node's own: own_only changes nothing.
        self._subscribers = (*self._subscribers, (subscriber, kinds))
        self._by_kind = {}

    def unsubscribe(self, subscriber: Subscriber) -> None:
        # By equality: a bound method made again (hub.apply) is equal, not the same.
        self._subscribers = tuple(s for s in self._subscribers if s[0] != subscriber)
        self._by_kind = {}

    def publish(self, event: Fact) -> None:
        kind = type(event)
        subscribers = self._by_kind.get(kind)
        if subscribers is None:
            subscribers = self._by_kind[kind] = tuple(
                subscriber
                for subscriber, kinds in self._subscribers
                if kinds is None or kind in kinds
            )
        for subscriber in subscribers:
            subscriber(event)


class LocalRegistry:
    """Claims in a dict: one process is the only claimant, so every claim is atomic."""

    __slots__ = ("_holders",)

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def claim(self, name: str, holder: str) -> bool:
        return self._holders.setdefault(name, holder) == holder

    def holder(self, name: str) -> str | None:
        return self._holders.get(name)

    def release(self, name: str, holder: str) -> None:
        if self._holders.get(name) == holder:
            del self._holders[name]
