"""Three ``hubbub serve --cluster`` nodes act as one network for every client-visible
command: a user on one node sees what a user on another node did exactly as on a single
server (docs/cluster.md, "What users see").

Every test runs twice: on nodes a, b and c of a cluster (one NATS, one PostgreSQL), its
users spread over them, and on one server that is a, b and c at once, the reference the
cluster is held to. A difference found is marked with :func:`differs`.

The servers are started once per module (and test process) and shared by its tests, each
of which leaves the network as it found it (:func:`net`): its users quit, and nicks,
accounts and channels that outlast a test (accounts, registered channels, history,
WHOWAS, K-lines) are each used by one test only.

A node applies the network's facts in the log's order, so a user whose own fact is back
(the JOIN and PART of a channel of its own, :meth:`Net.settle`) is on a node that has
applied everything said before: queries are asked after that, never after a sleep.

The users connect from 127.0.0.1, trusted (no per-address limits); the tests of server
bans and of the per-address limit (two connections) connect from 127.0.0.2 to .4.
hubbub sends no CHGHOST (a login changes no host): the capability is asked for with the
login's notifications, and nothing is expected of it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.cluster.test_serve_cluster import PASSWORD
from tests.conftest import ServeProcesses
from tests.helpers import LineClient
from tests.nats_server import NatsServer
from tests.postgres import PostgresServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHAN = "#room"
# Channels whose history or registration outlasts a test: each test's own.
HISTORY, REDACTED, KEPT = "#history", "#redacted", "#kept"
ACCESS, MARKED, RANGES, FRESH = "#access", "#marked", "#ranges", "#fresh"
SAME, BURST, DEVICES = "#same", "#burst", "#devices"
OPER_PASSWORD = "r00t-pass"
WAIT = 10.0  # seconds for anything that crosses nodes (the machine is shared)
ONE_SERVER, THREE_NODES = "single", "three"
# Nobody of the tests: one invisible user on each node, in no channel, that sees the
# network empty again after each test.
WATCHERS = 3
PER_ADDRESS = 2  # connections from an untrusted address


class Client(LineClient):
    """A raw IRC client that knows its nick (set by :func:`register`)."""

    nick = ""

    @classmethod
    async def to(cls, port: int) -> Client:
        """A client connected to ``port``."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)


def parted(channel: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PART" and m.params[0] == channel


async def register(client: Client, nick: str, *caps: str) -> Client:
    if caps:
        await client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        ack = await client.read_until(lambda m: m.command == "CAP" and m.params[1] != "LS")
        assert ack[-1].params[1] == "ACK", ack[-1]
        await client.send("CAP END")
    await client.register(nick)
    client.nick = nick
    return client


class Network:
    """The servers a module's tests share: their IRC ports by node, and a watcher on each."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.watchers: list[Client] = []

    async def watch(self) -> None:
        for number, node in enumerate("abc"):
            watcher = await register(await Client.to(self.ports[node]), f"watcher{number}")
            await watcher.send(f"MODE {watcher.nick} +i")
            await watcher.read_until("MODE", seconds=WAIT)
            self.watchers.append(watcher)

    async def emptied(self) -> None:
        """Until every node counts only the watchers (every quit applied everywhere)."""
        async with asyncio.timeout(3 * WAIT):
            for watcher in self.watchers:
                while True:
                    await watcher.send("LUSERS")
                    counts = await watcher.read_until(n.RPL_GLOBALUSERS)
                    if counts[-1].params[1] == str(WATCHERS):
                        break


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=[ONE_SERVER, THREE_NODES])
async def network(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
) -> AsyncIterator[Network]:
    """Nodes a, b and c of a cluster, each with the operator ``root``; or one server
    that is a, b and c at once."""
    folder = tmp_path_factory.mktemp(request.param)
    database = await postgres_server.create_database()
    processes = ServeProcesses()
    nats: NatsServer | None = None

    async def serve(name: str, *cluster: str) -> int:
        process = await processes.start(
            *("--host", "127.0.0.1", "--port", "0", "--no-plain", "--no-web"),
            *("--data-dir", str(folder / name), "--server-name", "irc.cluster.test"),
            *("--database-url", postgres_server.url(database)),
            *("--oper", f"root:{OPER_PASSWORD}", *cluster),
            # The tests register more accounts from 127.0.0.1 than an address may, and
            # connect from it freely; other loopback addresses may have two connections.
            *("--limit", "register_per_address=0", "--trusted", "127.0.0.1"),
            *("--limit", f"connections_per_ip={PER_ADDRESS}"),
        )
        if cluster:
            await process.wait_for_log(f"node {name} joined")
        return await process.port()

    try:
        if request.param == ONE_SERVER:
            ports = dict.fromkeys("abc", await serve("one"))
        else:
            nats = NatsServer.start()
            url = nats.url

            async def node(name: str) -> int:
                return await serve(name, "--cluster", url, "--node", name)

            ports = {"a": await node("a")}  # the first makes the streams; then the others
            ports["b"], ports["c"] = await asyncio.gather(node("b"), node("c"))
        shared = Network(ports)
        await shared.watch()
        yield shared
        for watcher in shared.watchers:
            await watcher.close()
    finally:
        await processes.stop_all()
        if nats is not None:
            nats.stop()
        await postgres_server.drop_database(database)


class Net:
    """One test's view of the network: its clients, on nodes a, b and c."""

    def __init__(self, network: Network) -> None:
        self.ports = network.ports
        self.clients: list[Client] = []

    async def connect(self, node: str) -> Client:
        client = await Client.to(self.ports[node])
        self.clients.append(client)
        return client

    async def user(self, node: str, nick: str, *caps: str, account: bool = False) -> Client:
        """A client registered as ``nick`` on ``node`` with ``caps``; with ``account``,
        logged in to a new account of that name too."""
        client = await register(await self.connect(node), nick, *caps)
        if account:
            await client.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
            await client.read_until(n.RPL_LOGGEDIN, seconds=WAIT)
        return client

    async def settle(self, *clients: Client) -> list[Message]:
        """Until each client's node has applied every fact made before now; what the
        clients were sent meanwhile (their own JOIN and PART of the barrier left out)."""
        seen: list[Message] = []
        for client in clients:
            barrier = f"#settle-{client.nick}"
            await client.send(f"JOIN {barrier}", f"PART {barrier}")
            lines = await client.read_until(parted(barrier), seconds=WAIT)
            seen += [m for m in lines if barrier not in m.params]
        return seen

    async def join(self, channel: str, *members: Client) -> None:
        """Each member joins in turn, and each sees every later one's JOIN."""
        for number, member in enumerate(members):
            await member.send(f"JOIN {channel}")
            await member.read_until(n.RPL_ENDOFNAMES, seconds=WAIT)
            for earlier in members[:number]:
                await expect(earlier, "JOIN", member.nick)

    async def leave(self) -> None:
        """Every client quits (those the server closed already are closed)."""
        for client in self.clients:
            try:
                await client.send("QUIT")
                await client.closed(WAIT)
            except (ConnectionError, TimeoutError):
                pass
            await client.close()


@pytest_asyncio.fixture(loop_scope="module")
async def net(network: Network) -> AsyncIterator[Net]:
    """The shared network, given back empty of this test's users."""
    test = Net(network)
    try:
        yield test
    finally:
        await test.leave()
        await network.emptied()


def differs(reason: str) -> pytest.MarkDecorator:
    """A difference of the cluster from one server: the test passes on one server and
    is expected to fail (strictly) on three nodes, for ``reason``."""
    return pytest.mark.parametrize(
        "network",
        [
            ONE_SERVER,
            pytest.param(THREE_NODES, marks=pytest.mark.xfail(strict=True, reason=reason)),
        ],
        indirect=True,
    )


def from_(nick: str) -> Callable[[Message], bool]:
    return lambda m: (m.source or "").split("!")[0] == nick


async def expect(
    client: Client, command: str, nick: str | None = None, seconds: float = WAIT
) -> Message:
    """The next ``command`` line (from ``nick``, when given) that ``client`` is sent."""
    source = from_(nick) if nick is not None else (lambda m: True)
    lines = await client.read_until(lambda m: m.command == command and source(m), seconds)
    return lines[-1]


async def reply(client: Client, line: str, end: str) -> list[Message]:
    """Send ``line``; the lines up to the numeric ``end``."""
    await client.send(line)
    return await client.read_until(end, seconds=WAIT)


def only(lines: list[Message], command: str) -> list[tuple[str, ...]]:
    """The parameters of each ``command`` line, the client's own nick left out."""
    return [m.params[1:] for m in lines if m.command == command]


def names_of(lines: list[Message]) -> set[str]:
    return {name for m in lines if m.command == n.RPL_NAMREPLY for name in m.params[-1].split()}


async def oper(client: Client) -> None:
    await client.send(f"OPER root {OPER_PASSWORD}")
    await client.read_until(n.RPL_YOUREOPER, seconds=WAIT)


# -- messages ---------------------------------------------------------------------------


async def test_privmsg_to_a_channel_carries_tags_msgid_and_time_to_every_node(net: Net) -> None:
    caps = ("message-tags", "server-time", "echo-message", "labeled-response", "batch")
    alice = await net.user("a", "alice", *caps)
    bob = await net.user("b", "bob", "message-tags", "server-time")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"@label=l1;+example.org/mood=calm PRIVMSG {CHAN} :hello all")
    echo = await expect(alice, "PRIVMSG")
    heard = await expect(bob, "PRIVMSG", "alice")
    plain = await expect(carol, "PRIVMSG", "alice")
    assert echo.tags["label"] == "l1"
    assert echo.params == heard.params == plain.params == (CHAN, "hello all")
    assert echo.tags["msgid"] == heard.tags["msgid"]
    assert echo.tags["time"] == heard.tags["time"]
    assert heard.tags["+example.org/mood"] == "calm"
    assert echo.tags["+example.org/mood"] == "calm"
    assert plain.tags == {}


async def test_privmsg_and_notice_to_a_user_on_another_node(net: Net) -> None:
    alice = await net.user("a", "alice", "echo-message", "message-tags", "server-time")
    bob = await net.user("b", "bob", "message-tags", "server-time")
    await net.settle(alice)  # node a knows bob
    await alice.send("PRIVMSG bob :psst", "NOTICE bob :note")
    echoes = [await expect(alice, "PRIVMSG"), await expect(alice, "NOTICE")]
    heard = [await expect(bob, "PRIVMSG", "alice"), await expect(bob, "NOTICE", "alice")]
    assert [m.params for m in heard] == [("bob", "psst"), ("bob", "note")]
    assert [m.tags["msgid"] for m in echoes] == [m.tags["msgid"] for m in heard]
    await bob.send("NOTICE alice :back to you")
    answer = await expect(alice, "NOTICE", "bob")
    assert answer.params == ("alice", "back to you")


async def test_notice_to_a_channel_and_statusmsg_reach_only_whom_they_should(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    dave = await net.user("b", "dave")
    await net.join(CHAN, alice, bob, carol, dave)
    await alice.send(f"MODE {CHAN} +o bob")
    for member in (bob, carol, dave):
        await expect(member, "MODE", "alice")
    await carol.send(f"NOTICE {CHAN} :to all", f"PRIVMSG @{CHAN} :to ops only")
    for member in (alice, bob, dave):
        assert (await expect(member, "NOTICE", "carol")).params == (CHAN, "to all")
    for op in (alice, bob):
        assert (await expect(op, "PRIVMSG", "carol")).params == (f"@{CHAN}", "to ops only")
    # dave, on bob's node but no operator, is not told.
    assert [m for m in await net.settle(dave) if m.command == "PRIVMSG"] == []


async def test_tagmsg_reaches_message_tags_clients_on_other_nodes_only(net: Net) -> None:
    alice = await net.user("a", "alice", "message-tags", "echo-message")
    bob = await net.user("b", "bob", "message-tags")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"@+typing=active TAGMSG {CHAN}", "@+typing=paused TAGMSG bob")
    echo = await expect(alice, "TAGMSG")
    in_channel = await expect(bob, "TAGMSG", "alice")
    private = await expect(bob, "TAGMSG", "alice")
    assert (in_channel.params, in_channel.tags["+typing"]) == ((CHAN,), "active")
    assert (private.params, private.tags["+typing"]) == (("bob",), "paused")
    assert in_channel.tags["msgid"] == echo.tags["msgid"]
    assert [m for m in await net.settle(carol) if m.command == "TAGMSG"] == []


async def test_labeled_response_on_the_sender_node_gathers_its_own_reply(net: Net) -> None:
    alice = await net.user("a", "alice", "labeled-response", "batch", "echo-message")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send("@label=join2 JOIN #other")
    batch = await alice.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-")
    opened = batch[0]
    assert (opened.command, opened.tags["label"]) == ("BATCH", "join2")
    assert [m.command for m in batch[1:-1]] == ["JOIN", n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
    await alice.send(f"@label=msg3 PRIVMSG {CHAN} :labeled")
    echo = await expect(alice, "PRIVMSG")
    assert echo.tags["label"] == "msg3"
    assert (await expect(bob, "PRIVMSG", "alice")).params == (CHAN, "labeled")
    await alice.send(f"@label=two PRIVMSG {CHAN},bob :to both")
    both = await alice.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-")
    assert both[0].tags["label"] == "two"
    assert [m.params for m in both[1:-1]] == [(CHAN, "to both"), ("bob", "to both")]


async def test_labeled_replies_to_state_changes_carry_their_label_on_a_cluster_node(
    net: Net,
) -> None:
    # On a node the reply waits for the command's own facts to come back from the log.
    alice = await net.user("a", "alice", "labeled-response", "batch", "away-notify", "setname")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    for label, line, command in (
        ("t1", f"TOPIC {CHAN} :labeled topic", "TOPIC"),
        ("m1", f"MODE {CHAN} +v bob", "MODE"),
        ("s1", "SETNAME :Alice Labeled", "SETNAME"),
        ("k1", f"KICK {CHAN} bob :labeled kick", "KICK"),
        ("n1", "NICK alicia", "NICK"),
    ):
        await alice.send(f"@label={label} {line}")
        answer = await expect(alice, command)
        assert answer.tags.get("label") == label, (line, answer)
    await alice.send("@label=a1 AWAY :labeled away")
    away = await alice.read_until(n.RPL_NOWAWAY)
    assert away[-1].tags.get("label") == "a1"
    assert (await expect(bob, "KICK", "alice")).params == (CHAN, "bob", "labeled kick")


# -- membership -------------------------------------------------------------------------


async def test_join_part_kick_and_quit_are_seen_on_every_node(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    dave = await net.user("c", "dave")
    await net.join(CHAN, alice, bob, carol, dave)
    await bob.send(f"PART {CHAN} :bye now")
    for member in (alice, carol):
        assert (await expect(member, "PART", "bob")).params == (CHAN, "bye now")
    await alice.send(f"KICK {CHAN} carol :out")
    for member in (alice, carol, dave):
        assert (await expect(member, "KICK", "alice")).params == (CHAN, "carol", "out")
    await dave.send("QUIT :gone")
    assert (await expect(alice, "QUIT", "dave")).params == ("Quit: gone",)
    names = await reply(carol, f"NAMES {CHAN}", n.RPL_ENDOFNAMES)
    assert names_of(names) == {"@alice"}


async def test_join_0_parts_every_channel_for_the_other_nodes(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join("#one", alice, bob)
    await net.join("#two", alice, bob)
    await bob.send("JOIN 0")
    parted = [(await expect(alice, "PART", "bob")).params[0] for _ in range(2)]
    assert sorted(parted) == ["#one", "#two"]


async def test_nick_change_is_seen_and_the_nicks_move_across_nodes(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send("NICK alicia")
    assert (await expect(bob, "NICK", "alice")).params == ("alicia",)
    carol = await net.user("c", "carol")
    await net.settle(carol)
    await carol.send("NICK alicia")
    assert (await carol.read_until(n.ERR_NICKNAMEINUSE))[-1].params[1] == "alicia"
    await carol.send("NICK alice")
    assert (await expect(carol, "NICK", "carol")).params == ("alice",)
    names = await reply(bob, f"NAMES {CHAN}", n.RPL_ENDOFNAMES)
    assert names_of(names) == {"@alicia", "bob"}


async def test_nicks_taken_on_another_node_are_taken_in_any_case_and_look_alike(
    net: Net,
) -> None:
    alice = await net.user("a", "alice")
    clark = await net.user("b", "clarkx")
    await net.join(CHAN, alice, clark)
    await alice.send("NICK Alice")
    assert (await expect(clark, "NICK", "alice")).params == ("Alice",)
    await expect(alice, "NICK", "alice")
    await alice.send("NICK cIarkx")  # a capital I for the l of clarkx, on b
    refused = await alice.read_until(lambda m: m.command in ("NICK", n.ERR_NICKNAMEINUSE))
    assert (refused[-1].command, refused[-1].params[:2]) == (
        n.ERR_NICKNAMEINUSE,
        ("Alice", "cIarkx"),
    )
    xavier = await net.user("c", "xavier")
    await net.settle(xavier)
    taken = await reply(xavier, "NICK ALICE", n.ERR_NICKNAMEINUSE)
    assert taken[-1].params == ("xavier", "ALICE", "Nickname is already in use")


async def test_topic_set_on_one_node_is_shown_with_its_setter_on_the_others(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send(f"TOPIC {CHAN} :the topic")
    assert (await expect(bob, "TOPIC", "alice")).params == (CHAN, "the topic")
    carol = await net.user("c", "carol")
    await net.settle(carol)
    answer = await reply(carol, f"TOPIC {CHAN}", n.RPL_TOPICWHOTIME)
    assert only(answer, n.RPL_TOPIC) == [(CHAN, "the topic")]
    assert only(answer, n.RPL_TOPICWHOTIME)[0][:2] == (CHAN, "alice!~alice@127.0.0.1")
    # +t (a new channel's default): bob, not an operator, may not change it from b.
    refused = await reply(bob, f"TOPIC {CHAN} :mine", n.ERR_CHANOPRIVSNEEDED)
    assert refused[-1].params[1] == CHAN


async def test_times_and_orders_are_the_same_seen_from_every_node(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"TOPIC {CHAN} :timed")
    for member in (bob, carol):
        await expect(member, "TOPIC", "alice")
    answers = []
    for member in (alice, bob, carol):
        topic = await reply(member, f"TOPIC {CHAN}", n.RPL_TOPICWHOTIME)
        modes = await reply(member, f"MODE {CHAN}", n.RPL_CREATIONTIME)
        names = await reply(member, f"NAMES {CHAN}", n.RPL_ENDOFNAMES)
        who = await reply(member, f"WHO {CHAN}", n.RPL_ENDOFWHO)
        answers.append(
            (
                only(topic, n.RPL_TOPICWHOTIME),
                only(modes, n.RPL_CREATIONTIME),
                only(names, n.RPL_NAMREPLY),
                only(who, n.RPL_WHOREPLY),
            )
        )
    assert answers[0] == answers[1] == answers[2]


async def test_every_query_is_answered_alike_on_every_node(net: Net) -> None:
    quinn = await net.user("a", "quinn", account=True)
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.join(SAME, quinn, bob)
    await quinn.send(
        f"PRIVMSG ChanServ :REGISTER {SAME}",
        f"TOPIC {SAME} :compared",
        f"MODE {SAME} +vkb bob sesame spam!*@*",
        "AWAY :elsewhere",
        "MODE quinn +B",
        f"OPER root {OPER_PASSWORD}",
    )
    await quinn.read_until(n.RPL_YOUREOPER, WAIT)
    # Asked by users alike (none an operator, none a member), one on each node.
    askers = [carol, await net.user("a", "dave"), await net.user("b", "erin")]
    await net.settle(*askers)
    queries = (
        ("WHOIS quinn", n.RPL_ENDOFWHOIS),
        ("WHOIS bob", n.RPL_ENDOFWHOIS),
        (f"WHO {SAME} %tcuhsnfar,7", n.RPL_ENDOFWHO),
        ("WHO quinn", n.RPL_ENDOFWHO),
        (f"NAMES {SAME}", n.RPL_ENDOFNAMES),
        ("LIST", n.RPL_LISTEND),
        (f"MODE {SAME}", n.RPL_CREATIONTIME),
        (f"MODE {SAME} b", n.RPL_ENDOFBANLIST),
        (f"TOPIC {SAME}", n.RPL_TOPICWHOTIME),
        ("ISON quinn bob carol dave erin nobody", n.RPL_ISON),
        ("USERHOST quinn bob carol dave erin", n.RPL_USERHOST),
        ("LUSERS", n.RPL_GLOBALUSERS),
        ("WHOWAS nobody", n.RPL_ENDOFWHOWAS),
    )
    services = (f"PRIVMSG ChanServ :INFO {SAME}", "PRIVMSG NickServ :INFO quinn")
    answers = []
    for asker in askers:
        seen = []
        for line, end in queries:
            seen += [
                (m.command, m.params[1:] if m.params[:1] == (asker.nick,) else m.params)
                for m in await reply(asker, line, end)
                if m.command != n.RPL_WHOISIDLE  # its seconds go on between two asks
            ]
        for line in services:
            await asker.send(line)
            seen.append((line, (await expect(asker, "NOTICE")).params[1:]))
        answers.append(seen)
    assert answers[0] == answers[1] == answers[2]


async def test_whois_shows_the_same_signon_and_idle_time_from_every_node(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await asyncio.sleep(2)  # time passing, for alice to have been idle a while
    await alice.send(f"PRIVMSG {CHAN} :awake")  # which ends her idleness
    await expect(bob, "PRIVMSG", "alice")
    await net.settle(alice, bob)
    seen = []
    for asker in (alice, bob):
        whois = await reply(asker, "WHOIS alice", n.RPL_ENDOFWHOIS)
        idle, signon = only(whois, n.RPL_WHOISIDLE)[0][1:3]
        seen.append((int(idle) <= 1, signon))
    assert seen[0] == seen[1] == (True, seen[0][1])


async def test_away_users_joining_are_told_to_away_notify_clients_of_other_nodes(
    net: Net,
) -> None:
    alice = await net.user("a", "alice", "away-notify")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice)
    await bob.send("AWAY :not here")
    await bob.read_until(n.RPL_NOWAWAY)
    await bob.send(f"JOIN {CHAN}")
    lines = await alice.read_until(lambda m: m.command == "AWAY", WAIT)
    assert [(m.command, m.params) for m in lines if from_("bob")(m)] == [
        ("JOIN", (CHAN,)),
        ("AWAY", ("not here",)),
    ]


async def test_bot_mode_set_on_one_node_is_shown_and_tagged_on_the_others(net: Net) -> None:
    alice = await net.user("a", "alice", "message-tags")
    bot = await net.user("b", "robot")
    await net.join(CHAN, alice, bot)
    await bot.send("MODE robot +B")
    await expect(bot, "MODE", "robot")
    await bot.send(f"PRIVMSG {CHAN} :beep")
    said = await expect(alice, "PRIVMSG", "robot")
    assert "bot" in said.tags
    whois = await reply(alice, "WHOIS robot", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_WHOISBOT) == [("robot", "is a bot")]
    who = await reply(alice, f"WHO {CHAN}", n.RPL_ENDOFWHO)
    assert {m.params[5]: m.params[6] for m in who if m.command == n.RPL_WHOREPLY} == {
        "alice": "H@",
        "robot": "HB",
    }


# -- channel modes ----------------------------------------------------------------------


async def test_channel_modes_set_on_one_node_are_shown_and_enforced_on_the_others(
    net: Net,
) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send(f"MODE {CHAN} +ntsimkl sesame 5")
    changed = await expect(bob, "MODE", "alice")  # +nt are a new channel's already
    assert changed.params == (CHAN, "+simkl", "sesame", "5")
    carol = await net.user("c", "carol")
    await net.settle(carol)
    shown = await reply(bob, f"MODE {CHAN}", n.RPL_CHANNELMODEIS)
    assert sorted(shown[-1].params[2].lstrip("+")) == sorted("iklmnst")
    # +i, +k and +l refuse carol on c; +n keeps her out; +s hides the channel from her.
    refused = await reply(carol, f"JOIN {CHAN} sesame", n.ERR_INVITEONLYCHAN)
    assert refused[-1].params[1] == CHAN
    outside = await reply(carol, f"PRIVMSG {CHAN} :from outside", n.ERR_NOSUCHCHANNEL)
    assert outside[-1].params[1] == CHAN  # secret: not even said to exist
    listed = await reply(carol, "LIST", n.RPL_LISTEND)
    assert only(listed, n.RPL_LIST) == []
    # +m: bob, without voice, may not speak on b.
    await bob.send(f"PRIVMSG {CHAN} :muted?")
    assert (await bob.read_until(n.ERR_CANNOTSENDTOCHAN))[-1].params[1] == CHAN


async def test_key_and_limit_set_on_one_node_refuse_joins_on_the_others(net: Net) -> None:
    alice = await net.user("a", "alice")
    await net.join(CHAN, alice)
    await alice.send(f"MODE {CHAN} +kl sesame 2")
    await expect(alice, "MODE", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.settle(bob, carol)
    refused = await reply(bob, f"JOIN {CHAN} wrong", n.ERR_BADCHANNELKEY)
    assert refused[-1].params[1] == CHAN
    await bob.send(f"JOIN {CHAN} sesame")
    await bob.read_until(n.RPL_ENDOFNAMES, seconds=WAIT)
    await expect(alice, "JOIN", "bob")
    await net.settle(carol)
    full = await reply(carol, f"JOIN {CHAN} sesame", n.ERR_CHANNELISFULL)
    assert full[-1].params[1] == CHAN


async def test_op_and_voice_given_on_one_node_count_on_the_others(net: Net) -> None:
    alice = await net.user("a", "alice", "multi-prefix")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol", "multi-prefix")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"MODE {CHAN} +ov bob carol")
    for member in (bob, carol):
        assert (await expect(member, "MODE", "alice")).params == (CHAN, "+ov", "bob", "carol")
    await alice.send(f"MODE {CHAN} +v bob")
    await expect(carol, "MODE", "alice")
    names = await reply(carol, f"NAMES {CHAN}", n.RPL_ENDOFNAMES)
    assert names_of(names) == {"@alice", "@+bob", "+carol"}
    # bob, an operator now, sets the topic and +m from b; carol, voiced, still speaks.
    await bob.send(f"TOPIC {CHAN} :by bob", f"MODE {CHAN} +m")
    assert (await expect(alice, "TOPIC", "bob")).params == (CHAN, "by bob")
    await expect(carol, "MODE", "bob")
    await carol.send(f"PRIVMSG {CHAN} :voiced")
    assert (await expect(alice, "PRIVMSG", "carol")).params == (CHAN, "voiced")
    await bob.send(f"MODE {CHAN} -o alice")
    assert (await expect(alice, "MODE", "bob")).params == (CHAN, "-o", "alice")
    await net.settle(alice)
    refused = await reply(alice, f"KICK {CHAN} bob", n.ERR_CHANOPRIVSNEEDED)
    assert refused[-1].params[1] == CHAN


async def test_a_channel_limit_holds_against_joins_from_two_nodes_at_once(net: Net) -> None:
    owner = await net.user("a", "owner")
    rooms = [f"#full{k}" for k in range(5)]  # five races, one in each
    for room in rooms:
        await net.join(room, owner)
        await owner.send(f"MODE {room} +l 2")
        await expect(owner, "MODE", "owner")
    on_b = [await net.user("b", f"bee{k}") for k in range(len(rooms))]
    on_c = [await net.user("c", f"cee{k}") for k in range(len(rooms))]
    await net.settle(*on_b, *on_c)
    joiners = [(client, room) for k, room in enumerate(rooms) for client in (on_b[k], on_c[k])]
    await asyncio.gather(*(client.send(f"JOIN {room}") for client, room in joiners))
    for client, _ in joiners:
        await client.read_until(
            lambda m: m.command in (n.RPL_ENDOFNAMES, n.ERR_CHANNELISFULL), WAIT
        )
    await net.settle(owner)
    for room in rooms:
        names = await reply(owner, f"NAMES {room}", n.RPL_ENDOFNAMES)
        assert len(names_of(names)) == 2, names_of(names)


async def test_ban_exception_and_invex_lists_are_one_list_on_every_node(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send(
        f"MODE {CHAN} +o bob",  # the exception and invite lists are shown to operators
        f"MODE {CHAN} +b bad!*@*",
        f"MODE {CHAN} +e bad!good@*",
        f"MODE {CHAN} +I friend!*@*",
    )
    for _ in range(4):
        await expect(bob, "MODE", "alice")
    for mode, end in (("b", n.RPL_ENDOFBANLIST), ("e", n.RPL_ENDOFEXCEPTLIST)):
        listed = await reply(bob, f"MODE {CHAN} {mode}", end)
        entries = [m.params[1:4] for m in listed if m.command != end]
        mask = {"b": "bad!*@*", "e": "bad!good@*"}[mode]
        assert [(e[0], e[1], e[2].split("!")[0]) for e in entries] == [(CHAN, mask, "alice")]
    invex = await reply(bob, f"MODE {CHAN} I", n.RPL_ENDOFINVEXLIST)
    assert [m.params[2] for m in invex if m.command == n.RPL_INVEXLIST] == ["friend!*@*"]


async def test_bans_set_on_one_node_are_enforced_on_the_others(net: Net) -> None:
    alice = await net.user("a", "alice")
    await net.join(CHAN, alice)
    await alice.send(f"MODE {CHAN} +be bad*!*@* bad2!*@*")
    await expect(alice, "MODE", "alice")
    bad = await net.user("b", "bad")
    bad2 = await net.user("c", "bad2")
    await net.settle(bad, bad2)
    assert (await reply(bad, f"JOIN {CHAN}", n.ERR_BANNEDFROMCHAN))[-1].params[1] == CHAN
    await bad2.send(f"JOIN {CHAN}")  # banned, but on the exceptions
    await bad2.read_until(n.RPL_ENDOFNAMES, seconds=WAIT)
    await expect(alice, "JOIN", "bad2")
    await alice.send(f"MODE {CHAN} +iI friend!*@*")
    await expect(alice, "MODE", "alice")
    friend = await net.user("b", "friend")
    other = await net.user("c", "other")
    await net.settle(friend, other)
    assert (await reply(other, f"JOIN {CHAN}", n.ERR_INVITEONLYCHAN))[-1].params[1] == CHAN
    await friend.send(f"JOIN {CHAN}")  # invite-only, but on the invite exceptions
    await friend.read_until(n.RPL_ENDOFNAMES, seconds=WAIT)
    await expect(alice, "JOIN", "friend")


async def test_mute_extban_set_on_one_node_silences_on_another(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    await net.join(CHAN, alice, bob)
    await alice.send(f"MODE {CHAN} +b m:bob!*@*")
    await expect(bob, "MODE", "alice")
    await bob.send(f"PRIVMSG {CHAN} :can you hear me")
    assert (await bob.read_until(n.ERR_CANNOTSENDTOCHAN))[-1].params[1] == CHAN


async def test_user_modes_invisible_and_oper_are_seen_from_other_nodes(net: Net) -> None:
    alice = await net.user("a", "alice")
    await alice.send("MODE alice +i")
    assert (await expect(alice, "MODE", "alice")).params == ("alice", "+i")
    await oper(alice)
    bob = await net.user("b", "bob")
    await net.settle(bob)
    # Invisible and in no common channel: WHO * from b leaves her out, WHOIS shows 313.
    who = await reply(bob, "WHO *", n.RPL_ENDOFWHO)
    assert [m.params[5] for m in who if m.command == n.RPL_WHOREPLY] == ["bob"]
    whois = await reply(bob, "WHOIS alice", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_WHOISOPERATOR) == [("alice", "is an IRC operator")]
    lusers = await reply(bob, "LUSERS", n.RPL_LUSERME)
    assert only(lusers, n.RPL_LUSEROP)[0][0] == "1"
    # alice and the watchers (one a node) are invisible; bob is not.
    assert only(lusers, n.RPL_LUSERCLIENT) == [("There are 1 users and 4 invisible on 1 servers",)]


# -- invitations, away, realname, accounts ----------------------------------------------


async def test_invite_across_nodes_with_invite_notify_and_the_list(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob", "invite-notify")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob)
    await alice.send(f"MODE {CHAN} +i")
    await expect(bob, "MODE", "alice")
    await alice.send(f"INVITE carol {CHAN}")
    assert only(await alice.read_until(n.RPL_INVITING), n.RPL_INVITING) == [("carol", CHAN)]
    assert (await expect(carol, "INVITE", "alice")).params == ("carol", CHAN)
    assert (await expect(bob, "INVITE", "alice")).params == ("carol", CHAN)
    listed = await reply(carol, "INVITE", n.RPL_ENDOFINVITELIST)
    assert [m.params[1] for m in listed if m.command == n.RPL_INVITELIST] == [CHAN]
    await carol.send(f"JOIN {CHAN}")
    await carol.read_until(n.RPL_ENDOFNAMES, seconds=WAIT)
    await expect(alice, "JOIN", "carol")


async def test_away_is_notified_replied_and_shown_across_nodes(net: Net) -> None:
    alice = await net.user("a", "alice", "away-notify")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob)
    await bob.send("AWAY :at lunch")
    await bob.read_until(n.RPL_NOWAWAY)
    assert (await expect(alice, "AWAY", "bob")).params == ("at lunch",)
    await net.settle(carol)
    await carol.send("PRIVMSG bob :there?")
    assert only(await carol.read_until(n.RPL_AWAY, WAIT), n.RPL_AWAY) == [("bob", "at lunch")]
    whois = await reply(carol, "WHOIS bob", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_AWAY) == [("bob", "at lunch")]
    who = await reply(carol, f"WHO {CHAN}", n.RPL_ENDOFWHO)
    flags = {m.params[5]: m.params[6] for m in who if m.command == n.RPL_WHOREPLY}
    assert flags == {"alice": "H@", "bob": "G"}
    userhost = await reply(carol, "USERHOST bob", n.RPL_USERHOST)
    assert userhost[-1].params[-1].startswith("bob=-")
    await bob.send("AWAY")
    assert (await expect(alice, "AWAY", "bob")).params == ()


async def test_setname_is_notified_and_shown_across_nodes(net: Net) -> None:
    alice = await net.user("a", "alice", "setname")
    bob = await net.user("b", "bob", "setname")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await bob.send("SETNAME :Robert the Builder")
    assert (await expect(bob, "SETNAME", "bob")).params == ("Robert the Builder",)
    assert (await expect(alice, "SETNAME", "bob")).params == ("Robert the Builder",)
    await net.settle(carol)
    whois = await reply(carol, "WHOIS bob", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_WHOISUSER)[0][-1] == "Robert the Builder"
    assert [m for m in await carol.sync() if m.command == "SETNAME"] == []


async def test_login_is_told_by_account_notify_extended_join_and_account_tag(net: Net) -> None:
    caps = ("account-notify", "extended-join", "account-tag", "chghost")
    alice = await net.user("a", "alice", *caps)
    bob = await net.user("b", "bob", "account-notify")
    await net.join(CHAN, alice, bob)
    await bob.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await bob.read_until(n.RPL_LOGGEDIN, seconds=WAIT)
    assert (await expect(alice, "ACCOUNT", "bob")).params == ("bob",)
    carla = await net.user("c", "carla", account=True)
    await carla.send(f"JOIN {CHAN}")
    joined = await expect(alice, "JOIN", "carla")
    assert joined.params == (CHAN, "carla", "Real carla")
    await carla.send(f"PRIVMSG {CHAN} :tagged")
    said = await expect(alice, "PRIVMSG", "carla")
    assert said.tags["account"] == "carla"
    await net.settle(alice)
    whois = await reply(alice, "WHOIS carla", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_WHOISACCOUNT) == [("carla", "carla", "is logged in as")]
    await bob.send(f"PRIVMSG NickServ :DROP {PASSWORD}")
    assert (await expect(alice, "ACCOUNT", "bob")).params == ("*",)


# -- queries ----------------------------------------------------------------------------


async def test_names_lists_members_of_every_node_with_prefixes_and_hosts(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol", "userhost-in-names", "multi-prefix")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"MODE {CHAN} +v bob")
    await expect(carol, "MODE", "alice")
    names = await reply(carol, f"NAMES {CHAN}", n.RPL_ENDOFNAMES)
    assert names_of(names) == {
        "@alice!~alice@127.0.0.1",
        "+bob!~bob@127.0.0.1",
        "carol!~carol@127.0.0.1",
    }


async def test_who_and_whox_list_users_of_every_node(net: Net) -> None:
    wanda = await net.user("a", "wanda", account=True)
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.join(CHAN, wanda, bob, carol)
    who = await reply(carol, f"WHO {CHAN}", n.RPL_ENDOFWHO)
    rows = sorted(m.params[1:7] for m in who if m.command == n.RPL_WHOREPLY)
    server = "irc.cluster.test"
    assert rows == [
        (CHAN, "~bob", "127.0.0.1", server, "bob", "H"),
        (CHAN, "~carol", "127.0.0.1", server, "carol", "H"),
        (CHAN, "~wanda", "127.0.0.1", server, "wanda", "H@"),
    ]
    whox = await reply(carol, f"WHO {CHAN} %tcnfa,42", n.RPL_ENDOFWHO)
    rows = sorted(m.params[1:] for m in whox if m.command == n.RPL_WHOSPCRPL)
    assert rows == [
        ("42", CHAN, "bob", "H", "0"),
        ("42", CHAN, "carol", "H", "0"),
        ("42", CHAN, "wanda", "H@", "wanda"),
    ]
    one = await reply(carol, "WHO wanda %na", n.RPL_ENDOFWHO)
    assert only(one, n.RPL_WHOSPCRPL) == [("wanda", "wanda")]


async def test_whois_of_a_user_on_another_node(net: Net) -> None:
    wendy = await net.user("a", "wendy", account=True)
    bob = await net.user("b", "bob")
    await net.join(CHAN, wendy, bob)
    await net.join("#second", wendy)
    await net.settle(bob)
    whois = await reply(bob, "WHOIS wendy", n.RPL_ENDOFWHOIS)
    assert only(whois, n.RPL_WHOISUSER) == [("wendy", "~wendy", "127.0.0.1", "*", "Real wendy")]
    assert sorted(only(whois, n.RPL_WHOISCHANNELS)[0][1].split()) == sorted(["@#room", "@#second"])
    assert only(whois, n.RPL_WHOISSERVER)[0][:2] == ("wendy", "irc.cluster.test")
    assert only(whois, n.RPL_WHOISACCOUNT) == [("wendy", "wendy", "is logged in as")]
    assert len(only(whois, n.RPL_WHOISIDLE)) == 1


async def test_whowas_remembers_a_user_who_quit_on_another_node(net: Net) -> None:
    walter = await net.user("a", "walter")
    bob = await net.user("b", "bob")
    await net.join(CHAN, walter, bob)
    await walter.send("QUIT :later")
    await expect(bob, "QUIT", "walter")
    carol = await net.user("c", "carol")
    await net.settle(carol)
    was = await reply(carol, "WHOWAS walter", n.RPL_ENDOFWHOWAS)
    assert only(was, n.RPL_WHOWASUSER) == [("walter", "~walter", "127.0.0.1", "*", "Real walter")]


async def test_list_shows_channels_of_every_node_with_counts_and_topics(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.join("#big", alice, bob, carol)
    await net.join("#small", bob)
    await alice.send("TOPIC #big :big talk")
    await expect(carol, "TOPIC", "alice")
    await net.settle(carol)
    listed = await reply(carol, "LIST", n.RPL_LISTEND)
    rows = sorted(only(listed, n.RPL_LIST))
    assert [(r[0], r[1]) for r in rows] == [("#big", "3"), ("#small", "1")]
    assert rows[0][2].endswith("big talk")
    filtered = await reply(carol, "LIST >2", n.RPL_LISTEND)
    assert [r[0] for r in only(filtered, n.RPL_LIST)] == ["#big"]


async def test_lusers_counts_the_whole_network(net: Net) -> None:
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol")
    before = await reply(carol, "LUSERS", n.RPL_GLOBALUSERS)
    await net.join(CHAN, alice, bob)
    await net.settle(carol)
    lusers = await reply(carol, "LUSERS", n.RPL_GLOBALUSERS)
    # The watchers (one a node) are the invisible ones.
    assert only(lusers, n.RPL_LUSERCLIENT) == [("There are 3 users and 3 invisible on 1 servers",)]
    channels = int(only(before, n.RPL_LUSERCHANNELS)[0][0])
    assert only(lusers, n.RPL_LUSERCHANNELS)[0][0] == str(channels + 1)
    assert only(lusers, n.RPL_GLOBALUSERS)[0][0] == "6"


async def test_ison_and_userhost_see_users_of_other_nodes(net: Net) -> None:
    await net.user("a", "alice")
    await net.user("b", "bob")
    carol = await net.user("c", "carol")
    await net.settle(carol)
    ison = await reply(carol, "ISON alice bob nobody carol", n.RPL_ISON)
    assert ison[-1].params[-1].split() == ["alice", "bob", "carol"]
    userhost = await reply(carol, "USERHOST alice bob", n.RPL_USERHOST)
    assert userhost[-1].params[-1].split() == ["alice=+~alice@127.0.0.1", "bob=+~bob@127.0.0.1"]


async def test_monitor_tells_arrivals_and_departures_on_other_nodes(net: Net) -> None:
    carol = await net.user("c", "carol", "extended-monitor", "away-notify", "setname")
    bob = await net.user("b", "bob")
    await net.settle(carol)
    answer = await reply(carol, "MONITOR + alice,bob", n.RPL_MONOFFLINE)
    assert only(answer, n.RPL_MONONLINE) == [("bob!~bob@127.0.0.1",)]
    assert only(answer, n.RPL_MONOFFLINE) == [("alice",)]
    alice = await net.user("a", "alice")
    assert (await carol.read_until(n.RPL_MONONLINE, WAIT))[-1].params[
        1
    ] == "alice!~alice@127.0.0.1"
    # extended-monitor: what away-notify and setname tell, for monitored users too.
    await bob.send("AWAY :brb", "SETNAME :Bob Away")
    assert (await expect(carol, "AWAY", "bob")).params == ("brb",)
    assert (await expect(carol, "SETNAME", "bob")).params == ("Bob Away",)
    await alice.send("NICK alicia")
    assert (await carol.read_until(n.RPL_MONOFFLINE, WAIT))[-1].params[1] == "alice"
    await alice.send("NICK alice")
    online = await carol.read_until(n.RPL_MONONLINE, WAIT)
    assert online[-1].params[1] == "alice!~alice@127.0.0.1"
    await bob.send("QUIT")
    assert (await carol.read_until(n.RPL_MONOFFLINE, WAIT))[-1].params[1] == "bob"
    status = await reply(carol, "MONITOR S", n.RPL_MONOFFLINE)
    assert only(status, n.RPL_MONONLINE) == [("alice!~alice@127.0.0.1",)]
    assert only(status, n.RPL_MONOFFLINE) == [("bob",)]


# -- history and drafts -----------------------------------------------------------------


async def history(client: Client, command: str, expected: int) -> list[Message]:
    """The PRIVMSGs of a CHATHISTORY answer, asked until it holds ``expected`` (each node
    writes its own users' lines, a flush interval later: docs/cluster.md, "Limits")."""
    answer: list[Message] = []
    try:
        async with asyncio.timeout(WAIT):
            while len(found := [m for m in answer if m.command == "PRIVMSG"]) < expected:
                await client.send(command)
                answer = await client.sync()
    except TimeoutError:
        raise AssertionError(f"{command}: the last answer was {answer}") from None
    return found


async def test_chathistory_holds_what_was_said_on_every_node_in_order(net: Net) -> None:
    caps = ("draft/chathistory", "batch", "message-tags", "server-time")
    alice = await net.user("a", "alice", *caps, "echo-message")
    bob = await net.user("b", "bob", "echo-message")
    carol = await net.user("c", "carol", *caps)
    await net.join(HISTORY, alice, bob, carol)
    for speaker, text in ((alice, "one"), (bob, "two"), (alice, "three"), (bob, "four")):
        await speaker.send(f"PRIVMSG {HISTORY} :{text}")
        await expect(speaker, "PRIVMSG", speaker.nick)
        await asyncio.sleep(0.005)  # time passing (one millisecond's lines: a difference)
    live = [m for m in await carol.read_until(lambda m: m.params[-1:] == ("four",), WAIT)]
    live_ids = [m.tags["msgid"] for m in live if m.command == "PRIVMSG"]
    found = await history(carol, f"CHATHISTORY LATEST {HISTORY} * 10", 4)
    assert [m.params[-1] for m in found] == ["one", "two", "three", "four"]
    assert [m.tags["msgid"] for m in found] == live_ids
    before = await history(carol, f"CHATHISTORY BEFORE {HISTORY} msgid={live_ids[2]} 10", 2)
    assert [m.params[-1] for m in before] == ["one", "two"]
    await bob.send("PRIVMSG alice :just us")
    await alice.read_until(lambda m: m.params == ("alice", "just us"), WAIT)
    private = await history(alice, "CHATHISTORY LATEST bob * 10", 1)
    assert [(m.source or "").split("!")[0] for m in private] == ["bob"]
    assert private[0].params[-1] == "just us"


async def test_redact_on_one_node_is_relayed_and_removes_the_message_from_history(
    net: Net,
) -> None:
    caps = ("draft/message-redaction", "message-tags", "echo-message")
    alice = await net.user("a", "alice", *caps)
    bob = await net.user("b", "bob", "draft/message-redaction", "message-tags")
    carol = await net.user("c", "carol", "draft/chathistory", "batch", "message-tags")
    await net.join(REDACTED, alice, bob, carol)
    await alice.send(f"PRIVMSG {REDACTED} :oops", f"PRIVMSG {REDACTED} :kept")
    msgid = (await expect(alice, "PRIVMSG")).tags["msgid"]
    kept = (await expect(alice, "PRIVMSG")).tags["msgid"]
    for _ in range(2):
        await expect(bob, "PRIVMSG", "alice")
    await history(carol, f"CHATHISTORY LATEST {REDACTED} * 10", 2)
    await alice.send(f"REDACT {REDACTED} {msgid} :typo")
    assert (await expect(bob, "REDACT", "alice")).params == (REDACTED, msgid, "typo")
    await net.settle(carol)
    async with asyncio.timeout(WAIT):
        while True:
            await carol.send(f"CHATHISTORY LATEST {REDACTED} * 10")
            left = [m.params[-1] for m in await carol.sync() if m.command == "PRIVMSG"]
            if left == ["kept"]:
                break
    # bob, not an operator, may not redact alice's message from another node.
    await bob.send(f"REDACT {REDACTED} {kept}")
    fail = await expect(bob, "FAIL")
    assert fail.params == (
        "REDACT",
        "REDACT_FORBIDDEN",
        REDACTED,
        kept,
        "You may not redact this message",
    )
    # alice, its operator, may redact bob's message, said on another node.
    await bob.send(f"PRIVMSG {REDACTED} :spam")
    spam = (await expect(alice, "PRIVMSG", "bob")).tags["msgid"]
    await alice.send(f"REDACT {REDACTED} {spam} :no spam")
    assert (await expect(bob, "REDACT", "alice")).params == (REDACTED, spam, "no spam")


async def test_rename_on_one_node_is_seen_on_the_others_with_and_without_the_cap(
    net: Net,
) -> None:
    alice = await net.user("a", "alice", "draft/channel-rename")
    bob = await net.user("b", "bob", "draft/channel-rename")
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(f"TOPIC {CHAN} :kept", f"RENAME {CHAN} #hall :moving")
    assert (await expect(bob, "RENAME", "alice")).params == (CHAN, "#hall", "moving")
    # Without the capability: a PART and a JOIN, with the topic and names again.
    moved = await carol.read_until(n.RPL_ENDOFNAMES, WAIT)
    assert [(m.command, m.params[:3]) for m in moved if m.command != n.RPL_TOPICWHOTIME] == [
        ("TOPIC", (CHAN, "kept")),
        ("PART", (CHAN, "Channel renamed: moving")),
        ("JOIN", ("#hall",)),
        (n.RPL_TOPIC, ("carol", "#hall", "kept")),
        (n.RPL_NAMREPLY, ("carol", "=", "#hall")),
        (n.RPL_ENDOFNAMES, ("carol", "#hall", "End of /NAMES list")),
    ]
    dave = await net.user("c", "dave")
    await net.settle(dave)
    names = await reply(dave, "NAMES #hall", n.RPL_ENDOFNAMES)
    assert names_of(names) == {"@alice", "bob", "carol"}
    # The old name is free on every node: dave makes it anew, as its operator.
    joined = await reply(dave, f"JOIN {CHAN}", n.RPL_ENDOFNAMES)
    assert names_of(joined) == {"@dave"}


async def test_chathistory_ranges_and_targets_span_the_nodes(net: Net) -> None:
    caps = ("draft/chathistory", "batch", "message-tags", "server-time")
    alice = await net.user("a", "alice", *caps, "echo-message")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol", *caps)
    await net.join(RANGES, alice, bob, carol)
    ids = []
    for speaker, text in ((alice, "r1"), (bob, "r2"), (alice, "r3"), (bob, "r4"), (alice, "r5")):
        await speaker.send(f"PRIVMSG {RANGES} :{text}")
        ids.append((await expect(carol, "PRIVMSG", speaker.nick)).tags["msgid"])
        # Time passing: lines of one millisecond on two nodes are the next test's case.
        await asyncio.sleep(0.005)
    await history(carol, f"CHATHISTORY LATEST {RANGES} * 10", 5)
    after = await history(carol, f"CHATHISTORY AFTER {RANGES} msgid={ids[1]} 10", 3)
    assert [m.params[-1] for m in after] == ["r3", "r4", "r5"]
    around = await history(carol, f"CHATHISTORY AROUND {RANGES} msgid={ids[2]} 3", 3)
    assert [m.params[-1] for m in around] == ["r2", "r3", "r4"]
    between = await history(
        carol, f"CHATHISTORY BETWEEN {RANGES} msgid={ids[0]} msgid={ids[4]} 10", 3
    )
    assert [m.params[-1] for m in between] == ["r2", "r3", "r4"]
    await bob.send("PRIVMSG carol :private r6")
    await expect(carol, "PRIVMSG", "bob")
    await history(carol, "CHATHISTORY LATEST bob * 10", 1)
    since, until = "timestamp=2000-01-01T00:00:00.000Z", "timestamp=2100-01-01T00:00:00.000Z"
    await carol.send(f"CHATHISTORY TARGETS {since} {until} 10")
    targets = [m.params[1] for m in await carol.sync() if m.command == "CHATHISTORY"]
    assert sorted(targets) == [RANGES, "bob"]


async def test_chathistory_gives_lines_of_two_nodes_in_the_order_they_were_heard(
    net: Net,
) -> None:
    caps = ("draft/chathistory", "batch", "server-time")
    alice = await net.user("a", "alice")
    bob = await net.user("b", "bob")
    carol = await net.user("c", "carol", *caps)
    await net.join(BURST, alice, bob, carol)
    count = 40  # long bursts: each node sends a batch while the other's is in flight
    await asyncio.gather(
        alice.send(*(f"PRIVMSG {BURST} :a{k}" for k in range(count))),
        bob.send(*(f"PRIVMSG {BURST} :b{k}" for k in range(count))),
    )
    heard: list[str] = []
    times: list[str] = []
    async with asyncio.timeout(WAIT):
        while len(heard) < 2 * count:
            message = await carol.read(WAIT)
            assert message is not None
            if message.command == "PRIVMSG":
                heard.append(message.params[-1])
                times.append(message.tags["time"])
    # Each node times its own lines, but nobody's server-time goes back: a line heard
    # after one its node's clock put later is moved past it (core/stamps.py).
    assert times == sorted(times)
    stored = await history(carol, f"CHATHISTORY LATEST {BURST} * 100", 2 * count)
    assert [m.params[-1] for m in stored] == heard


async def test_chathistory_holds_a_line_from_another_node_as_soon_as_it_is_heard(
    net: Net,
) -> None:
    alice = await net.user("a", "alice", "draft/chathistory", "batch")
    bob = await net.user("b", "bob")
    await net.join(FRESH, alice, bob)
    answers = []
    for number in range(6):  # each asked alone: a store quick once may not be six times
        await bob.send(f"PRIVMSG {FRESH} :fresh {number}")
        await expect(alice, "PRIVMSG", "bob")
        await alice.send(f"CHATHISTORY LATEST {FRESH} * 1")
        answers.append([m.params[-1] for m in await alice.sync() if m.command == "PRIVMSG"])
    assert answers == [[f"fresh {number}"] for number in range(6)]


async def test_redact_of_a_private_message_reaches_its_target_on_another_node(
    net: Net,
) -> None:
    caps = ("draft/message-redaction", "message-tags", "echo-message")
    alice = await net.user("a", "alice", *caps)
    bob = await net.user("b", "bob", *caps)
    await bob.send("PRIVMSG alice :regret this")
    msgid = (await expect(bob, "PRIVMSG", "bob")).tags["msgid"]
    assert (await expect(alice, "PRIVMSG", "bob")).tags["msgid"] == msgid
    await bob.send(f"REDACT alice {msgid} :sorry")
    assert (await expect(alice, "REDACT", "bob")).params == ("alice", msgid, "sorry")


async def test_markread_on_one_node_reaches_the_same_account_on_another(net: Net) -> None:
    mara = await net.user("a", "mara", "draft/read-marker", "server-time", account=True)
    other = await net.user("b", "mara2", "draft/read-marker", "server-time")
    await other.send(f"PRIVMSG NickServ :IDENTIFY mara {PASSWORD}")
    await other.read_until(n.RPL_LOGGEDIN, seconds=WAIT)
    await net.join(CHAN, mara, other)
    stamp = "2026-01-02T03:04:05.678Z"
    await mara.send(f"MARKREAD {CHAN} timestamp={stamp}")
    assert (await expect(mara, "MARKREAD")).params == (CHAN, f"timestamp={stamp}")
    assert (await expect(other, "MARKREAD")).params == (CHAN, f"timestamp={stamp}")
    asked = await reply(other, f"MARKREAD {CHAN}", "MARKREAD")
    assert asked[-1].params == (CHAN, f"timestamp={stamp}")


async def test_multiline_batch_from_one_node_arrives_whole_on_another(net: Net) -> None:
    caps = ("draft/multiline", "batch", "message-tags")
    alice = await net.user("a", "alice", *caps)
    bob = await net.user("b", "bob", *caps)
    carol = await net.user("c", "carol")
    await net.join(CHAN, alice, bob, carol)
    await alice.send(
        f"BATCH +ml draft/multiline {CHAN}",
        f"@batch=ml PRIVMSG {CHAN} :first",
        f"@batch=ml PRIVMSG {CHAN} :second",
        "BATCH -ml",
    )
    lines = await bob.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-", WAIT)
    assert [m.params[-1] for m in lines if m.command == "PRIVMSG"] == ["first", "second"]
    plain = [await expect(carol, "PRIVMSG", "alice") for _ in range(2)]
    assert [m.params[-1] for m in plain] == ["first", "second"]


# -- operators and services -------------------------------------------------------------


async def test_kill_by_an_operator_on_another_node_is_seen_everywhere(net: Net) -> None:
    root = await net.user("a", "root")
    victim = await net.user("b", "victim")
    carol = await net.user("c", "carol")
    await net.join(CHAN, root, victim, carol)
    await oper(root)
    await root.send("KILL victim :enough")
    assert "Killed (root (enough))" in (await expect(victim, "ERROR")).params[-1]
    assert (await expect(carol, "QUIT", "victim")).params == ("Killed (root (enough))",)
    await net.settle(carol)
    whois = await reply(carol, "WHOIS victim", n.RPL_ENDOFWHOIS)
    assert n.ERR_NOSUCHNICK in [m.command for m in whois]


async def test_wallops_from_an_operator_reach_plus_w_users_on_other_nodes(net: Net) -> None:
    root = await net.user("a", "root")
    bob = await net.user("b", "bob")
    await bob.send("MODE bob +w")
    await expect(bob, "MODE", "bob")
    await oper(root)
    await root.send("WALLOPS :hear ye")
    assert (await expect(bob, "WALLOPS", "root")).params == ("hear ye",)


async def test_kline_by_an_operator_on_one_node_disconnects_its_user_on_another(
    net: Net,
) -> None:
    root = await net.user("a", "root")
    mallory = await net.user("b", "mallory")
    carol = await net.user("c", "carol")
    await net.join(CHAN, mallory, carol)
    await oper(root)
    await root.send("KLINE 10 ~mallory@127.0.0.1 :go away")
    told = await expect(root, "NOTICE")
    assert told.params[-1] == (
        "*** K-line set: ~mallory@127.0.0.1 (10 minutes left, by root (root)): go away;"
        " 1 user disconnected"
    )
    error = await expect(mallory, "ERROR")
    assert error.params == ("Closing link: (~mallory@127.0.0.1) [K-Lined]",)
    assert (await expect(carol, "QUIT", "mallory")).params == ("K-Lined",)
    await root.send("UNKLINE ~mallory@127.0.0.1")
    await root.read_until(lambda m: m.params[-1].endswith("lifted."), WAIT)


async def test_kline_and_unkline_on_one_node_hold_at_once_for_connections_to_another(
    net: Net,
) -> None:
    root = await net.user("a", "root")
    opal = await net.user("c", "opal")
    bea = await net.user("b", "bea")
    for operator in (root, opal):
        await oper(operator)
    await root.send("KLINE 10 ~trudy@127.0.0.1 :go away")
    await root.read_until(lambda m: m.params[-1] == "*** It covers no one online now.", WAIT)
    # Node c holds the ban once it has applied what came before now (the ban's fact).
    await net.settle(opal)
    refused = await net.connect("c")
    await refused.send("NICK trudy", "USER trudy 0 * :Real trudy")
    answer = await refused.read_until(
        lambda m: m.command in (n.RPL_WELCOME, n.ERR_YOUREBANNEDCREEP)
    )
    assert (answer[-1].command, answer[-1].params[-1]) == (
        n.ERR_YOUREBANNEDCREEP,
        "You are banned from this server: go away",
    )
    stats = await reply(opal, "STATS K", n.RPL_ENDOFSTATS)
    listed = [m.params[1:5] for m in stats if m.command == n.RPL_STATSKLINE]
    assert ("K", "127.0.0.1", "*", "~trudy") in listed
    await opal.send("UNKLINE ~trudy@127.0.0.1")
    lifted = await expect(opal, "NOTICE")
    assert lifted.params[-1] == "*** K-line on ~trudy@127.0.0.1 lifted."
    await net.settle(bea)
    admitted = await net.connect("b")
    await admitted.send("NICK trudy", "USER trudy 0 * :Real trudy")
    answer = await admitted.read_until(
        lambda m: m.command in (n.RPL_WELCOME, n.ERR_YOUREBANNEDCREEP)
    )
    assert answer[-1].command == n.RPL_WELCOME


async def refusal(port: int, address: str) -> list[Message]:
    """What a new connection from ``address`` (another loopback address) is told before
    it says anything: a refused one is closed at once with an ERROR; one let in is told
    nothing (within a second)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, local_addr=(address, 0), limit=1 << 20
    )
    client = Client(reader, writer)
    try:
        with contextlib.suppress(TimeoutError):
            said = await client.read(seconds=1)
            return [said] if said is not None else []
        return []
    finally:
        await client.close()


async def test_an_address_has_one_allowance_of_connections_across_the_nodes(net: Net) -> None:
    held = []
    for node in "ab"[:PER_ADDRESS]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", net.ports[node], local_addr=("127.0.0.4", 0), limit=1 << 20
        )
        held.append(await register(Client(reader, writer), f"many{node}"))
        net.clients.append(held[-1])
    await net.settle(*held)
    answer = await refusal(net.ports["c"], "127.0.0.4")
    assert [(m.command, m.params) for m in answer] == [
        ("ERROR", ("Too many connections from your address",))
    ]


async def test_dline_by_an_operator_on_one_node_disconnects_its_users_on_another(
    net: Net,
) -> None:
    root = await net.user("a", "root")
    await oper(root)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", net.ports["b"], local_addr=("127.0.0.3", 0), limit=1 << 20
    )
    remote = await register(Client(reader, writer), "remote")
    net.clients.append(remote)
    await net.settle(root)
    await root.send("DLINE 10 127.0.0.3 :that network")
    told = await expect(root, "NOTICE")
    assert told.params[-1].endswith("that network; 1 user disconnected")
    error = await expect(remote, "ERROR")
    assert error.params == ("Closing link: (~remote@127.0.0.3) [D-Lined]",)
    await root.send("UNDLINE 127.0.0.3")
    await root.read_until(lambda m: m.params[-1].endswith("lifted."), WAIT)


async def test_dline_on_one_node_refuses_that_address_at_once_on_another(net: Net) -> None:
    root = await net.user("a", "root")
    others = [await net.user(node, f"watch{node}") for node in "bc"]
    await oper(root)
    await root.send("DLINE 10 127.0.0.2 :not from there")
    await root.read_until(lambda m: m.params[-1] == "*** It covers no one online now.", WAIT)
    await net.settle(*others)  # each node has applied the ban's fact
    for node in "bc":
        answer = await refusal(net.ports[node], "127.0.0.2")
        assert [(m.command, m.params) for m in answer] == [
            ("ERROR", ("You are banned from this server: not from there",))
        ], node
    await root.send("UNDLINE 127.0.0.2")
    await root.read_until(lambda m: m.params[-1].endswith("lifted."), WAIT)


async def test_nickserv_account_registered_on_one_node_logs_in_on_another(net: Net) -> None:
    await net.user("a", "nora", account=True)
    other = await net.user("c", "someone")
    await net.settle(other)
    await other.send("PRIVMSG NickServ :INFO nora")
    info = await expect(other, "NOTICE", "NickServ")
    assert "nora" in info.params[-1]
    assert "not registered" not in info.params[-1]
    await other.send(f"PRIVMSG NickServ :IDENTIFY nora {PASSWORD}")
    assert (await other.read_until(n.RPL_LOGGEDIN, WAIT))[-1].params[2] == "nora"


async def test_sasl_logs_in_on_one_node_to_an_account_made_on_another(net: Net) -> None:
    await net.user("a", "sasha", account=True)
    client = await net.connect("c")
    await client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    await client.read_until(lambda m: m.command == "AUTHENTICATE")
    secret = base64.b64encode(f"\0sasha\0{PASSWORD}".encode()).decode()
    await client.send(f"AUTHENTICATE {secret}")
    done = await client.read_until(n.RPL_SASLSUCCESS, WAIT)
    assert only(done, n.RPL_LOGGEDIN)[0][1] == "sasha"


async def test_chanserv_access_added_on_one_node_gives_voice_on_another(net: Net) -> None:
    owner = await net.user("a", "fiona", account=True)
    guest = await net.user("b", "gus", account=True)
    await net.join(ACCESS, owner)
    await owner.send(f"PRIVMSG ChanServ :REGISTER {ACCESS}")
    await expect(owner, "NOTICE", "ChanServ")
    await owner.send(f"PRIVMSG ChanServ :ACCESS {ACCESS} ADD gus voice")
    added = await expect(owner, "NOTICE", "ChanServ")
    assert "gus" in added.params[-1]
    await net.settle(guest)
    await guest.send(f"JOIN {ACCESS}")
    voiced = await expect(owner, "MODE")
    assert ((voiced.source or "").split("!")[0], voiced.params) == (
        "ChanServ",
        (ACCESS, "+v", "gus"),
    )


async def test_read_marker_set_on_one_node_is_sent_on_join_on_another(net: Net) -> None:
    first = await net.user("a", "mira", "draft/read-marker", account=True)
    await net.join(MARKED, first)
    stamp = "2026-02-03T04:05:06.789Z"
    await first.send(f"MARKREAD {MARKED} timestamp={stamp}")
    await net.settle(first)
    second = await net.user("c", "mira2", "draft/read-marker")
    await second.send(f"PRIVMSG NickServ :IDENTIFY mira {PASSWORD}")
    await second.read_until(n.RPL_LOGGEDIN, seconds=WAIT)
    await net.settle(second)
    joined = await reply(second, f"JOIN {MARKED}", n.RPL_ENDOFNAMES)
    joined += await second.sync()
    assert [m.params for m in joined if m.command == "MARKREAD"] == [
        (MARKED, f"timestamp={stamp}")
    ]


async def test_a_password_changed_on_one_node_is_the_one_asked_on_another(net: Net) -> None:
    owner = await net.user("a", "penny", account=True)
    await owner.send("PRIVMSG NickServ :PASSWORD n3w-secret-enough")
    changed = await expect(owner, "NOTICE", "NickServ")
    assert "changed" in changed.params[-1].lower()
    other = await net.user("b", "penny2")
    await other.send(f"PRIVMSG NickServ :IDENTIFY penny {PASSWORD}")
    refused = await expect(other, "NOTICE", "NickServ")
    assert refused.params[-1] == "Invalid account name or password"
    await other.send("PRIVMSG NickServ :IDENTIFY penny n3w-secret-enough")
    assert (await other.read_until(n.RPL_LOGGEDIN, WAIT))[-1].params[2] == "penny"


async def test_whowas_remembers_a_nick_left_on_another_node(net: Net) -> None:
    victor = await net.user("a", "victor")
    await victor.send("NICK vic")
    await expect(victor, "NICK", "victor")
    carol = await net.user("c", "carol")
    await net.settle(carol)
    was = await reply(carol, "WHOWAS victor", n.RPL_ENDOFWHOWAS)
    assert only(was, n.RPL_WHOWASUSER) == [("victor", "~victor", "127.0.0.1", "*", "Real victor")]


async def test_chanserv_registration_on_one_node_gives_op_on_another(net: Net) -> None:
    cheryl = await net.user("a", "cheryl", account=True)
    await net.join(KEPT, cheryl)
    await cheryl.send(f"PRIVMSG ChanServ :REGISTER {KEPT}")
    told = await expect(cheryl, "NOTICE", "ChanServ")
    assert told.params[-1] == f"{KEPT} is registered to cheryl."
    await cheryl.send(f"PART {KEPT}")
    await expect(cheryl, "PART", "cheryl")
    bob = await net.user("b", "bob")
    await net.join(KEPT, bob)
    again = await net.user("c", "cheryl2")
    await again.send(f"PRIVMSG NickServ :IDENTIFY cheryl {PASSWORD}")
    await again.read_until(n.RPL_LOGGEDIN, WAIT)
    await again.send(f"JOIN {KEPT}")
    await again.read_until(n.RPL_ENDOFNAMES, WAIT)
    # Its founder gets the operator status from ChanServ, as bob on b sees.
    assert (await expect(bob, "JOIN", "cheryl2")).params == (KEPT,)
    opped = await expect(bob, "MODE")
    assert ((opped.source or "").split("!")[0], opped.params) == (
        "ChanServ",
        (KEPT, "+o", "cheryl2"),
    )


async def test_a_device_on_another_node_is_one_more_device_of_the_same_user(net: Net) -> None:
    laptop = await net.user("a", "devon", account=True)
    bob = await net.user("c", "bob")
    await net.join(DEVICES, laptop, bob)
    phone = await net.connect("b")
    secret = base64.b64encode(f"\0devon@phone\0{PASSWORD}".encode()).decode()
    await phone.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    await phone.read_until(lambda m: m.command == "AUTHENTICATE")
    await phone.send(f"AUTHENTICATE {secret}", "NICK devon", "USER d 0 * :D", "CAP END")
    burst = await phone.read_until(n.RPL_ENDOFNAMES, WAIT)
    phone.nick = "devon"
    assert [m.params[0] for m in burst if m.command == n.RPL_WELCOME] == ["devon"]
    assert [m.params for m in burst if m.command == "JOIN"] == [(DEVICES,)]
    assert {name.lstrip("@") for name in names_of(burst)} == {"devon", "bob"}
    await net.settle(laptop, bob)  # every node knows of the phone
    await bob.send(f"PRIVMSG {DEVICES} :to both")
    for device in (laptop, phone):
        assert (await expect(device, "PRIVMSG", "bob")).params == (DEVICES, "to both")
    await phone.send(f"PRIVMSG {DEVICES} :from the phone")
    assert (await expect(laptop, "PRIVMSG", "devon")).params == (DEVICES, "from the phone")
    assert (await expect(bob, "PRIVMSG", "devon")).params == (DEVICES, "from the phone")
    # The phone leaving, then the laptop: bob sees one user, which quits once.
    await phone.send("QUIT :phone off")
    await phone.closed(WAIT)
    await laptop.send(f"PRIVMSG {DEVICES} :still here")
    heard = await bob.read_until(lambda m: m.params[-1:] == ("still here",), WAIT)
    assert [m for m in heard if m.command in ("JOIN", "QUIT", "NICK")] == []
    await laptop.send("QUIT :laptop off")
    quit_seen = await expect(bob, "QUIT", "devon")
    assert quit_seen.params == ("Quit: laptop off",)
