"""Message history as the chat keeps and reads it: the values a store hands back, and
the reading port doors use (CHATHISTORY, the plain door's backlog).

Stores (``storage/``) implement :class:`HistoryReader` as part of their own port; a
read may raise :class:`~hubbub.core.ports.StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class StoredMessage(NamedTuple):
    """One message as history keeps it.

    A named tuple rather than a frozen dataclass: reads make one per message read, and a
    frozen dataclass takes four times as long to build (2.9 against 0.7 µs measured
    here). Messages on their way to a store are plain tuples (:data:`NewMessage`).

    Attributes:
        conversation: the folded channel name; a private message is kept twice, once for
            each side, as ``"<owner> <other party's folded nick>"`` where the owner is
            an account (``a:name``) or, for a user not logged in, that one session, so
            that whoever takes a nick later cannot read its conversations.
        target: the target as the sender wrote it (channel name or recipient nick).
        sender: the sender's ``nick!user@host``.
        kind: ``PRIVMSG`` or ``NOTICE``.
        tags: the sender's client-only tags.
        lines: the lines of a multi-line message, else empty.
    """

    msgid: str
    time: float
    conversation: str
    target: str
    sender: str
    kind: str
    text: str
    tags: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()
    # The order of storing, which breaks ties between equal times; not part of a
    # message's identity (a message read back equals the one written).
    seq: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredMessage):
            return NotImplemented
        return self[:_IDENTITY] == other[:_IDENTITY]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self[:_IDENTITY])


_IDENTITY = 9  # the fields before seq

# A message on its way to a store: StoredMessage's fields in order, as a plain tuple (a
# StoredMessage is one; seq is the store's to assign, and ignored). The history writer
# makes one for every message said, on the fan-out's thread, where a named tuple took
# 0.8 µs to build and a plain one takes 0.1.
NewMessage = tuple[
    str, float, str, str, str, str, str, tuple[tuple[str, str], ...], tuple[str, ...], int
]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation with activity, for CHATHISTORY TARGETS, named by its latest
    message's target and sender."""

    conversation: str
    target: str
    sender: str
    time: float


class HistoryReader(Protocol):
    """How history is read. Every method may raise
    :class:`~hubbub.core.ports.StoreUnavailable`."""

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        """The latest ``limit`` messages before a point, oldest first.

        Times compare to the millisecond (as server-time shows them). The point is
        ``time`` itself, or with ``seq`` the message stored with that sequence number
        (messages of the same millisecond are ordered by ``seq``).
        """
        ...

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        """The first ``limit`` messages after a point (see :meth:`before`), oldest first."""
        ...

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        """A message of a conversation by its id."""
        ...

    async def conversations(
        self, keys: Sequence[str], owner: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        """Conversations whose latest message lies between two times, with that time,
        oldest first: of the given ``keys``, and the private conversations kept for
        ``owner`` (keys ``"<owner> <other party>"``)."""
        ...
