"""Messages' times in the log's order.

Between nodes each line is timed by the node that decided it but ordered by the log
(docs/design/cluster.md), so a line may come after one that its node's clock put later
(or a clock may step back). As it is applied, a message timed before its conversation's
previous one is moved a microsecond past it: server-time shows
milliseconds, so nobody sees the move, and history, which orders by the whole time,
keeps the log's order. Every node applies the same log, and so moves the same messages
by the same amounts (a node started from a snapshot knows no earlier times: it may move
less, until its conversations' next lines).
"""

from __future__ import annotations

from hubbub.core.events import MessagePosted

# How far a message's time moves past the previous one of its conversation, in seconds.
_NEXT = 1e-6
# Conversations whose latest time is remembered (all of them are forgotten past this:
# one idle since then is past any clock's step by its next line).
_LATEST_KEPT = 100_000


class Stamps:
    """The latest time of each conversation, and the message moved last."""

    __slots__ = ("_latest", "restamped")

    def __init__(self) -> None:
        self._latest: dict[str, float] = {}
        # The history keeper, which sees the message as it was published, keeps this one
        # in its place (core/keepers.py).
        self.restamped: MessagePosted | None = None

    def stamped(self, event: MessagePosted, channel: str | None) -> MessagePosted:
        """``event``, or a copy with a later time; ``channel``: the key of the channel it
        was said in, None for a private message."""
        if channel is not None:
            key = channel
        else:
            sender, recipient = event.actor.id, event.to
            key = f"{sender} {recipient}" if sender < recipient else f"{recipient} {sender}"
        latest = self._latest
        previous = latest.get(key)
        # Strictly earlier only: lines of one time are one node's, in its own order.
        if previous is not None and event.time < previous:
            event = event._replace(time=previous + _NEXT)
            self.restamped = event
        elif len(latest) >= _LATEST_KEPT:
            latest.clear()
        latest[key] = event.time
        return event
