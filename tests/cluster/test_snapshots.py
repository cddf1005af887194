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
