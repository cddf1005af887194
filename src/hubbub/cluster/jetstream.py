"""The bus between nodes: one JetStream stream is the order of the network's facts.

Theory of operation
-------------------
``publish`` applies nothing. It encodes the fact and queues it; one task sends the queue
to the stream, in order, each fact with a message id (node, incarnation, number) that
the stream's duplicate window uses to keep one copy of a fact sent again after a lost
acknowledgement. Every node, the publisher included, reads the stream with an ordered
consumer and hands each fact to its subscribers (the hub's ``apply`` first, then the
keepers) in the stream's order: two nodes that decide at once are put in one order by
the stream, and every replica goes through the same states. :meth:`settled` is how a
door waits for its own facts to come back (see docs/design/cluster.md).

While NATS is away, facts wait in the queue (at most ``buffer`` of them; past that a
fact is dropped, counted and logged) and the consumer resumes where it was when the
connection comes back.

``hubbub serve --cluster`` uses it in place of :class:`~hubbub.cluster.local.LocalBus`
(issue 16; docs/design/cluster.md says what is built and what is left).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
from collections.abc import Awaitable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import DeliverPolicy, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import Error as JetStreamError

from hubbub.cluster.codec import CodecError, decode, encode
from hubbub.core.events import Fact
from hubbub.core.ports import Subscriber

logger = logging.getLogger(__name__)

STREAM = "HUBBUB_STATE"
SUBJECT = "hubbub.state"
_ORIGIN = "Hubbub-Origin"  # header: node.incarnation.number of a fact
_MSG_ID = "Nats-Msg-Id"
# A publish not acknowledged in this long is sent again (the message id keeps it once).
_PUBLISH_TIMEOUT = 2.0
_RETRY_AFTER = 0.25
_HEARTBEAT = 0.5


class NatsBus:
    """A :class:`~hubbub.core.ports.Bus` whose order is a JetStream stream's.

    Args:
        node: this node's name, unique in the network.
        buffer: facts kept while NATS cannot take them; past this, dropped and counted.
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
        self._subscribers: tuple[tuple[Subscriber, bool], ...] = ()
        self._outgoing: collections.deque[tuple[int, bytes]] = collections.deque()
        self._wake = asyncio.Event()
        self._published = 0  # facts handed to publish
        self._applied = 0  # of those, applied here (their number, as they come in order)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._consumer: JetStreamContext.PushSubscription | None = None
        self.dropped = 0
        self.received = 0
        self.applying_own = True
        # The stream's last sequence at start, and whether it has been applied here.
        self._catch_up_to = 0
        self._caught_up = asyncio.Event()
        self.settled = self._settled

    async def start(self, client: Client) -> None:
        """Make the stream if it is missing, then follow it from its start; return once
        every fact that was in it has been applied here (a node serves no user from a
        replica behind the log).

        Args:
            client: a connected NATS client (reconnecting on its own).
        """
        self._stream = stream = client.jetstream()
        try:
            info = await stream.stream_info(STREAM)
        except JetStreamError:
            info = await stream.add_stream(StreamConfig(name=STREAM, subjects=[SUBJECT]))
        self._catch_up_to = info.state.last_seq
        if self._catch_up_to == 0:
            self._caught_up.set()
        self._consumer = await stream.subscribe(
            SUBJECT,
            cb=self._received,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
            # Missed heartbeats are how the ordered consumer learns that the server lost
            # it (a restart): it then makes a new one from the next sequence.
            idle_heartbeat=_HEARTBEAT,
            flow_control=True,
        )
        self._sender = asyncio.create_task(self._send(), name=f"bus sender {self.node}")
        if not self._caught_up.is_set():
            logger.info("cluster: reading the log's %d facts", self._catch_up_to)
            await self._caught_up.wait()

    async def close(self) -> None:
        """Stop sending and reading (what is still queued is not sent)."""
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

    def subscribe(self, subscriber: Subscriber, own_only: bool = False) -> None:
        self._subscribers = (*self._subscribers, (subscriber, own_only))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s[0] != subscriber)

    def publish(self, event: Fact) -> None:
        if len(self._outgoing) >= self._buffer:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 10_000 == 0:
                logger.error("cluster bus: NATS is not taking facts; %d dropped", self.dropped)
            return
        self._published += 1
        self._outgoing.append((self._published, encode(event, self.node)))
        self._wake.set()

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
        while True:
            await self._wake.wait()
            self._wake.clear()
            while outgoing:
                number, data = outgoing[0]
                origin = f"{self._origin}.{number}"
                try:
                    await stream.publish(
                        SUBJECT,
                        data,
                        timeout=_PUBLISH_TIMEOUT,
                        headers={_MSG_ID: origin, _ORIGIN: origin},
                    )
                except (NatsError, JetStreamError, TimeoutError) as error:
                    logger.warning("cluster bus: publish failed (%s); trying again", error)
                    await asyncio.sleep(_RETRY_AFTER)
                    continue
                outgoing.popleft()

    # -- receiving ---------------------------------------------------------------------

    async def _received(self, message: Msg) -> None:
        self.received += 1
        try:
            fact, _node = decode(message.data)
        except CodecError as error:
            # One node's bad fact must not stop every node: skipped, and said.
            logger.error("cluster bus: skipped an unreadable fact: %s", error)
            fact = None
        origin = (message.headers or {}).get(_ORIGIN, "")
        prefix, _, number = origin.rpartition(".")
        own = prefix == self._origin and number.isdigit()
        if fact is not None:
            self.applying_own = own
            try:
                for subscriber, own_only in self._subscribers:
                    if own_only and not own:
                        continue
                    try:
                        subscriber(fact)
                    except Exception:
                        logger.exception("cluster bus: applying %s failed", type(fact).__name__)
            finally:
                self.applying_own = True
        if own:
            self._applied = int(number)
            self._progress()
        if not self._caught_up.is_set() and message.metadata.sequence.stream >= self._catch_up_to:
            self._caught_up.set()

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
