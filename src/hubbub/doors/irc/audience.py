"""Channel messages handed to many IRC sessions at once: the fan-out's hot path.

Sessions that render a channel message the same way (one capability variant, one
framing: raw lines over TCP, or WebSocket frames) share an :class:`IrcAudience`; a
channel groups its members by it (:attr:`~hubbub.core.model.Channel.audiences`). A
message is then rendered once per audience present, and each member's share is one
append of those bytes to its connection's :class:`~hubbub.doors.ports.Outbox`, written
with the rest of the loop pass's output by the batcher. What a session does in
:meth:`~hubbub.doors.irc.session.IrcSession.deliver` for a message, an audience does for
all its members: a TAGMSG only to those that negotiated message-tags, nothing to the
sender (its echo is its own command's reply). An outbox past its SendQ is the
connection's to deal with (:meth:`~hubbub.doors.driver.Connection.overflow`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hubbub.core.events import MessageKind, MessagePosted
from hubbub.doors.irc.caps import Variant
from hubbub.doors.irc.render import RenderCache
from hubbub.doors.ports import Batcher, Outbox

Frames = Callable[[bytes], bytes]


class IrcAudience:
    """The sessions of one capability variant and framing.

    Args:
        variant: what the members negotiated, as far as it changes a message's line.
        frames: how their connections frame output (WebSocket), or None for raw lines.
        cache: the door's rendering of the current event, one line per variant.
        batcher: the server's output batcher, which writes the outboxes.
    """

    __slots__ = ("_batcher", "_cache", "_frames", "_tags", "variant")

    def __init__(
        self, variant: int, frames: Frames | None, cache: RenderCache, batcher: Batcher
    ) -> None:
        self.variant = variant
        self._frames = frames
        self._cache = cache
        self._batcher = batcher
        self._tags = bool(variant & Variant.MESSAGE_TAGS)

    def post(self, event: MessagePosted, outboxes: Iterable[Outbox], skip: object) -> None:
        if event.kind is MessageKind.TAGMSG and not self._tags:
            return
        data = self._cache.line(event, self.variant)
        if self._frames is not None:
            data = self._frames(data)
        batcher = self._batcher
        dirty = batcher.dirty
        length = len(data)
        for outbox in outboxes:
            if outbox is skip:
                continue
            if not outbox:
                dirty.append(outbox.owner)
            outbox.append(data)
            size = outbox.size = outbox.size + length
            if size > outbox.limit:
                outbox.owner.overflow()
        if not batcher.scheduled:
            batcher.schedule()


class Audiences:
    """The audiences of one server's IRC sessions, made as variants and framings occur.

    Args:
        cache: the door's rendering cache.
    """

    __slots__ = ("_by_kind", "_cache", "batcher")

    def __init__(self, cache: RenderCache) -> None:
        self._cache = cache
        self._by_kind: dict[tuple[int, Frames | None], IrcAudience] = {}
        # Set by the server once its batcher exists; without one (sessions with no
        # sockets, in tests) every session is reached through its deliver.
        self.batcher: Batcher | None = None

    def of(self, variant: int, frames: Frames | None) -> IrcAudience | None:
        batcher = self.batcher
        if batcher is None:
            return None
        kind = (variant, frames)
        audience = self._by_kind.get(kind)
        if audience is None:
            audience = self._by_kind[kind] = IrcAudience(variant, frames, self._cache, batcher)
        return audience
