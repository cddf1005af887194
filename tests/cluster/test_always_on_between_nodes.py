"""Always-on users in a cluster: a user whose last device leaves stays, kept by one
node (its home), seen on every node, replayed what it missed wherever a device attaches
again, moved to a surviving node when its home dies, and back once after restarts
(docs/cluster.md, "Always-on users between nodes"). ``hubbub serve --cluster``
processes on a real NATS and a real PostgreSQL, IRC clients over real sockets."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from hubbub.core.homes import AUTO_AWAY
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.cluster.test_devices_between_nodes import (
    CHAN,
    WAIT,
    account,
    device,
    from_,
    joined,
    said,
    saying,
    settle,
)
from tests.cluster.test_serve_cluster import PASSWORD, Cluster
from tests.cluster.test_serve_cluster import cluster as cluster  # a fixture
from tests.conftest import ServeProcess
from tests.helpers import LineClient
from tests.nats_server import NatsServer
from tests.storage.databases import query

ALWAYS_ON = ("--always-on", "opt-out")
LOST = 20.0  # seconds for a node to be counted lost (node_timeout, a beat, a busy machine)


async def watcher(port: int, nick: str = "bob") -> LineClient:
    """A client in CHAN told of its members' away changes."""
    client = await LineClient.open(port)
    await client.register(nick)
    await client.send("CAP REQ :away-notify")
    await client.read_until(lambda m: m.command == "CAP" and m.params[1] == "ACK", WAIT)
    await joined(client)
    return client


def away_of(nick: str, message: str | None) -> Callable[[Message], bool]:
    wanted = (message,) if message is not None else ()
    return lambda m: m.command == "AWAY" and from_(nick)(m) and m.params == wanted


async def leave(client: LineClient) -> None:
    await client.send("QUIT")
    await client.closed(WAIT)
    await client.close()


async def kept_by(database: str, node: str, account: str = "alice") -> None:
    """Until the shared database says ``node`` keeps the always-on user of ``account``
    (written behind, within moments): asked again until it does."""
    async with asyncio.timeout(LOST):
        while True:
            rows = await query(database, "SELECT record, node FROM always_on")
            if [r for r in rows if r["node"] == node and f'"account": "{account}"' in r["record"]]:
                return
            await asyncio.sleep(0.05)


async def names(client: LineClient, channel: str = CHAN) -> list[str]:
    await client.send(f"NAMES {channel}")
    lines = await client.read_until(n.RPL_ENDOFNAMES, WAIT)
    listed = " ".join(m.params[-1] for m in lines if m.command == n.RPL_NAMREPLY)
    return sorted(nick.lstrip("@+") for nick in listed.split())


async def who(client: LineClient, mask: str) -> list[str]:
    await client.send(f"WHO {mask}")
    lines = await client.read_until(n.RPL_ENDOFWHO, WAIT)
    return [m.params[5] for m in lines if m.command == n.RPL_WHOREPLY]


async def kept_alice(cluster: Cluster, port_a: int, bob: LineClient) -> None:
    """alice, an account's user living on a, in CHAN, kept once its one device left,
    every node knowing (bob, on any node, saw its auto-away: the home said it keeps it
    in the same breath)."""
    laptop = await account(port_a, "alice")
    await joined(laptop)
    await bob.read_until(lambda m: m.command == "JOIN" and from_("alice")(m), WAIT)
    await leave(laptop)
    await bob.read_until(away_of("alice", AUTO_AWAY), WAIT)
    await settle(bob)
    await kept_by(cluster.database, "a")


async def lost(*nodes: ServeProcess) -> None:
    """Until one of ``nodes`` says it keeps a user whose node was lost."""
    waits = [
        asyncio.ensure_future(node.wait_for_log("kept here, its node lost")) for node in nodes
    ]
    try:
        done, _ = await asyncio.wait(waits, timeout=LOST, return_when=asyncio.FIRST_COMPLETED)
        assert done, "no node kept the user of the node lost"
    finally:
        for waiting in waits:
            waiting.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


async def test_a_user_kept_on_one_node_is_seen_and_replayed_on_another(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a", *ALWAYS_ON)
    _, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    await kept_alice(cluster, port_a, bob)

    # On b, alice is in the channel, away, as on one server.
    assert await names(bob) == ["alice", "bob"]
    await bob.send("WHOIS alice")
    whois = await bob.read_until(n.RPL_ENDOFWHOIS, WAIT)
    assert [m.params[-1] for m in whois if m.command == n.RPL_AWAY] == [AUTO_AWAY]
    await bob.send(f"PRIVMSG {CHAN} :while you were out", "PRIVMSG alice :privately")
    await bob.send(f"PRIVMSG {CHAN} :last")
    await bob.sync()

    # Its device attaching on b is replayed what it missed (its channels', then its
    # private chats'), and its away ends.
    laptop, burst = await device(port_b, caps="batch server-time", until=saying("privately"))
    assert [m.params[0] for m in burst if m.command == n.RPL_WELCOME] == ["alice"]
    assert [m.params for m in burst if m.command == "JOIN"] == [(CHAN,)]
    # Not told it is away (probe 34: a 306 that no 305 followed), as on one server.
    assert n.RPL_NOWAWAY not in [m.command for m in burst]
    assert said(burst) == [
        (CHAN, "while you were out"),
        (CHAN, "last"),
        ("alice", "privately"),
    ]
    await bob.read_until(away_of("alice", None), WAIT)
    # Leaving again, from b: the user stays, kept by a, away again.
    await leave(laptop)
    await bob.read_until(away_of("alice", AUTO_AWAY), WAIT)
    await settle(bob)
    assert await names(bob) == ["alice", "bob"]
    await bob.close()


async def test_an_account_that_is_not_always_on_still_quits(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")  # always_on = "opt-in", and alice did not
    _, port_b = await cluster.node("b")
    bob = await watcher(port_b)
    laptop = await account(port_a, "alice")
    await joined(laptop)
    await laptop.send("QUIT :bye")
    quits = await bob.read_until("QUIT", WAIT)
    assert from_("alice")(quits[-1])
    assert quits[-1].params == ("Quit: bye",)
    assert await names(bob) == ["bob"]
    await laptop.close()
    await bob.close()


async def test_a_kept_user_moves_to_a_surviving_node_when_its_home_is_killed(
    cluster: Cluster,
) -> None:
    node_a, port_a = await cluster.node("a", *ALWAYS_ON)
    node_b, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    await kept_alice(cluster, port_a, bob)

    node_a.signal(signal.SIGKILL)
    await lost(node_b)
    # b keeps it now: the record says so, and nobody saw it quit.
    await kept_by(cluster.database, "b")
    await bob.send("PRIVMSG alice :after the crash")
    await settle(bob)
    assert await names(bob) == ["alice", "bob"]

    # b restarted (a still dead): alice is back once, still in the channel.
    await bob.close()
    node_b.signal(signal.SIGTERM)
    assert await node_b.exit_code(WAIT) == 0
    node_b, port_b = await cluster.node("b", *ALWAYS_ON)
    await lost(node_b)
    carol = await LineClient.open(port_b)
    await carol.register("carol")
    await joined(carol)
    assert await names(carol) == ["alice", "carol"]
    assert await who(carol, "alice") == ["alice"]
    until = saying("after the crash")
    laptop, burst = await device(port_b, caps="batch server-time", until=until)
    assert said(burst)[-1:] == [("alice", "after the crash")]
    for client in (carol, laptop):
        await client.close()


async def test_one_node_restarting_while_another_runs_makes_no_second_user(
    cluster: Cluster,
) -> None:
    node_a, port_a = await cluster.node("a", *ALWAYS_ON)
    node_b, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    await kept_alice(cluster, port_a, bob)

    node_a.signal(signal.SIGTERM)
    assert await node_a.exit_code(WAIT) == 0
    node_a, port_a = await cluster.node("a", *ALWAYS_ON)
    # The run that stopped is counted lost (by a or by b): whoever reported it keeps
    # alice, and a, started again, did not bring back a second one from its record.
    await lost(node_a, node_b)
    carol = await LineClient.open(port_a)
    await carol.register("carol")
    await joined(carol)
    for client in (carol, bob):
        assert await names(client) == ["alice", "bob", "carol"]
        assert await who(client, "alice") == ["alice"]
    rows = await query(cluster.database, "SELECT account FROM always_on")
    assert len(rows) == 1
    for client in (carol, bob):
        await client.close()


async def test_a_whole_cluster_restart_brings_each_kept_user_back_once(cluster: Cluster) -> None:
    node_a, port_a = await cluster.node("a", *ALWAYS_ON)
    node_b, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    await kept_alice(cluster, port_a, bob)
    await leave(bob)
    first = cluster.nats
    try:
        for restart in ("the log kept", "the log lost"):
            for node in (node_a, node_b):
                node.signal(signal.SIGTERM)
                assert await node.exit_code(WAIT) == 0
            if restart == "the log lost":
                # A NATS of its own: no log, no snapshot; only the store keeps alice.
                cluster.nats = NatsServer.start()
            node_a, port_a = await cluster.node("a", *ALWAYS_ON)
            node_b, port_b = await cluster.node("b", *ALWAYS_ON)
            if restart == "the log kept":
                await lost(node_a, node_b)  # the stopped runs' always-on users, kept again
            for nick, port in (("carol", port_a), ("dave", port_b)):
                carol = await LineClient.open(port)
                await carol.register(nick)
                await joined(carol)
                await settle(carol)  # carol's quit applied on b too, for dave
                assert await names(carol) == ["alice", nick], restart
                assert await who(carol, "alice") == ["alice"], restart
                await leave(carol)
            # One record, of the one node that keeps alice now.
            rows = await query(cluster.database, "SELECT node FROM always_on")
            assert [row["node"] in ("a", "b") for row in rows] == [True], restart
    finally:
        if cluster.nats is not first:
            for node in (node_a, node_b):
                await node.stop()
            cluster.nats.stop()


async def test_a_wrong_login_gets_nothing_of_a_kept_user(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a", *ALWAYS_ON)
    _, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    mallory = await account(port_b, "mallory")
    await leave(mallory)
    await kept_alice(cluster, port_a, bob)
    await bob.send("PRIVMSG alice :secret")
    await settle(bob)

    wrong, lines = await device(port_b, password="not-the-password", until=n.ERR_SASLFAIL)
    lines += await wrong.read_until(n.ERR_NICKNAMEINUSE, WAIT)
    # Another account asking for alice's nick is refused it: mallory's own user (kept
    # with no device, multiclient) is what it attaches to.
    other, more = await device(port_b, "mallory", "alice", until=n.RPL_ENDOFMOTD)
    assert [m.params[0] for m in more if m.command == n.RPL_WELCOME] == ["mallory"]
    for seen in (lines, more):
        assert not [m for m in seen if m.command in ("JOIN", "PRIVMSG")]
        assert not [m for m in seen if m.command == n.RPL_WELCOME and m.params[0] == "alice"]
    await settle(bob)
    for client in (wrong, other):
        assert not said(await client.sync())
    assert await names(bob) == ["alice", "bob"]
    for client in (wrong, other, bob):
        await client.close()


async def test_an_account_dropped_from_a_device_on_another_node_than_its_home_is_gone(
    cluster: Cluster,
) -> None:
    # Probe 34: the drop made the kept user quit on its home, which closed the device
    # on the other node and cancelled its handler before the account was deleted: the
    # same password still logged in.
    _, port_a = await cluster.node("a", *ALWAYS_ON)
    _, port_b = await cluster.node("b", *ALWAYS_ON)
    bob = await watcher(port_b)
    await kept_alice(cluster, port_a, bob)
    phone, _ = await device(port_b, "alice@phone", until="366")
    await settle(phone)
    await phone.send(f"PRIVMSG NickServ :DROP {PASSWORD}")
    async with asyncio.timeout(WAIT):
        while True:  # the deletion is the store's: asked again until it is done
            if not await query(cluster.database, "SELECT key FROM accounts WHERE key = 'alice'"):
                break
            await asyncio.sleep(0.05)
    again = await LineClient.open(port_b)
    lines = await again.log_in("alice", PASSWORD, "someone", seconds=WAIT)
    assert n.ERR_SASLFAIL in [m.command for m in lines]
    for client in (bob, phone, again):
        await client.close()
