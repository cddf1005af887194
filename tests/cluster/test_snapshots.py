"""Snapshots on a real nats-server: nodes keep the state every few log messages and purge
the log below the snapshot before last; a node started later begins from the newest
snapshot and ends in the same state as the nodes that read the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client

from hubbub.cluster.jetstream import STREAM, LogGap, NatsBus, Snapshots
from hubbub.cluster.local import LocalRegistry
from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.core.modes import ModeChange
from hubbub.core.snapshot import capture, restore
from hubbub.wire.casemap import Casemap, Casemapping
from tests.core.world import Recorder
from tests.nats_server import NatsServer

WAIT = 10.0
EVERY = 10


class Node:
    """A hub on its own bus, snapshotting every :data:`EVERY` log messages."""

    def __init__(self, client: Client, name: str, snapshots: bool) -> None:
        self.bus = NatsBus(name)
        self.hub = Hub(Casemap(Casemapping.PRECIS), bus=self.bus, registry=LocalRegistry())
        self.client = client
        # Set after each fact is applied here (subscribed after the hub's apply).
        self.applied = asyncio.Event()
        self.bus.subscribe(lambda _: self.applied.set())
        self.snapshots = None
        if snapshots:
            state = self.hub.state
            self.snapshots = Snapshots(
                lambda: capture(state), lambda data: restore(state, data), EVERY
            )

    async def settled(self) -> None:
        waiting = self.bus.settled()
        if waiting is not None:
            async with asyncio.timeout(WAIT):
                await waiting

    async def arrive(self, nick: str) -> User:
        recorder = Recorder()
        assert self.hub.register(nick, nick.lower(), "host", f"Real {nick}", recorder) is None
        await self.settled()
        assert recorder.user is not None
        return recorder.user


class Network:
    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.nodes: list[Node] = []

    async def node(self, name: str, snapshots: bool = True) -> Node:
        client = await nats.connect(self.server.url)
        node = Node(client, name, snapshots)
        self.nodes.append(node)
        await node.bus.start(client, node.snapshots)
        return node

    async def close(self) -> None:
        for node in self.nodes:
            await node.bus.close()
            await node.client.close()


@pytest.fixture
async def network(nats_server: NatsServer) -> AsyncIterator[Network]:
    made = Network(nats_server)
    try:
        yield made
    finally:
        await made.close()


async def log_begins_after(node: Node, sequence: int) -> int:
    """Until the log was purged past ``sequence``: its first sequence."""
    stream = node.client.jetstream()
    async with asyncio.timeout(WAIT):
        while True:
            info = await stream.stream_info(STREAM)
            if info.state.first_seq > sequence:
                return info.state.first_seq
            await asyncio.sleep(0.05)  # polling the server's count, bounded by WAIT


async def caught_up(*nodes: Node) -> None:
    """Until every node has applied the log as far as the first."""
    async with asyncio.timeout(WAIT):
        while len({node.bus.position for node in nodes}) > 1:
            behind = min(nodes, key=lambda node: node.bus.position)
            behind.applied.clear()
            await behind.applied.wait()


def same_state(node: Node) -> dict[str, object]:
    """The node's state as a snapshot holds it, but when each WHOWAS entry was made:
    each node notes the time it applied a nick's departure."""
    data = capture(node.hub.state)
    data["whowas"] = [entry[:-1] for entry in data["whowas"]]
    return data


async def busy_network(a: Node) -> None:
    """Enough facts for several snapshots: users, channels with modes and topics,
    messages, nick changes and departures."""
    users = [await a.arrive(f"user{k}") for k in range(12)]
    for k, user in enumerate(users):
        a.hub.join(user, f"#room{k % 3}")
        await a.settled()
    room = a.hub.find_channel("#room0")
    assert room is not None
    a.hub.change_channel_modes(
        users[0], room, [ModeChange(True, "k", "key"), ModeChange(True, "b", "*!*@bad")]
    )
    a.hub.set_topic(users[1], "#room1", "a topic")
    a.hub.say(users[2], "#room2", "hello")
    a.hub.change_nick(users[3], "renamed")
    a.hub.quit(users[4], "gone")
    a.hub.set_away(users[5], "away")
    await a.settled()


async def test_a_node_started_late_begins_at_the_newest_snapshot(network: Network) -> None:
    a = await network.node("a")
    await busy_network(a)
    first = await log_begins_after(a, 1)
    assert first > 1, "the log was purged below a snapshot"
    b = await network.node("b")
    assert b.bus.started_at >= first - 1
    assert b.bus.started_at % EVERY == 0
    # Both go on together: b follows from where its snapshot ended.
    newcomer = await b.arrive("newcomer")
    b.hub.join(newcomer, "#room0", "key")
    await b.settled()
    await caught_up(a, b)
    assert same_state(b) == same_state(a)
    found = a.hub.find_channel("#room0")
    assert found is not None
    assert "newcomer" in {member.nick for member in found.members}


async def test_a_node_without_snapshots_cannot_start_on_a_purged_log(network: Network) -> None:
    a = await network.node("a")
    await busy_network(a)
    await log_begins_after(a, 1)
    client = await nats.connect(network.server.url)
    try:
        with pytest.raises(LogGap):
            await NatsBus("c").start(client)
    finally:
        await client.close()


class Cut:
    """A TCP relay to NATS that can be cut and opened again: one node's link alone."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.server: asyncio.Server | None = None
        self.port = 0
        self._pipes: list[asyncio.StreamWriter] = []
        self._relays: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._pipes:
            writer.transport.abort()
        self._pipes.clear()
        for task in self._relays:
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)
        self._relays.clear()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        self._pipes.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._pipes.append(up_writer)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
            sink.close()

        pumps = (pump(reader, up_writer), pump(up_reader, writer))
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            up_writer.transport.abort()
            writer.transport.abort()


async def test_a_node_cut_off_past_a_purge_stops_rather_than_miss_facts(
    network: Network, nats_server: NatsServer
) -> None:
    a = await network.node("a")
    relay = Cut(nats_server.port)
    await relay.open()
    client = await nats.connect(
        f"nats://127.0.0.1:{relay.port}", max_reconnect_attempts=-1, reconnect_time_wait=0.05
    )
    c = Node(client, "c", snapshots=True)
    network.nodes.append(c)
    lost = asyncio.Event()
    c.bus.lost_track = lost.set
    await c.bus.start(client, c.snapshots)
    first = await a.arrive("early")
    await caught_up(a, c)
    await relay.cut()
    # Meanwhile the others go on, snapshot and purge past what c has applied.
    await busy_network(a)
    await log_begins_after(a, c.bus.position + 1)
    await relay.open()  # the same port: c's client reconnects by itself
    async with asyncio.timeout(WAIT):
        await lost.wait()
    # Nothing past the gap was applied: c's replica is as it was, not half of the rest.
    assert c.hub.find_user(first.nick) is not None
    assert c.hub.find_user("user0") is None
    await relay.cut()
