"""``hubbub serve --cluster``: nodes as processes, on a real NATS and a real PostgreSQL,
with IRC clients over real sockets (issue 16)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.conftest import ServeProcess, ServeProcesses
from tests.helpers import LineClient
from tests.integration.test_metrics import scrape
from tests.nats_server import NatsServer
from tests.test_cli import free_port

CHAN = "#room"
PASSWORD = "s3cret-enough"


def node_flags(tmp_path: Path, name: str, nats_url: str, database_url: str) -> list[str]:
    return [
        *("--host", "127.0.0.1", "--port", "0", "--no-plain", "--no-web"),
        *("--data-dir", str(tmp_path / name), "--server-name", "irc.cluster.test"),
        *("--log-level", "info", "--cluster", nats_url, "--node", name),
        *("--database-url", database_url),
    ]


class Cluster:
    """Serve processes as nodes of one cluster: one NATS, one PostgreSQL."""

    def __init__(
        self, processes: ServeProcesses, tmp_path: Path, nats: NatsServer, database: str
    ) -> None:
        self.processes = processes
        self.tmp_path = tmp_path
        self.nats = nats
        self.database = database

    async def node(self, name: str, *extra: str) -> tuple[ServeProcess, int]:
        """A node named ``name`` (and its IRC port) once it has joined."""
        flags = node_flags(self.tmp_path, name, self.nats.url, self.database)
        node = await self.processes.start(*flags, *extra)
        await node.wait_for_log(f"node {name} joined")
        return node, await node.port()


@pytest.fixture
def cluster(
    tmp_path: Path, serve_processes: ServeProcesses, nats_server: NatsServer, postgres_url: str
) -> Cluster:
    return Cluster(serve_processes, tmp_path, nats_server, postgres_url)


async def with_account(client: LineClient, nick: str, password: str = PASSWORD) -> None:
    """Register as ``nick`` and register an account of that name with NickServ."""
    await client.register(nick)
    await client.send(f"PRIVMSG NickServ :REGISTER {password}")
    await client.read_until(n.RPL_LOGGEDIN, seconds=10)


def said(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "PRIVMSG"]


async def test_clients_of_two_serve_nodes_chat_as_one_network(cluster: Cluster) -> None:
    node_a, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await alice.register("alice")
        await bob.register("bob")
        # A nick held on one node is refused on the other.
        mallory = await LineClient.open(port_b)
        await mallory.send("NICK alice", "USER m 0 * :M")
        assert (await mallory.read_until(n.ERR_NICKNAMEINUSE))[-1].params[1] == "alice"
        await mallory.close()

        await alice.send(f"JOIN {CHAN}")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await bob.send(f"JOIN {CHAN}")
        names = await bob.read_until(n.RPL_ENDOFNAMES)
        listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
        assert set(listed.replace("@", "").split()) == {"alice", "bob"}
        await alice.read_until(
            lambda m: m.command == "JOIN" and (m.source or "").startswith("bob!")
        )

        for number in range(5):
            await alice.send(f"PRIVMSG {CHAN} :from a {number}")
        heard = await bob.read_until(lambda m: m.params[-1:] == ("from a 4",), seconds=10)
        assert said(heard) == [f"from a {number}" for number in range(5)]
        await bob.send("PRIVMSG alice :from b, privately")
        heard = await alice.read_until("PRIVMSG", seconds=10)
        assert heard[-1].params == ("alice", "from b, privately")
        assert (heard[-1].source or "").startswith("bob!")

        await bob.send("WHOIS alice")
        whois = await bob.read_until(n.RPL_ENDOFWHOIS)
        assert [m.params[1] for m in whois if m.command == n.RPL_WHOISUSER] == ["alice"]

        # History is written once, by the node it was said on, to the shared database:
        # node b reads it there (once a's writer has stored it: asked again until then).
        replayed: list[str] = []
        async with asyncio.timeout(10):
            while len(replayed) < 5:
                await bob.send(f"CHATHISTORY LATEST {CHAN} * 10")
                replayed = said(await bob.sync())
        assert replayed == [f"from a {number}" for number in range(5)]

        await alice.send("QUIT :done")
        quit_seen = await bob.read_until("QUIT", seconds=10)
        assert (quit_seen[-1].source or "").startswith("alice!")
        assert quit_seen[-1].params == ("Quit: done",)
    finally:
        await alice.close()
        await bob.close()
    node_a.signal(signal.SIGTERM)
    assert await node_a.exit_code() == 0


async def test_the_users_of_a_killed_node_quit_everywhere_and_their_nicks_are_free(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    node_b, port_b = await cluster.node("b")
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await alice.register("alice")
        await bob.register("bob")
        await alice.send(f"JOIN {CHAN}")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await bob.send(f"JOIN {CHAN}")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await alice.read_until("JOIN", seconds=10)
        node_b.signal(signal.SIGKILL)
        # Its heartbeat stops: within node_timeout (3 s) and a beat, a says it is lost.
        quit_seen = await alice.read_until("QUIT", seconds=15)
        assert (quit_seen[-1].source or "").startswith("bob!")
        assert quit_seen[-1].params == ("Node lost",)
        again = await LineClient.open(port_a)
        welcome = await again.register("bob")
        assert welcome[0].command == n.RPL_WELCOME
        await again.close()
        # b started again is a new run, which reads the log: the killed run stays gone.
        _, port_b = await cluster.node("b")
        carol = await LineClient.open(port_b)
        await carol.register("carol")
        await carol.send(f"JOIN {CHAN}")
        names = await carol.read_until(n.RPL_ENDOFNAMES)
        listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
        assert set(listed.replace("@", "").split()) == {"alice", "carol"}
        await carol.close()
    finally:
        await alice.close()
        await bob.close()


async def test_a_nats_outage_longer_than_the_node_timeout_loses_nobody(cluster: Cluster) -> None:
    # Every node hears nobody while NATS is away: none may take that for the others'
    # deaths, or every user would be quit everywhere once NATS is back.
    _, port_a = await cluster.node("a")
    node_b, port_b = await cluster.node("b")
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await alice.register("alice")
        await bob.register("bob")
        await alice.send(f"JOIN {CHAN}")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await bob.send(f"JOIN {CHAN}")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await alice.read_until("JOIN", seconds=10)
        cluster.nats.halt()
        await node_b.wait_for_log("lost NATS")
        # Each node's users are told that the rest of the network is gone, and back.
        lost = await bob.read_until("NOTICE", seconds=10)
        assert lost[-1].params[-1].startswith("This server lost the rest of the network")
        # Twice the node timeout, on the nodes' own clocks: their checks run meanwhile.
        await asyncio.sleep(6)
        cluster.nats.resume()
        await node_b.wait_for_log("NATS is back", seconds=30)
        back = await bob.read_until("NOTICE", seconds=10)
        assert back[-1].params[-1].startswith("The network is back")
        assert [m.params[-1] for m in back if m.command == "NOTICE"][:-1] == []
        await bob.send(f"PRIVMSG {CHAN} :still here")
        heard = await alice.read_until("PRIVMSG", seconds=15)
        assert [m.command for m in heard if m.command == "QUIT"] == []
        assert heard[-1].params == (CHAN, "still here")
    finally:
        await alice.close()
        await bob.close()


async def test_a_channel_registered_on_one_node_is_registered_on_the_other(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await with_account(alice, "alice")
        await alice.send(f"JOIN {CHAN}")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await alice.send(f"PRIVMSG ChanServ :REGISTER {CHAN}")
        told = await alice.read_until("NOTICE", seconds=10)
        assert told[-1].params[-1] == f"{CHAN} is registered to alice."
        await bob.register("bob")
        for _ in range(50):  # until b has applied the registration (bounded)
            await bob.send(f"PRIVMSG ChanServ :INFO {CHAN}")
            info = await bob.read_until("NOTICE", seconds=10)
            if not info[-1].params[-1].endswith("is not registered."):
                break
        assert info[-1].params[-1].startswith(f"{CHAN}: founder alice, registered ")
        # Its topic, set on a, reaches b through the log (the store is written once, by a).
        await alice.send(f"TOPIC {CHAN} :kept across nodes")
        await alice.read_until("TOPIC", seconds=10)
        await bob.send(f"JOIN {CHAN}")
        joined = await bob.read_until(n.RPL_ENDOFNAMES, seconds=10)
        assert [m.params[-1] for m in joined if m.command == n.RPL_TOPIC] == ["kept across nodes"]
        # Registering it again on b is refused there, as on a.
        await bob.send("PRIVMSG NickServ :REGISTER another-s3cret")
        await bob.read_until(lambda m: m.command == "NOTICE" and "registered" in m.params[-1])
        await bob.send(f"PRIVMSG ChanServ :REGISTER {CHAN}")
        refused = await bob.read_until("NOTICE", seconds=10)
        assert refused[-1].params[-1].startswith(f"Cannot do that on {CHAN}")
    finally:
        await alice.close()
        await bob.close()


async def test_a_node_that_cannot_reach_nats_says_so_and_exits(
    tmp_path: Path, serve_processes: ServeProcesses, postgres_url: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"nats://127.0.0.1:{closed.getsockname()[1]}"
        node = await serve_processes.start(*node_flags(tmp_path, "a", url, postgres_url))
        assert await node.exit_code() == 1
    assert any("cannot join the cluster" in line and url in line for line in node.log)


async def test_nodes_of_a_cluster_must_share_a_postgresql(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    # Each node's own SQLite file would keep accounts and history apart.
    node = await serve_processes.start(
        "--port", "0", "--cluster", "nats://127.0.0.1:4222", "--data-dir", str(tmp_path)
    )
    assert await node.exit_code() == 2
    assert any("share one PostgreSQL" in line for line in node.log)


async def test_ghost_and_kill_close_the_connection_on_the_other_node(cluster: Cluster) -> None:
    # The order is given on one node and the victim's connection is on the other: applying
    # the forced quit there must close it, else it would go on speaking under a nick that
    # the network gave back (probe 14).
    _, port_a = await cluster.node("a", "--oper", "root:r00t-pass")
    _, port_b = await cluster.node("b")
    alice, mallory = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await with_account(alice, "alice")
        await alice.send("NICK alice_")
        await alice.read_until("NICK", seconds=10)
        # Node b frees the nick once it has applied the change: until then, 433.
        await mallory.send("NICK alice", "USER m 0 * :M")
        async with asyncio.timeout(10):
            while (await mallory.read_until(lambda m: m.command in ("001", "433")))[
                -1
            ].command == "433":
                await mallory.send("NICK alice")
        await mallory.read_until(n.RPL_ENDOFMOTD)
        await alice.send("PRIVMSG NickServ :GHOST alice")
        told = await alice.read_until("NOTICE", seconds=10)
        assert told[-1].params[-1] == "alice has been disconnected."
        error = await mallory.read_until("ERROR", seconds=10)
        assert "GHOST command used by alice_" in error[-1].params[-1]
        assert await mallory.closed(seconds=10)
        await alice.send("NICK alice")
        renamed = await alice.read_until("NICK", seconds=10)
        assert renamed[-1].params == ("alice",)

        victim = await LineClient.open(port_b)
        await victim.register("victim")
        await alice.send("OPER root r00t-pass")
        await alice.read_until(n.RPL_YOUREOPER)
        await alice.send("KILL victim :enough")
        error = await victim.read_until("ERROR", seconds=10)
        assert "Killed (alice (enough))" in error[-1].params[-1]
        assert await victim.closed(seconds=10)
        await victim.close()
        await alice.send("WHOIS victim")
        whois = await alice.read_until(n.RPL_ENDOFWHOIS)
        assert n.ERR_NOSUCHNICK in [m.command for m in whois]
    finally:
        await alice.close()
        await mallory.close()


async def test_an_account_dropped_on_one_node_is_logged_out_on_the_other_at_once(
    cluster: Cluster,
) -> None:
    # Probe 14: the other node noticed a drop only at its next check of the store (30 s):
    # its connections stayed logged in, and a login racing the drop got in.
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    alice, other, bob = [await LineClient.open(p) for p in (port_a, port_b, port_b)]
    try:
        await with_account(alice, "alice")
        await other.register("alice2")
        await other.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
        await other.read_until(n.RPL_LOGGEDIN, seconds=10)
        await bob.send("CAP REQ :account-notify")
        await bob.read_until("CAP")
        await bob.send("CAP END")
        await bob.register("bob")
        for client in (other, bob):
            await client.send(f"JOIN {CHAN}")
            await client.read_until(n.RPL_ENDOFNAMES, seconds=10)
        await alice.send(f"PRIVMSG NickServ :DROP {PASSWORD}")
        told = await alice.read_until("NOTICE", seconds=10)
        assert told[-1].params[-1] == "Account alice dropped."
        logged_out = await bob.read_until("ACCOUNT", seconds=5)
        assert (logged_out[-1].source or "").startswith("alice2!")
        assert logged_out[-1].params == ("*",)
        await other.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
        refused = await other.read_until("NOTICE", seconds=10)
        assert refused[-1].params[-1] == "Invalid account name or password"
    finally:
        for client in (alice, other, bob):
            await client.close()


async def test_three_nodes_see_every_message_and_change_in_one_order(cluster: Cluster) -> None:
    # Many senders on three nodes at once: the stream puts their facts in one order,
    # and every client, its own echoes included, sees that order (docs/design/cluster.md).
    ports = [(await cluster.node(name))[1] for name in ("a", "b", "c")]
    clients = [await LineClient.open(port) for port in ports]
    try:
        for number, client in enumerate(clients):
            await client.send("CAP REQ :echo-message", "CAP END")
            await client.register(f"user{number}")
            await client.send(f"JOIN {CHAN}")
            await client.read_until(n.RPL_ENDOFNAMES, seconds=10)
        await clients[0].send(f"MODE {CHAN} -t")  # everyone may set the topic
        for client in clients:  # each knows every member before the traffic begins
            await client.read_until("MODE", seconds=10)
            await client.send(f"NAMES {CHAN}")
            async with asyncio.timeout(10):
                while True:
                    names = await client.read_until(n.RPL_ENDOFNAMES)
                    listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
                    if len(listed.split()) == 3:
                        break
                    await client.send(f"NAMES {CHAN}")
        count = 30

        async def talk(number: int, client: LineClient) -> None:
            for k in range(count):
                await client.send(f"PRIVMSG {CHAN} :{number}.{k}")
                if k == count // 2:
                    await client.send(f"TOPIC {CHAN} :topic by {number}")

        await asyncio.gather(*(talk(number, client) for number, client in enumerate(clients)))
        last = 3 * count + 3  # every message and topic, each client's own echoed
        orders = []
        for client in clients:
            seen: list[str] = []
            async with asyncio.timeout(20):
                while len(seen) < last:
                    message = await client.read()
                    assert message is not None
                    if message.command in ("PRIVMSG", "TOPIC"):
                        seen.append(f"{message.command} {message.params[-1]}")
            orders.append(seen)
        assert orders[0] == orders[1] == orders[2]
        for number in range(3):  # and each sender's own in the order it sent them
            own = [s for s in orders[0] if s.startswith(f"PRIVMSG {number}.")]
            assert own == [f"PRIVMSG {number}.{k}" for k in range(count)]
    finally:
        for client in clients:
            await client.close()


async def hubbub(*args: str) -> tuple[int, str, str]:
    """Run the ``hubbub`` command; its exit status, output and errors."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubbub",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cluster_status_lists_the_nodes_their_users_and_the_log(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")
    await cluster.node("b")
    alice = await LineClient.open(port_a)
    try:
        await alice.register("alice")
        code, out, _ = await hubbub("cluster", "status", "--cluster", cluster.nats.url)
    finally:
        await alice.close()
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("log: ")
    assert lines[1].split() == ["node", "run", "users", "applied", "behind", "heard"]
    rows = {line.split()[0]: line.split() for line in lines[2:-1]}
    assert sorted(rows) == ["a", "b"]
    assert rows["a"][2] == "1"
    assert rows["b"][2] == "0"
    assert lines[-1] == "2 nodes, 1 users"


async def test_cluster_status_without_nats_or_a_cluster_says_so() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"nats://127.0.0.1:{closed.getsockname()[1]}"
        code, _, err = await hubbub("cluster", "status", "--cluster", url)
    assert code == 1
    assert f"cannot reach NATS at {url}" in err
    code, _, err = await hubbub("cluster", "status")
    assert code == 2
    assert "no cluster is configured" in err


async def test_an_account_registered_on_one_node_is_guarded_on_the_other(
    cluster: Cluster,
) -> None:
    # Probe 15: each node knew only the accounts made on it (and at start): one made on
    # a was not guarded on b, and one dropped on a stayed taken on b.
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    pearl = await LineClient.open(port_a)
    try:
        await with_account(pearl, "pearl")
        await pearl.send("NICK pearl_")
        await pearl.read_until("NICK", seconds=10)
        squatter = await LineClient.open(port_b)
        await squatter.register("pearl")
        warned = await squatter.read_until("NOTICE", seconds=10)
        assert warned[-1].params[-1].startswith("pearl is a registered nick.")
        await squatter.close()
        await pearl.send(f"PRIVMSG NickServ :DROP {PASSWORD}")
        await pearl.read_until("NOTICE", seconds=10)
        other = await LineClient.open(port_b)
        await other.register("someone")
        await other.send("PRIVMSG NickServ :REGISTER an0ther-secret")
        told = await other.read_until(n.RPL_LOGGEDIN, seconds=10)
        assert told[-1].params[2] == "someone"
        await other.send("NICK pearl")
        renamed = await other.read_until("NICK", seconds=10)
        assert renamed[-1].params == ("pearl",)
        assert not [m for m in await other.sync() if m.command == "NOTICE"]
        await other.close()
    finally:
        await pearl.close()


async def test_a_node_started_later_begins_at_a_snapshot_of_the_network(
    cluster: Cluster,
) -> None:
    config = cluster.tmp_path / "snapshots.toml"
    config.write_text("[cluster]\nsnapshot_every = 10\n")
    node_a, port_a = await cluster.node("a", "--config", str(config))
    alice = await LineClient.open(port_a)
    try:
        await alice.register("alice")
        await alice.send(f"JOIN {CHAN}", f"TOPIC {CHAN} :kept in a snapshot")
        await alice.read_until("TOPIC")
        for number in range(25):
            await alice.send(f"PRIVMSG {CHAN} :line {number}")
        await alice.send("PING :done")
        await alice.read_until("PONG", seconds=10)
        await node_a.wait_for_log("snapshot at 20 kept")
        node_b, port_b = await cluster.node("b", "--config", str(config))
        await node_b.wait_for_log("started from the snapshot at 20")
        carol = await LineClient.open(port_b)
        await carol.register("carol")
        await carol.send(f"JOIN {CHAN}")
        joined = await carol.read_until(n.RPL_ENDOFNAMES)
        assert [m.params[-1] for m in joined if m.command == n.RPL_TOPIC] == ["kept in a snapshot"]
        listed = " ".join(m.params[-1] for m in joined if m.command == n.RPL_NAMREPLY)
        assert set(listed.split()) == {"@alice", "carol"}
        await carol.close()
    finally:
        await alice.close()


async def test_guesses_are_counted_by_the_network_not_by_each_node(cluster: Cluster) -> None:
    # Probe 15: each node kept its own throttles, so an address had each node's
    # allowance of password guesses.
    oper = ("--oper", "admin:right-password")
    _, port_a = await cluster.node("a", *oper)
    _, port_b = await cluster.node("b", *oper)
    owner = await LineClient.open(port_a)
    on_a, on_b = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await with_account(owner, "victim")
        await on_a.register("guesser")
        await on_b.register("guesser2")
        for number in range(2):
            await on_a.send(f"OPER admin wrong{number}")
            await on_a.read_until(n.ERR_PASSWDMISMATCH)
            await on_a.send(f"PRIVMSG NickServ :IDENTIFY victim wrong{number}")
            await on_a.read_until("NOTICE")
        # Read once the node has applied what those counted (the door waits for it).
        await on_a.send("PING :counted")
        await on_a.read_until("PONG")
        await on_b.send("OPER admin wrong2", "PRIVMSG NickServ :IDENTIFY victim wrong2")
        await on_b.read_until(n.ERR_PASSWDMISMATCH)
        await on_b.read_until("NOTICE")
        # Three failures from this address on the network: the fourth must wait, on b.
        await on_b.send("OPER admin right-password")
        refused = await on_b.read_until(lambda m: m.command in (n.RPL_TRYAGAIN, n.RPL_YOUREOPER))
        assert refused[-1].command == n.RPL_TRYAGAIN
        await on_b.send(f"PRIVMSG NickServ :IDENTIFY victim {PASSWORD}")
        answer = await on_b.read_until("NOTICE")
        assert "try again in" in answer[-1].params[-1]
    finally:
        await owner.close()
        await on_a.close()
        await on_b.close()


async def test_a_nick_taken_back_on_one_node_is_held_on_the_other(cluster: Cluster) -> None:
    # The nick guards were each node's: a squatter taken back on one node took the
    # nick again at once on another, with a fresh grace.
    grace = ("--limit", "nick_grace=1")
    _, port_a = await cluster.node("a", *grace)
    _, port_b = await cluster.node("b", *grace)
    owner = await LineClient.open(port_a)
    squatter = await LineClient.open(port_a)
    elsewhere = await LineClient.open(port_b)
    try:
        await with_account(owner, "ownr")
        await owner.send("NICK other")
        await owner.read_until("NICK")
        await squatter.register("squatter")
        await squatter.send("NICK ownr")
        await squatter.read_until(lambda m: m.command == "NICK" and m.params[0] == "ownr")
        # Taken back at the end of its grace (1 s): renamed to a Guest nick.
        renamed = await squatter.read_until(
            lambda m: m.command == "NICK" and m.params[0].startswith("Guest"), seconds=10
        )
        assert renamed[-1].params[0].startswith("Guest")
        await squatter.send("PING :applied")
        await squatter.read_until("PONG")
        await elsewhere.register("elsewhere")
        await elsewhere.send("NICK ownr")
        refused = await elsewhere.read_until(n.ERR_NICKNAMEINUSE)
        assert "held" in refused[-1].params[-1]
    finally:
        await owner.close()
        await squatter.close()
        await elsewhere.close()


async def test_an_owner_renamed_away_gets_the_nick_back_by_logging_in(cluster: Cluster) -> None:
    # Probe 17: on a cluster node the give-back looked at the login before it was
    # applied, and the owner stayed a Guest.
    _, port_a = await cluster.node("a", "--limit", "nick_grace=1")
    first = await LineClient.open(port_a)
    await with_account(first, "dana")
    await first.send("QUIT")
    await first.closed()
    await first.close()
    owner = await LineClient.open(port_a)
    try:
        await owner.register("owner")
        for _ in range(50):  # until the first connection's QUIT is applied (bounded)
            await owner.send("NICK dana")
            answer = await owner.read_until(lambda m: m.command in ("NICK", n.ERR_NICKNAMEINUSE))
            if answer[-1].command == "NICK":
                break
        renamed = await owner.read_until(
            lambda m: m.command == "NICK" and m.params[0].startswith("Guest"), seconds=10
        )
        assert renamed[-1].params[0].startswith("Guest")
        await owner.send(f"PRIVMSG NickServ :IDENTIFY dana {PASSWORD}")
        back = await owner.read_until(lambda m: m.command == "NICK", seconds=10)
        assert back[-1].params == ("dana",)
    finally:
        await owner.close()


async def joined_all(client: LineClient, nicks: set[str]) -> None:
    """Until NAMES of the room lists exactly ``nicks`` (others' joins arrive later)."""
    async with asyncio.timeout(15):
        while True:
            await client.send(f"NAMES {CHAN}")
            names = await client.read_until(n.RPL_ENDOFNAMES)
            listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
            if set(listed.replace("@", "").split()) == nicks:
                return


async def test_a_node_killed_and_restarted_during_traffic_loses_nothing(
    cluster: Cluster,
) -> None:
    # Issue 16: kill -9 of a node while others talk: between the survivors nothing is
    # lost or doubled, its user finds its history from another node, and the node
    # started again (from a snapshot) catches up.
    config = cluster.tmp_path / "snapshots.toml"
    config.write_text("[cluster]\nsnapshot_every = 10\n")
    _, port_a = await cluster.node("a", "--config", str(config))
    _, port_b = await cluster.node("b", "--config", str(config))
    node_c, port_c = await cluster.node("c", "--config", str(config))
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    carol = await LineClient.open(port_c)
    try:
        await alice.register("alice")
        await bob.register("bob")
        await with_account(carol, "carol")
        for client in (alice, bob, carol):
            await client.send(f"JOIN {CHAN}")
        await joined_all(alice, {"alice", "bob", "carol"})
        await joined_all(bob, {"alice", "bob", "carol"})
        for k in range(5):
            await carol.send(f"PRIVMSG {CHAN} :carol {k}")
        # Stored by c before it dies (a kill loses what its writer had not flushed): asked
        # by a reader who joins after they were said, so that it hears them only from
        # history (a member's sync also holds them live).
        reader = await LineClient.open(port_a)
        await reader.register("reader")
        await reader.send(f"JOIN {CHAN}")
        await reader.read_until(n.RPL_ENDOFNAMES)
        stored: list[str] = []
        async with asyncio.timeout(10):
            while len(stored) < 5:
                await reader.send(f"CHATHISTORY LATEST {CHAN} * 10")
                stored = [s for s in said(await reader.sync()) if s.startswith("carol")]
        await reader.send("QUIT")
        await reader.closed()
        await reader.close()
        for member in (alice, bob):
            await member.read_until(lambda m: m.command == "QUIT" and "reader" in (m.source or ""))
        count = 40

        async def talk(client: LineClient, name: str) -> None:
            for k in range(count):
                await client.send(f"PRIVMSG {CHAN} :{name} {k}")
                if name == "alice" and k == count // 2:
                    node_c.signal(signal.SIGKILL)
                await asyncio.sleep(0)

        await asyncio.gather(talk(alice, "alice"), talk(bob, "bob"))
        for client, other in ((alice, "bob"), (bob, "alice")):
            heard: list[str] = []
            quits: list[Message] = []
            async with asyncio.timeout(20):
                while len(heard) < count or not quits:
                    message = await client.read()
                    assert message is not None
                    if message.command == "PRIVMSG" and message.params[-1].startswith(other):
                        heard.append(message.params[-1])
                    elif message.command == "QUIT":
                        quits.append(message)
            assert heard == [f"{other} {k}" for k in range(count)]
            assert [(m.source or "").split("!")[0] for m in quits] == ["carol"]
            assert quits[0].params == ("Node lost",)
        # carol comes back through another node and finds what she said.
        again = await LineClient.open(port_b)
        await again.register("carol2")
        await again.send(f"PRIVMSG NickServ :IDENTIFY carol {PASSWORD}", f"JOIN {CHAN}")
        await again.read_until(n.RPL_ENDOFNAMES, seconds=10)
        for _ in range(20):  # once the survivors' writers have stored the rest (bounded)
            await again.send(f"CHATHISTORY LATEST {CHAN} * 100")
            answer = await again.sync()
            history = said(answer)
            if len(history) == 5 + 2 * count:
                break
        assert [s for s in history if s.startswith("carol")] == [f"carol {k}" for k in range(5)], [
            (m.command, m.params[-1]) for m in answer
        ]
        assert len(history) == 5 + 2 * count
        await again.close()
        # c started again, from a snapshot and the log after it: it knows the room.
        node_c, port_c = await cluster.node("c", "--config", str(config))
        await node_c.wait_for_log("started from the snapshot")
        dave = await LineClient.open(port_c)
        await dave.register("dave")
        await dave.send(f"JOIN {CHAN}")
        await joined_all(dave, {"alice", "bob", "dave"})
        await alice.send(f"PRIVMSG {CHAN} :welcome back")
        heard_by_dave = await dave.read_until("PRIVMSG", seconds=10)
        assert heard_by_dave[-1].params == (CHAN, "welcome back")
        await dave.close()
    finally:
        await alice.close()
        await bob.close()
        await carol.close()


async def test_a_node_that_stood_still_counts_nobody_else_lost(cluster: Cluster) -> None:
    # Probe 18: a node stopped for longer than the node timeout (SIGSTOP, a long pause)
    # found everyone else silent when it went on, and told the network they were lost:
    # every user of every node was disconnected.
    _, port_a = await cluster.node("a")
    node_b, port_b = await cluster.node("b")
    alice, bob = await LineClient.open(port_a), await LineClient.open(port_b)
    try:
        await alice.register("alice")
        await bob.register("bob")
        for client in (alice, bob):
            await client.send(f"JOIN {CHAN}")
        await joined_all(alice, {"alice", "bob"})
        node_b.signal(signal.SIGSTOP)
        # a counts b lost after its timeout (3 s): bob quits for everyone.
        quit_seen = await alice.read_until("QUIT", seconds=15)
        assert (quit_seen[-1].source or "").startswith("bob!")
        node_b.signal(signal.SIGCONT)
        assert await bob.closed(10)  # b went on, and applied that its users are lost
        # Two of b's heartbeats heard since: each came with a check of the others.
        for _ in range(2):
            code, out, _ = await hubbub(
                "cluster", "status", "--cluster", cluster.nats.url, "--wait", "1.2"
            )
            assert code == 0, out
        await alice.send("PING :still")
        answer = await alice.read_until(lambda m: m.command in ("PONG", "ERROR"))
        assert answer[-1].command == "PONG", answer
        assert not [m for m in answer if m.command == "QUIT" and "alice" in (m.source or "")]
    finally:
        await alice.close()
        await bob.close()


async def test_a_node_started_again_counts_the_guesses_its_last_run_counted(
    cluster: Cluster,
) -> None:
    # Probe 18: a node skipped the counts it had published itself, by its name, and so
    # a restart gave an address a fresh allowance of guesses there.
    node_a, port_a = await cluster.node("a")
    owner = await LineClient.open(port_a)
    await with_account(owner, "victim")
    await owner.close()
    guesser = await LineClient.open(port_a)
    await guesser.register("guesser")
    for number in range(3):
        await guesser.send(f"PRIVMSG NickServ :IDENTIFY victim wrong{number}")
        await guesser.read_until("NOTICE")
    await guesser.send("PING :counted")
    await guesser.read_until("PONG")
    await guesser.close()
    node_a.signal(signal.SIGKILL)
    await node_a.exit_code()
    _, port_a = await cluster.node("a")
    again = await LineClient.open(port_a)
    try:
        await again.register("again")
        await again.send(f"PRIVMSG NickServ :IDENTIFY victim {PASSWORD}")
        answer = await again.read_until("NOTICE", seconds=10)
        assert "try again in" in answer[-1].params[-1]
    finally:
        await again.close()


async def test_each_node_tells_its_link_to_the_cluster_in_its_metrics(cluster: Cluster) -> None:
    metrics_port = free_port()
    node_a, port_a = await cluster.node("a", "--metrics-port", str(metrics_port))
    await cluster.node("b")
    alice = await LineClient.open(port_a)
    try:
        await alice.register("alice")
        await alice.send(f"JOIN {CHAN}")
        await alice.read_until("JOIN")
        async with asyncio.timeout(15):
            while True:
                samples = await scrape(metrics_port)
                if samples[("hubbub_cluster_nodes_heard", ())] == 1:
                    break
                await asyncio.sleep(0.1)  # heartbeats come every second
    finally:
        await alice.close()
    assert samples[("hubbub_cluster_node", (("node", "a"),))] == 1
    assert samples[("hubbub_cluster_reachable", ())] == 1
    # Alice's arrival and join were applied here, from the log.
    assert samples[("hubbub_cluster_applied_sequence", ())] >= 2
    assert samples[("hubbub_cluster_waiting_facts", ())] == 0
    # A node's users are its own; the network's are everyone's.
    assert samples[("hubbub_network_users", ())] == 1
    assert node_a.process.returncode is None
