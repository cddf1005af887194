"""IRC sessions on two nodes, each a hub on its own NatsBus over one real nats-server:
a command's facts come back from the bus a round trip later, and the session holds the
client's next line until they have (Bus.settled; docs/design/cluster.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from nats.aio.client import Client

from hubbub.cluster.jetstream import NatsBus
from hubbub.cluster.local import LocalRegistry
from hubbub.core.events import Fact, MessagePosted
from hubbub.core.hub import Hub
from hubbub.doors.irc.context import IrcContext
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.session import PlainSession
from hubbub.settings import Settings
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Casemap, Casemapping
from hubbub.wire.message import Message, parse
from tests.helpers import SERVER_NAME, FakePeer
from tests.nats_server import NatsServer

WAIT = 10.0


class Node:
    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.bus = NatsBus(name)
        hub = Hub(Casemap(Casemapping.PRECIS), bus=self.bus, registry=LocalRegistry())
        self.ctx = IrcContext(hub, Settings(server_name=SERVER_NAME), ["Hello"])
        self.plain = PlainContext(hub, "#lobby", "en")
        self.applied = asyncio.Event()
        self.applied_facts: list[Fact] = []
        self.bus.subscribe(self._applied)

    def _applied(self, fact: Fact) -> None:
        self.applied_facts.append(fact)
        self.applied.set()

    def client_session(self) -> NodeClient:
        return NodeClient(self)


class NodeClient:
    """An IRC session of a node, fed lines as a driver would: the next one only once
    the last one's wait is over."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.sent: list[bytes] = []
        self.session = IrcSession(node.ctx, self.sent.append, FakePeer())
        self.seen: list[Message] = []

    async def send(self, *lines: str) -> None:
        for line in lines:
            pending = self.session.receive_line(line.encode())
            if pending is not None:
                async with asyncio.timeout(WAIT):
                    await pending

    def _take(self) -> None:
        raw = b"".join(self.sent)
        self.sent.clear()
        self.seen += [parse(line) for line in raw.split(b"\r\n") if line]

    async def wait_for(self, wanted: Callable[[Message], bool]) -> Message:
        """The first line received (from now or earlier, not yet waited for) that
        ``wanted`` accepts; waits on the node's bus for more."""
        async with asyncio.timeout(WAIT):
            while True:
                self._take()
                for index, message in enumerate(self.seen):
                    if wanted(message):
                        del self.seen[: index + 1]
                        return message
                self.node.applied.clear()
                await self.node.applied.wait()


@pytest.fixture
async def nodes(nats_server: NatsServer) -> AsyncIterator[tuple[Node, Node]]:
    made = []
    for name in ("a", "b"):
        node = Node(await nats.connect(nats_server.url), name)
        await node.bus.start(node.client)
        made.append(node)
    try:
        yield made[0], made[1]
    finally:
        for node in made:
            await node.bus.close()
            await node.client.close()


def command(name: str, source: str = "") -> Callable[[Message], bool]:
    return lambda m: m.command == name and (m.source or "").startswith(source)


async def test_irc_clients_on_two_nodes_register_join_and_chat(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    alice, bob = a.client_session(), b.client_session()
    await alice.send("NICK alice", "USER alice 0 * :Alice")
    await alice.wait_for(command(n.RPL_WELCOME))
    await bob.send("NICK bob", "USER bob 0 * :Bob")
    await bob.wait_for(command(n.RPL_WELCOME))

    await alice.send("JOIN #rust")
    await alice.wait_for(command("JOIN", "alice!"))
    await bob.send("JOIN #rust")
    # bob's names, on node b, list alice, who joined on node a.
    names = await bob.wait_for(command(n.RPL_NAMREPLY))
    # (bob may be an operator too: until the claims of step 2, node b decides the join
    # against what it knows, and may not know yet that alice made the channel.)
    assert {nick.lstrip("@") for nick in names.params[-1].split()} == {"alice", "bob"}
    await alice.wait_for(command("JOIN", "bob!"))

    await alice.send("PRIVMSG #rust :hello from a")
    said = await bob.wait_for(command("PRIVMSG", "alice!"))
    assert said.params == ("#rust", "hello from a")
    await bob.send("PRIVMSG alice :hello from b")
    answer = await alice.wait_for(command("PRIVMSG", "bob!"))
    assert answer.params == ("alice", "hello from b")

    await alice.send("QUIT :done")
    quit_line = await bob.wait_for(command("QUIT", "alice!"))
    assert quit_line.params == ("Quit: done",)


async def test_a_labeled_command_between_nodes_has_its_own_facts_for_its_reply(
    nodes: tuple[Node, Node],
) -> None:
    # The JOIN comes back from the bus after the command has returned: it is still
    # the command's reply, in its labeled batch (labeled-response).
    a, _ = nodes
    carol = a.client_session()
    await carol.send("CAP LS 302", "CAP REQ :labeled-response batch")
    await carol.send("NICK carol", "USER carol 0 * :Carol", "CAP END")
    await carol.wait_for(command(n.RPL_WELCOME))
    await carol.send("@label=j1 JOIN #go")
    start = await carol.wait_for(command("BATCH"))
    assert start.tags.get("label") == "j1"
    assert start.params[1] == "labeled-response"
    join = await carol.wait_for(command("JOIN", "carol!"))
    assert join.tags.get("batch") == start.params[0].lstrip("+")
    names = await carol.wait_for(command(n.RPL_NAMREPLY))
    assert names.tags.get("batch") == join.tags["batch"]


async def test_a_plain_user_on_one_node_chats_with_an_irc_user_on_the_other(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    sent: list[bytes] = []
    dave = PlainSession(b.plain, sent.append, FakePeer())
    pending = dave.receive_line(b"dave")
    assert pending is not None, "registration waits for its facts to come back"
    async with asyncio.timeout(WAIT):
        await pending
    assert b"Welcome, dave! You are in #lobby." in b"".join(sent)
    assert dave.room == "#lobby"

    alice = a.client_session()
    await alice.send("NICK alice", "USER alice 0 * :Alice", "JOIN #lobby")
    names = await alice.wait_for(command(n.RPL_NAMREPLY))
    assert "@dave" in names.params[-1].split(), "dave made the room: its operator"
    await alice.send("PRIVMSG #lobby :hi dave")
    async with asyncio.timeout(WAIT):
        while b"alice: hi dave" not in b"".join(sent):
            b.applied.clear()
            await b.applied.wait()
    # Its next line waits for this one's fact to come back, as an IRC client's does: a
    # client has one line's facts waiting on the bus at most.
    pending = dave.receive_line(b"hello alice")
    assert pending is not None
    async with asyncio.timeout(WAIT):
        await pending
    assert any(isinstance(f, MessagePosted) and f.text == "hello alice" for f in b.applied_facts)
    said = await alice.wait_for(command("PRIVMSG", "dave!"))
    assert said.params == ("#lobby", "hello alice")


def welcome_or_refusal(message: Message) -> bool:
    return message.command in (n.RPL_WELCOME, n.ERR_NICKNAMEINUSE)


async def test_a_nick_raced_for_on_two_nodes_has_one_winner_and_a_433(
    nodes: tuple[Node, Node],
) -> None:
    # Both nodes check the nick against what they know, and both give it out: the log
    # decides, the same way on each node (docs/design/cluster.md, claims).
    a, b = nodes
    for k in range(50):  # issue 16: fifty races, one winner each
        nick = f"racer{k}"
        on_a, on_b = a.client_session(), b.client_session()
        await asyncio.gather(
            on_a.send(f"NICK {nick}", f"USER r 0 * :R{k}"),
            on_b.send(f"NICK {nick}", f"USER r 0 * :R{k}"),
        )
        answers = {
            (await on_a.wait_for(welcome_or_refusal)).command,
            (await on_b.wait_for(welcome_or_refusal)).command,
        }
        assert answers == {n.RPL_WELCOME, n.ERR_NICKNAMEINUSE}, k
        winner = on_a if on_a.session.user is not None else on_b
        assert winner.session.user is not None
        for node in (a, b):
            async with asyncio.timeout(WAIT):
                while (found := node.ctx.hub.find_user(nick)) is None:
                    node.applied.clear()
                    await node.applied.wait()
            assert found.id == winner.session.user.id


async def test_a_channel_made_on_two_nodes_at_once_has_one_maker(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    alice, bob = a.client_session(), b.client_session()
    await alice.send("NICK alice", "USER alice 0 * :Alice")
    await bob.send("NICK bob", "USER bob 0 * :Bob")
    for node in (a, b):  # each node knows both users
        async with asyncio.timeout(WAIT):
            while len(node.ctx.hub.users) < 2:
                node.applied.clear()
                await node.applied.wait()
    await asyncio.gather(alice.send("JOIN #new"), bob.send("JOIN #new"))
    statuses = []
    for node in (a, b):
        async with asyncio.timeout(WAIT):
            while len(found := statuses_in(node, "#new")) < 2:
                node.applied.clear()
                await node.applied.wait()
        statuses.append(found)
    assert statuses[0] == statuses[1]
    assert sorted(statuses[0].values()) == ["", "o"], "one maker, one who joined it"


def statuses_in(node: Node, name: str) -> dict[str, str]:
    """The members of a channel as a node holds them, by nick, with their status."""
    channel = node.ctx.hub.find_channel(name)
    return {} if channel is None else {u.nick: s for u, s in channel.members.items()}


async def test_rename_between_nodes_is_answered_once_applied_and_the_next_one_works(
    nodes: tuple[Node, Node],
) -> None:
    # Probe 15: RENAME looked the channel up by its new name before the rename came back
    # from the bus: 400 and a traceback each time, and the next RENAME decided too early.
    a, b = nodes
    alice, bob = a.client_session(), b.client_session()
    await alice.send("CAP REQ :draft/channel-rename", "NICK alice", "USER a 0 * :A", "CAP END")
    await alice.wait_for(command(n.RPL_WELCOME))
    await bob.send("NICK bob", "USER b 0 * :B")
    await bob.wait_for(command(n.RPL_WELCOME))
    await alice.send("JOIN #old")
    await alice.wait_for(command("JOIN", "alice!"))
    await alice.send("RENAME #old #new :tidy", "RENAME #new #newer :again")
    first = await alice.wait_for(lambda m: m.command in ("RENAME", "FAIL", n.ERR_UNKNOWNERROR))
    second = await alice.wait_for(lambda m: m.command in ("RENAME", "FAIL", n.ERR_UNKNOWNERROR))
    assert (first.command, first.params[:2]) == ("RENAME", ("#old", "#new"))
    assert (second.command, second.params[:2]) == ("RENAME", ("#new", "#newer"))
    async with asyncio.timeout(WAIT):
        while b.ctx.hub.find_channel("#newer") is None:
            b.applied.clear()
            await b.applied.wait()
    await bob.send("JOIN #newer")
    await bob.wait_for(command("JOIN", "bob!"))


async def test_joins_of_a_channel_being_made_on_the_same_node_all_get_in(
    nodes: tuple[Node, Node],
) -> None:
    # Between nodes a JOIN's making of a channel is applied a round trip later: the
    # next JOINs of it on the same node were refused meanwhile (400, name taken).
    a, _ = nodes
    sessions = [a.client_session() for _ in range(6)]
    for number, session in enumerate(sessions):
        await session.send(f"NICK j{number}", f"USER j 0 * :J{number}")
        await session.wait_for(command(n.RPL_WELCOME))
    await asyncio.gather(*(session.send("JOIN #busy") for session in sessions))
    for session in sessions:
        answer = await session.wait_for(lambda m: m.command in (n.RPL_ENDOFNAMES, "400"))
        assert answer.command == n.RPL_ENDOFNAMES
    found = statuses_in(a, "#busy")
    assert sorted(found.values()) == ["", "", "", "", "", "o"], "one maker, five who joined"
