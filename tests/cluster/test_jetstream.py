"""NatsBus against a real nats-server with JetStream: the stream is the one order of the
network's facts, on every node, the publisher's included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client

from hubbub.cluster.codec import MAX_BYTES
from hubbub.cluster.jetstream import STREAM, SUBJECT, NatsBus
from hubbub.core.events import Actor, Fact, Joined, Parted
from tests.nats_server import NatsServer

WAIT = 10.0


class Recorder:
    """A subscriber that keeps what it is handed and lets a test wait for a count."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self._changed = asyncio.Event()

    def __call__(self, fact: Fact) -> None:
        self.facts.append(fact)
        self._changed.set()

    async def wait_for(self, count: int) -> list[Fact]:
        async with asyncio.timeout(WAIT):
            while len(self.facts) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.facts


def actor(nick: str) -> Actor:
    return Actor(nick, "~" + nick, "127.0.0.1", nick.title(), id=f"1.{nick}")


def join(nick: str, k: int) -> Joined:
    return Joined(actor(nick), f"#room{k}", "", None, "")


def part(nick: str, k: int) -> Parted:
    return Parted(actor(nick), f"#room{k}", f"bye {k}")


class Nodes:
    """Buses on one NATS, each with a recorder, closed at the end."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.clients: list[Client] = []
        self.buses: list[NatsBus] = []

    async def node(self, name: str, buffer: int = 10_000) -> tuple[NatsBus, Recorder]:
        client = await nats.connect(
            self.server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.05
        )
        self.clients.append(client)
        bus = NatsBus(name, buffer)
        recorder = Recorder()
        bus.subscribe(recorder)
        await bus.start(client)
        self.buses.append(bus)
        return bus, recorder

    async def close(self) -> None:
        for bus in self.buses:
            await bus.close()
        for client in self.clients:
            await client.close()


@pytest.fixture
async def nodes(nats_server: NatsServer) -> AsyncIterator[Nodes]:
    made = Nodes(nats_server)
    try:
        yield made
    finally:
        await made.close()


async def settle(bus: NatsBus) -> None:
    waiting = bus.settled()
    if waiting is not None:
        async with asyncio.timeout(WAIT):
            await waiting


async def test_two_nodes_apply_every_fact_in_one_order(nodes: Nodes) -> None:
    a, seen_by_a = await nodes.node("a")
    b, seen_by_b = await nodes.node("b")
    # Both decide at once, interleaved on the loop: the stream puts them in one order.
    for k in range(50):
        a.publish(join("alice", k))
        b.publish(part("bob", k))
    await settle(a)
    await settle(b)
    on_a = await seen_by_a.wait_for(100)
    on_b = await seen_by_b.wait_for(100)
    assert on_a == on_b
    # Each node's own facts keep the order it published them in.
    assert [f for f in on_a if isinstance(f, Joined)] == [join("alice", k) for k in range(50)]
    assert [f for f in on_a if isinstance(f, Parted)] == [part("bob", k) for k in range(50)]
    # The actor's id (left out of equality) crossed too.
    assert {f.actor.id for f in on_b if isinstance(f, Joined | Parted)} == {"1.alice", "1.bob"}


async def test_a_keeper_subscribed_for_its_own_node_takes_only_that_nodes_facts(
    nodes: Nodes,
) -> None:
    # History is written once, by the node whose user said it: every node's keeper
    # writing every fact to the shared database would keep it once per node.
    a, _ = await nodes.node("a")
    b, seen_by_b = await nodes.node("b")
    kept_by_a = Recorder()
    a.subscribe(kept_by_a, own_only=True)
    a.publish(join("alice", 1))
    b.publish(join("bob", 2))
    a.publish(join("alice", 3))
    await settle(a)
    await settle(b)
    # Every fact reached b; by then a applied them too (one stream, one order).
    assert len(await seen_by_b.wait_for(3)) == 3
    assert await kept_by_a.wait_for(2) == [join("alice", 1), join("alice", 3)]
    a.unsubscribe(kept_by_a)
    a.publish(join("alice", 4))
    await settle(a)
    assert kept_by_a.facts == [join("alice", 1), join("alice", 3)]


async def test_publish_applies_nothing_until_the_fact_comes_back(nodes: Nodes) -> None:
    a, seen = await nodes.node("a")
    assert a.settled() is None
    a.publish(join("alice", 1))
    assert seen.facts == []
    waiting = a.settled()
    assert waiting is not None
    async with asyncio.timeout(WAIT):
        await waiting
    assert seen.facts == [join("alice", 1)]
    assert a.settled() is None


async def test_facts_published_while_nats_is_away_go_out_when_it_is_back(
    nodes: Nodes,
) -> None:
    a, seen_by_a = await nodes.node("a")
    _, seen_by_b = await nodes.node("b")
    a.publish(join("alice", 0))
    await settle(a)
    await seen_by_b.wait_for(1)
    nodes.server.halt()
    for k in range(1, 11):
        a.publish(join("alice", k))
    nodes.server.resume()
    await settle(a)
    expected = [join("alice", k) for k in range(11)]
    assert await seen_by_a.wait_for(11) == expected
    assert await seen_by_b.wait_for(11) == expected


async def test_past_its_buffer_a_node_drops_nothing_and_says_so(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    # A dropped fact would be a quit that never happened elsewhere: a ghost (probe 14).
    a, seen = await nodes.node("a", buffer=5)
    nodes.server.halt()
    for k in range(8):
        a.publish(join("alice", k))
    assert a.waiting == 8
    assert "cluster bus: 6 facts wait for NATS" in caplog.messages
    nodes.server.resume()
    await settle(a)
    assert await seen.wait_for(8) == [join("alice", k) for k in range(8)]


async def test_facts_published_together_travel_in_few_stream_messages(nodes: Nodes) -> None:
    # One round trip per fact held a node to ~1,700 facts a second (probe 14).
    a, seen_by_a = await nodes.node("a")
    b, seen_by_b = await nodes.node("b")
    facts = [join("alice", k) if k % 2 else part("alice", k) for k in range(5000)]
    for fact in facts:
        a.publish(fact)
    await settle(a)
    assert await seen_by_b.wait_for(5000) == facts
    assert seen_by_a.facts == facts
    assert b.received < 100


async def test_an_unreadable_fact_is_skipped_and_the_next_applied(
    nodes: Nodes, nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    a, seen = await nodes.node("a")
    hostile = await nats.connect(nats_server.url)
    try:
        stream = hostile.jetstream()
        for junk in (b"", b"{", b'{"v": 99}', b"\xff" * 70_000, b"[1]\n" * 50_000):
            await stream.publish(SUBJECT, junk)
    finally:
        await hostile.close()
    a.publish(part("alice", 1))
    await settle(a)
    assert await seen.wait_for(1) == [part("alice", 1)]
    assert a.received == 6
    skipped = [m for m in caplog.messages if m.startswith("cluster bus: skipped")]
    assert len(skipped) == 5
    assert skipped[-1].startswith("cluster bus: skipped 50001 unreadable facts")


async def test_a_node_that_starts_later_reads_the_same_order(nodes: Nodes) -> None:
    a, seen_by_a = await nodes.node("a")
    for k in range(20):
        a.publish(join("alice", k) if k % 2 else part("alice", k))
    await settle(a)
    _, seen_by_c = await nodes.node("c")
    assert await seen_by_c.wait_for(20) == await seen_by_a.wait_for(20)


async def test_a_fact_too_large_to_travel_is_refused_and_holds_nothing_up(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    # Probe 21: one fact past NATS's payload bound was retried for ever, and every
    # fact after it waited behind it: the node froze.
    a, seen = await nodes.node("a")
    _, seen_by_b = await nodes.node("b")
    a.publish(Parted(actor("alice"), "#room1", "x" * (MAX_BYTES + 1)))
    assert a.waiting == 0
    a.publish(part("alice", 2))
    await settle(a)
    assert await seen.wait_for(1) == [part("alice", 2)]
    assert await seen_by_b.wait_for(1) == [part("alice", 2)]
    assert a.failing_since is None
    assert any("over 262144: not published" in m for m in caplog.messages)


async def test_a_node_whose_log_nats_lost_stops_rather_than_retry_for_ever(
    nodes: Nodes, nats_server: NatsServer
) -> None:
    # Probe 34: NATS restarted without its store; every node retried its publishes for
    # ever, and its clients got no answer to anything.
    a, seen = await nodes.node("a")
    lost = asyncio.Event()
    a.lost_track = lost.set
    a.publish(join("alice", 1))
    await settle(a)
    admin = await nats.connect(nats_server.url)
    try:
        await admin.jetstream().delete_stream(STREAM)
    finally:
        await admin.close()
    a.publish(join("alice", 2))
    async with asyncio.timeout(WAIT):
        await lost.wait()
    assert await seen.wait_for(1) == [join("alice", 1)]
