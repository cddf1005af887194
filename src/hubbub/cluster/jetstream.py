"""The bus between nodes: one JetStream stream is the order of the network's facts.

Theory of operation
-------------------
``publish`` applies nothing. It encodes the fact and queues it; one task sends the queue
to the stream, in order, as batches: whatever waits when the last batch is acknowledged
(up to :data:`_BATCH_FACTS` facts and :data:`_BATCH_BYTES`) goes in one stream message,
the facts' encodings one per line (JSON written compactly holds no newline). One round
trip per fact held a node to ~1,700 facts a second, so one client's JOIN/PART flood
delayed everyone on its node by seconds (probe 14); a batch costs one round trip for all
it holds. Each batch has a message id (node, incarnation, the number of its last fact)
that the stream's duplicate window uses to keep one copy of a batch sent again after a
lost acknowledgement; a batch sent again is the same batch.

Every node, the publisher included, reads the stream with an ordered consumer and hands
each fact to its subscribers (the hub's ``apply`` first, then the keepers) in the
stream's order: two nodes that decide at once are put in one order by the stream, and
every replica goes through the same states. :meth:`settled` is how a door waits for its
own facts to come back (see docs/design/cluster.md).

No fact is dropped. While NATS is away, facts wait in the queue and the consumer resumes
where it was when the connection comes back. The queue is bounded by the doors, not
here: each holds its client's next line until the node's facts so far are applied
(:meth:`settled`), so a connection has at most one line's facts and its quit waiting.
Past ``buffer`` waiting facts, the backlog is logged (and again each time it doubles).

A node need not read the whole log. Every ``every`` stream messages each node captures
its state (consistent: between two stream messages) and keeps it in the snapshot store
(:mod:`hubbub.cluster.snapshots`), then purges the log below the snapshot before last;
a node starts from the newest snapshot and the log after it. A running node that finds
the log purged past what it has applied (cut off from NATS for that long) cannot catch
up: it says so and stops (``lost_track``), to be started again from a snapshot.

``hubbub serve --cluster`` uses it in place of :class:`~hubbub.cluster.local.LocalBus`
(issue 16; docs/design/cluster.md says what is built and what is left).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError

from hubbub.cluster.codec import MAX_BYTES, CodecError, decode, encode
from hubbub.cluster.snapshots import Snapshot, SnapshotStore
from hubbub.core.events import Fact
from hubbub.core.ports import Kinds, Subscriber

logger = logging.getLogger(__name__)

STREAM = "HUBBUB_STATE"
SUBJECT = "hubbub.state"
_ORIGIN = "Hubbub-Origin"  # header: node.incarnation.number of a fact
_MSG_ID = "Nats-Msg-Id"
# A publish not acknowledged in this long is sent again (the message id keeps it once).
_PUBLISH_TIMEOUT = 2.0
_BATCH_FACTS = 1024
# Below NATS's default max_payload (1 MiB), and above one fact's largest (codec.MAX_BYTES).
_BATCH_BYTES = 512 * 1024
_RETRY_AFTER = 0.25
_HEARTBEAT = 0.5


class LogGap(Exception):
    """The log was purged below what this node has, and no snapshot bridges the gap."""


@dataclass(frozen=True, slots=True)
class Snapshots:
    """How a bus snapshots the state it applies to: ``capture`` it as plain data,
    ``restore`` an empty one from such data (raising on data it cannot read), every
    ``every`` stream messages."""

    capture: Callable[[], dict[str, Any]]
    restore: Callable[[dict[str, Any]], None]
    every: int = 10_000


class NatsBus:
    """A :class:`~hubbub.core.ports.Bus` whose order is a JetStream stream's.

    Args:
        node: this node's name, unique in the network.
        buffer: past this many facts waiting to be sent, the backlog is logged.
    """

    def __init__(self, node: str, buffer: int = 10_000) -> None:
        self._stream: JetStreamContext | None = None
        self.node = node
        # Facts of an earlier run of this node may still be in the stream: its own
        # facts are known by this run's incarnation.
        self._origin = f"{node}.{secrets.token_hex(4)}"
        self._buffer = buffer
        # Each with whether it takes only this node's own facts (keepers: what the
        # network keeps is written once, by the node it happened on).
        self._subscribers: tuple[tuple[Subscriber, bool, Kinds | None], ...] = ()
        self._outgoing: collections.deque[bytes] = collections.deque()
        self._sent = 0  # the number of the last fact the stream acknowledged
        # Since when publishing fails (monotonic seconds), or None: a node that cannot
        # publish is not ready, whatever its connection says.
        self.failing_since: float | None = None
        self._backlog_logged = 0
        self._wake = asyncio.Event()
        self._published = 0  # facts handed to publish
        self._applied = 0  # of those, applied here (their number, as they come in order)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._consumer: JetStreamContext.PushSubscription | None = None
        self.received = 0  # stream messages (batches) read
        self.position = 0  # the stream sequence applied up to
        self.applying_own = True
        # The stream's last sequence at start, and whether it has been applied here.
        self._catch_up_to = 0
        self._caught_up = asyncio.Event()
        self.settled = self._settled
        self._snapshots: Snapshots | None = None
        self._snapshot_store: SnapshotStore | None = None
        self._saving: asyncio.Task[None] | None = None
        # Called once if the log was purged past what this node applied.
        self.lost_track: Callable[[], None] | None = None
        self._lost = False
        self.started_at = 0  # the snapshot's sequence this node started from (0: none)

    async def start(self, client: Client, snapshots: Snapshots | None = None) -> None:
        """Make the stream if it is missing, start from the newest snapshot (if any) and
        follow the stream from there; return once every fact that was in it has been
        applied here (a node serves no user from a replica behind the log).

        Args:
            client: a connected NATS client (reconnecting on its own).
            snapshots: how to snapshot the state (None: never; the log is read whole).

        Raises:
            LogGap: the log begins after every snapshot there is (or a snapshot did not
                restore).
        """
        self._stream = stream = client.jetstream()
        try:
            info = await stream.stream_info(STREAM)
        except JetStreamError:
            info = await stream.add_stream(StreamConfig(name=STREAM, subjects=[SUBJECT]))
        first, last = info.state.first_seq, info.state.last_seq
        self._snapshots = snapshots
        if snapshots is not None:
            self._snapshot_store = SnapshotStore(stream, self.node)
            await self._snapshot_store.open()
            await self._restore(first, last)
        if last and first > self.position + 1:
            raise LogGap(
                f"the log begins at {first} and no snapshot reaches it: the facts before "
                "are gone (start with the snapshots of the nodes that purged it)"
            )
        self._catch_up_to = last
        if self._catch_up_to <= self.position:
            self._caught_up.set()
        config = None
        if self.position:
            config = ConsumerConfig(opt_start_seq=self.position + 1)
        self._consumer = await stream.subscribe(
            SUBJECT,
            cb=self._received,
            ordered_consumer=True,
            config=config,
            deliver_policy=(
                DeliverPolicy.BY_START_SEQUENCE if self.position else DeliverPolicy.ALL
            ),
            # Missed heartbeats are how the ordered consumer learns that the server lost
            # it (a restart): it then makes a new one from the next sequence.
            idle_heartbeat=_HEARTBEAT,
            flow_control=True,
        )
        self._sender = asyncio.create_task(self._send(), name=f"bus sender {self.node}")
        if not self._caught_up.is_set():
            logger.info("cluster: reading the log's %d facts", self._catch_up_to)
            await self._caught_up.wait()

    async def _restore(self, first: int, last: int) -> None:
        """Fill the state from the newest snapshot there is, when one is needed (the log
        was purged) or saves reading."""
        assert self._snapshots is not None
        assert self._snapshot_store is not None
        snapshot = await self._snapshot_store.newest(below=last)
        if snapshot is None or snapshot.sequence < first - 1:
            return  # none, or older than the log's start: no use (LogGap if needed)
        try:
            self._snapshots.restore(snapshot.data)
        except Exception as error:
            at = snapshot.sequence
            raise LogGap(f"the snapshot at {at} does not restore: {error}") from None
        self.position = self.started_at = snapshot.sequence
        logger.info("cluster: started from the snapshot at %d", snapshot.sequence)

    async def close(self) -> None:
        """Stop sending and reading (what is still queued is not sent)."""
        if self._saving is not None:
            await asyncio.gather(self._saving, return_exceptions=True)
            self._saving = None
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        if self._consumer is not None:
            with contextlib.suppress(NatsError):
                await self._consumer.unsubscribe()
            self._consumer = None
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()

    # -- the Bus port ------------------------------------------------------------------

    def subscribe(
        self, subscriber: Subscriber, own_only: bool = False, kinds: Kinds | None = None
    ) -> None:
        self._subscribers = (*self._subscribers, (subscriber, own_only, kinds))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s[0] != subscriber)

    def publish(self, event: Fact) -> None:
        data = encode(event, self.node)
        if len(data) > MAX_BYTES:
            # No node would read it (decode refuses it), and a stream message past
            # NATS's payload bound would be retried for ever, holding every fact after
            # it (probe 21). The rules bound what a fact holds; this is the last guard.
            logger.error(
                "cluster bus: a %s of %d bytes is over %d: not published",
                type(event).__name__,
                len(data),
                MAX_BYTES,
            )
            return
        self._published += 1
        outgoing = self._outgoing
        outgoing.append(data)
        if len(outgoing) > max(self._buffer, 2 * self._backlog_logged):
            self._backlog_logged = len(outgoing)
            logger.warning("cluster bus: %d facts wait for NATS", len(outgoing))
        self._wake.set()

    @property
    def waiting(self) -> int:
        """Facts published here and not yet acknowledged by the stream."""
        return self._published - self._sent

    def _settled(self) -> Awaitable[None] | None:
        """None when every fact published here so far has been applied here; else the
        wait until it has."""
        if self._applied >= self._published:
            return None
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((self._published, waiter))
        return waiter

    # -- sending -----------------------------------------------------------------------

    async def _send(self) -> None:
        outgoing = self._outgoing
        stream = self._stream
        assert stream is not None
        me = asyncio.current_task()
        while True:
            if me is not None and me.cancelling():
                # A cancel the client library swallowed as it published: close waits.
                raise asyncio.CancelledError
            await self._wake.wait()
            self._wake.clear()
            while outgoing:
                batch = self._take_batch()
                last = self._sent + len(batch)
                origin = f"{self._origin}.{last}"
                data = b"\n".join(batch)
                while True:
                    try:
                        await stream.publish(
                            SUBJECT,
                            data,
                            timeout=_PUBLISH_TIMEOUT,
                            headers={_MSG_ID: origin, _ORIGIN: origin},
                        )
                        break
                    except (NatsError, JetStreamError, TimeoutError) as error:
                        if me is not None and me.cancelling():
                            # Closing: a cancel that met the publish's own timeout came
                            # out as TimeoutError (asyncio.wait_for, Python 3.11), and
                            # caught here the sender went on, and close waited on it
                            # for ever (a node that would not stop, 1 run in 10).
                            raise asyncio.CancelledError from error
                        logger.warning("cluster bus: publish failed (%s); trying again", error)
                        if await self._log_gone():
                            return
                        if self.failing_since is None:
                            self.failing_since = time.monotonic()
                        await asyncio.sleep(_RETRY_AFTER)
                self.failing_since = None
                self._sent = last
                if self._backlog_logged and len(outgoing) < self._buffer // 2:
                    logger.warning("cluster bus: the backlog is sent")
                    self._backlog_logged = 0

    async def _log_gone(self) -> bool:
        """Whether NATS lost the log itself (restarted without its store: the stream is
        gone). A replica cannot follow a new log from its start, which knows none of
        what this node applied: the node says so and asks to be stopped, as when the log
        was purged past it (probe 34: every node retried for ever, answering nobody)."""
        assert self._stream is not None
        try:
            await self._stream.stream_info(STREAM)
        except NotFoundError:
            self._lost = True
            logger.critical(
                "cluster: NATS has lost the log (no stream %s): stopping; start the nodes "
                "again (the database keeps accounts, channels, history and always-on users)",
                STREAM,
            )
            if self.lost_track is not None:
                self.lost_track()
            return True
        except (NatsError, JetStreamError, TimeoutError):
            pass  # NATS away, or busy: the publish is tried again
        return False

    def _take_batch(self) -> list[bytes]:
        """The next facts to send as one stream message (at least one)."""
        outgoing = self._outgoing
        batch = [outgoing.popleft()]
        size = len(batch[0])
        while outgoing and len(batch) < _BATCH_FACTS:
            if size + 1 + len(outgoing[0]) > _BATCH_BYTES:
                break
            data = outgoing.popleft()
            batch.append(data)
            size += 1 + len(data)
        return batch

    # -- receiving ---------------------------------------------------------------------

    async def _received(self, message: Msg) -> None:
        sequence = message.metadata.sequence.stream
        if self._lost or self._gap(sequence):
            return
        self.received += 1
        origin = (message.headers or {}).get(_ORIGIN, "")
        prefix, _, number = origin.rpartition(".")
        own = prefix == self._origin and number.isascii() and number.isdigit()
        self.applying_own = own
        unreadable: list[CodecError] = []
        try:
            for line in message.data.split(b"\n"):
                self._apply(line, own, unreadable)
        finally:
            self.applying_own = True
        if unreadable:
            # One node's bad fact must not stop every node: skipped, and said (once
            # per stream message, however many lines it holds).
            logger.error(
                "cluster bus: skipped %d unreadable facts: %s", len(unreadable), unreadable[0]
            )
        if own:
            self._applied = int(number)
            self._progress()
        self.position = sequence
        if not self._caught_up.is_set() and sequence >= self._catch_up_to:
            self._caught_up.set()
        snapshots = self._snapshots
        # Not while reading the log at start: the running nodes wrote those.
        if snapshots is not None and sequence % snapshots.every == 0 and self._caught_up.is_set():
            self._snapshot(sequence, snapshots)

    def _gap(self, sequence: int) -> bool:
        """Whether the log skips from what was applied here to ``sequence``: purged
        while this node was cut off. Its replica can no longer follow (facts it never
        applied are gone), so it stops applying, says so, and asks to be stopped."""
        if sequence <= self.position + 1 or not self.position:
            return False
        self._lost = True
        logger.critical(
            "cluster: the log was purged past this node (applied %d, next is %d): stopping;"
            " start it again to load a snapshot",
            self.position,
            sequence,
        )
        if self.lost_track is not None:
            self.lost_track()
        return True

    def _snapshot(self, sequence: int, snapshots: Snapshots) -> None:
        """Capture the state as it is now (between two stream messages) and keep it;
        then purge the log below the snapshot before this one, which a node still
        starting from it may need."""
        if self._saving is not None and not self._saving.done():
            return  # the last one is still on its way: skip this one
        snapshot = Snapshot(sequence, snapshots.capture())
        self._saving = asyncio.create_task(
            self._save(snapshot, sequence - snapshots.every + 1), name="cluster snapshot"
        )

    async def _save(self, snapshot: Snapshot, purge_below: int) -> None:
        assert self._snapshot_store is not None
        assert self._stream is not None
        try:
            await self._snapshot_store.save(snapshot)
            if purge_below > 1:
                await self._stream.purge_stream(STREAM, seq=purge_below)
        except (NatsError, JetStreamError, TimeoutError) as error:
            logger.warning("cluster: snapshot at %d not kept: %s", snapshot.sequence, error)
            return
        logger.info("cluster: snapshot at %d kept", snapshot.sequence)

    def _apply(self, data: bytes, own: bool, unreadable: list[CodecError]) -> None:
        try:
            fact, _node = decode(data)
        except CodecError as error:
            unreadable.append(error)
            return
        kind = type(fact)
        for subscriber, own_only, kinds in self._subscribers:
            if (own_only and not own) or (kinds is not None and kind not in kinds):
                continue
            try:
                subscriber(fact)
            except Exception:
                logger.exception("cluster bus: applying %s failed", type(fact).__name__)

    def _progress(self) -> None:
        if not self._waiters:
            return
        waiting = []
        for target, waiter in self._waiters:
            if target <= self._applied:
                if not waiter.done():
                    waiter.set_result(None)
            elif not waiter.done():
                waiting.append((target, waiter))
        self._waiters = waiting
