"""Ports the core declares and outer rings implement.

The bus and the registry are how the chat would span several nodes: ``cluster/``
implements them (``cluster/local.py`` for one process). The sinks are where keepers in
``storage/`` take what the chat hands them; none of them may block.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from hubbub.core.events import Fact, MessagePosted, TopicChanged
from hubbub.core.presence import AccountChoices, PresenceRecord
from hubbub.core.registered import RegisteredChannel

Subscriber = Callable[[Fact], None]
# The classes of fact a subscriber takes (the exact class, as type(fact) is).
Kinds = frozenset[type[Fact]]


class StoreUnavailable(Exception):
    """What every store a port names raises when it cannot be used (locked, corrupt,
    unreachable): callers in inner rings catch this, not a backend's own errors."""


class Bus(Protocol):
    """The one way out of an operation: its events reach every node's subscribers.

    The hub subscribes its ``apply`` first; keepers (history, read markers) after it, so
    that they see each event once the state has changed by it.
    """

    def subscribe(
        self, subscriber: Subscriber, own_only: bool = False, kinds: Kinds | None = None
    ) -> None:
        """Call ``subscriber`` with every event published from now on, in order; with
        ``own_only``, with those published on this node only (what a keeper writes to
        storage every node shares is written once); with ``kinds``, with facts of those
        classes only (a message said is not a call to every keeper that ignores it)."""
        ...

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop calling ``subscriber``."""
        ...

    def publish(self, event: Fact) -> None:
        """Hand an event to every subscriber; must not block."""
        ...

    @property
    def applying_own(self) -> bool:
        """Whether the fact being handed to subscribers now was published on this node
        (True outside a delivery): what the store keeps while it is applied (a
        registered channel's new topic) is written once, by that node."""
        ...

    @property
    def settled(self) -> Callable[[], Awaitable[None] | None] | None:
        """None for a bus that applies each fact as it is published (one process). Else
        the wait until every fact published here so far has been applied here (None
        when it has): a door holds its client's next line until then
        (docs/design/cluster.md)."""
        ...


class Registry(Protocol):
    """Claims on names that one holder at a time may have, across every node.

    A claim is atomic: of two requests for one name, one gets it. Names are the
    folded forms the core uses (a nick's skeleton, a channel's folded name); holders
    are user ids (nicks) or channel incarnations.
    """

    def claim(self, name: str, holder: str) -> bool:
        """Claim ``name`` for ``holder``; False when someone else holds it (holding it
        already is success)."""
        ...

    def holder(self, name: str) -> str | None:
        """Who holds ``name`` now, if anyone."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Give up ``name`` if ``holder`` holds it (releasing twice is harmless)."""
        ...


class HistorySink(Protocol):
    """Where message history is kept (see :func:`hubbub.core.keepers.history_keeper`)."""

    def record(self, event: MessagePosted, conversation: str) -> None:
        """Take a message; must not block (see :mod:`hubbub.storage.history`)."""
        ...

    def record_topic(self, event: TopicChanged, conversation: str) -> None:
        """Take a topic change (kept as a ``TOPIC`` line, for draft/event-playback);
        must not block."""
        ...

    def forget(self, msgid: str) -> None:
        """Remove a redacted message; must not block."""
        ...


class ChannelSink(Protocol):
    """Where the hub hands registered channels' state for keeping."""

    def save(self, record: RegisteredChannel) -> None:
        """Keep a channel's registration (replacing the previous one); must not block."""
        ...

    def delete(self, key: str) -> None:
        """Forget a channel's registration; must not block."""
        ...


class MarkerSink(Protocol):
    """Where accounts' read markers are kept (see
    :func:`hubbub.core.keepers.marker_keeper`)."""

    def save(self, account: str, target: str, time: float) -> None:
        """Keep an account's marker of a (folded) target; must not block."""
        ...

    def forget(self, account: str, target: str) -> None:
        """Forget one of an account's markers; must not block."""
        ...

    def forget_account(self, account: str) -> None:
        """Drop what is still to be saved for an account being deleted; must not block."""
        ...

    def unsaved(self, account: str) -> list[tuple[str, float | None]]:
        """An account's markers handed over but not saved yet (None: to be forgotten)."""
        ...


class MetadataSink(Protocol):
    """Where accounts' metadata keys are kept (see
    :func:`hubbub.core.keepers.metadata_keeper`)."""

    def save(self, account: str, key: str, value: str | None) -> None:
        """Keep (or, with None, forget) one of an account's keys; must not block."""
        ...

    def forget_account(self, account: str) -> None:
        """Drop what is still to be saved for an account being deleted; must not block."""
        ...

    async def kept(self, account: str) -> list[tuple[str, str]]:
        """An account's keys, as kept and as handed over since (empty if the store
        cannot be read now)."""
        ...


class PresenceSink(Protocol):
    """Where always-on users, accounts' choices of multiclient and always-on, and each
    device's read position are kept (see :mod:`hubbub.core.presence`)."""

    def save(self, account: str, record: PresenceRecord | None) -> None:
        """Keep (or, with None, forget) an account's always-on user; must not block."""
        ...

    def choose(self, account: str, choices: AccountChoices) -> None:
        """Keep what an account chose; must not block."""
        ...

    def seen(self, account: str, device: str, time: float) -> None:
        """A device of an account saw everything up to ``time``; must not block."""
        ...

    def forget_account(self, account: str) -> None:
        """Drop what is still to be saved for an account being deleted; must not block."""
        ...

    async def loaded(self, account: str) -> tuple[AccountChoices, dict[str, float]]:
        """What an account chose, and when each of its devices last saw its messages
        (defaults and nothing if the store cannot be read now)."""
        ...

    async def presences(self) -> list[tuple[str, PresenceRecord, str]]:
        """The always-on users kept, by account id, each with the node that keeps it
        (its stable name; '' on one server)."""
        ...
