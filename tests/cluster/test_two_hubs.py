"""Two hubs, each on its own NatsBus over one real nats-server: issue 16's first step
(docs/design/cluster.md). Each applies every fact in the stream's order, its own
included, so both hold the same users, channels and members."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from nats.aio.client import Client

from hubbub.cluster.jetstream import NatsBus
from hubbub.cluster.local import LocalRegistry
from hubbub.core.events import Event, Joined, MessagePosted, Parted
from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.wire.casemap import Casemap, Casemapping
from tests.core.world import Recorder
from tests.nats_server import NatsServer

WAIT = 10.0


class Node:
    """A hub on its own bus, as one `hubbub serve --cluster` would hold it."""

    def __init__(self, client: Client, name: str) -> None:
        self.bus = NatsBus(name)
        self.hub = Hub(Casemap(Casemapping.PRECIS), bus=self.bus, registry=LocalRegistry())
        self.client = client
        # Set after each fact is applied here (subscribed after the hub's apply).
        self.applied = asyncio.Event()
        self.bus.subscribe(lambda _: self.applied.set())

    async def settled(self) -> None:
        """Until every fact this node published is applied here."""
        waiting = self.bus.settled()
        if waiting is not None:
            async with asyncio.timeout(WAIT):
                await waiting

    async def arrive(self, nick: str) -> tuple[User, Recorder]:
        recorder = Recorder()
        assert self.hub.register(nick, nick.lower(), "host", f"Real {nick}", recorder) is None
        await self.settled()
        assert recorder.user is not None, "the session is told once the arrival comes back"
        return recorder.user, recorder

    def members(self, channel: str) -> set[str]:
        found = self.hub.find_channel(channel)
        return set() if found is None else {user.nick for user in found.members}


@pytest.fixture
async def nodes(nats_server: NatsServer) -> AsyncIterator[tuple[Node, Node]]:
    made = []
    for name in ("a", "b"):
        client = await nats.connect(nats_server.url)
        node = Node(client, name)
        await node.bus.start(node.client)
        made.append(node)
    try:
        yield made[0], made[1]
    finally:
        for node in made:
            await node.bus.close()
            await node.client.close()


async def heard(node: Node, recorder: Recorder, wanted: Callable[[Event], bool]) -> None:
    """Until a session of ``node`` has been handed an event that ``wanted`` accepts."""
    async with asyncio.timeout(WAIT):
        while not any(wanted(event) for event in recorder.events):
            node.applied.clear()
            await node.applied.wait()


def said(text: str) -> Callable[[Event], bool]:
    return lambda event: isinstance(event, MessagePosted) and event.text == text


async def test_two_hubs_agree_on_who_is_in_a_channel_and_hear_each_other(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    alice, alice_hears = await a.arrive("alice")
    bob, bob_hears = await b.arrive("bob")
    a.hub.join(alice, "#rust")
    await a.settled()
    b.hub.join(bob, "#rust")
    await b.settled()
    # alice, on node a, is told of bob's join, made on node b.
    await heard(a, alice_hears, lambda e: isinstance(e, Joined) and e.actor.nick == "bob")
    assert a.members("#rust") == b.members("#rust") == {"alice", "bob"}
    # The remote user is known, with no session here.
    remote = a.hub.find_user("bob")
    assert remote is not None
    assert remote.id == bob.id
    # What one says reaches the other, and the other's answer comes back.
    a.hub.say(alice, "#rust", "hello from a")
    await heard(b, bob_hears, said("hello from a"))
    b.hub.say(bob, "#rust", "hello from b")
    await heard(a, alice_hears, said("hello from b"))

    a.hub.part(alice, "#rust", "bye")
    await a.settled()
    await heard(b, bob_hears, lambda e: isinstance(e, Parted) and e.actor.nick == "alice")
    assert a.members("#rust") == b.members("#rust") == {"bob"}
