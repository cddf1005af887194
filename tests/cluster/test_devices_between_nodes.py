"""One account on devices connected to different nodes: a client that logs in on node b
to the account of a user living on node a is one more device of that user, as on one
server (docs/cluster.md, "Devices on several nodes"). ``hubbub serve --cluster``
processes on a real NATS and a real PostgreSQL, IRC clients over real sockets."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.cluster.test_serve_cluster import PASSWORD, Cluster
from tests.cluster.test_serve_cluster import cluster as cluster  # a fixture
from tests.helpers import LineClient
from tests.storage.databases import query

CHAN = "#room"
WAIT = 10.0  # seconds for anything that crosses nodes (the machine is shared)


async def device(
    port: int,
    login: str = "alice",
    nick: str = "alice",
    caps: str = "",
    *,
    password: str = PASSWORD,
    until: str | Callable[[Message], bool] = n.RPL_ENDOFMOTD,
) -> tuple[LineClient, list[Message]]:
    """A connection to ``port`` logged in with SASL as ``login`` (``account@device``
    names its device), asking for ``nick``; what it got up to ``until``."""
    client = await LineClient.open(port)
    return client, await client.log_in(login, password, nick, caps, until, WAIT)


async def account(port: int, name: str) -> LineClient:
    """A client registered as ``name`` that registered an account of that name (the
    account's user, living on that port's node)."""
    client = await LineClient.open(port)
    await client.register(name)
    await client.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    await client.read_until(n.RPL_LOGGEDIN, WAIT)
    return client


def said(lines: list[Message], command: str = "PRIVMSG") -> list[tuple[str, ...]]:
    return [m.params for m in lines if m.command == command]


def from_(nick: str) -> Callable[[Message], bool]:
    return lambda m: (m.source or "").split("!")[0] == nick


def marker(m: Message) -> bool:
    return m.command == "MARKREAD" and m.params[0] == CHAN


def saying(text: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and m.params[-1:] == (text,)


async def upto(client: LineClient, text: str) -> list[Message]:
    """What ``client`` is sent up to the PRIVMSG ``text`` (a mark said after what a test
    counts: the log's order puts any copy of it before the mark)."""
    return await client.read_until(saying(text), WAIT)


async def kept(database: str, device: str) -> None:
    """Until the database keeps when ``device`` last left (written behind, within
    moments): asked again until it does."""
    async with asyncio.timeout(WAIT):
        while True:
            rows = await query(database, "SELECT device FROM account_devices")
            if device in [row["device"] for row in rows]:
                return
            await asyncio.sleep(0.05)


async def settle(client: LineClient) -> None:
    """Until ``client``'s node has applied every fact made before now (its own JOIN and
    PART of a channel of its own come back from the log after them)."""
    barrier = f"#settle-{id(client)}"
    await client.send(f"JOIN {barrier}", f"PART {barrier}")
    await client.read_until(lambda m: m.command == "PART" and m.params[0] == barrier, WAIT)


async def joined(client: LineClient, channel: str = CHAN) -> None:
    await client.send(f"JOIN {channel}")
    await client.read_until(n.RPL_ENDOFNAMES, WAIT)


async def member(port: int, nick: str) -> LineClient:
    """A client registered as ``nick`` on ``port``'s node, in CHAN."""
    client = await LineClient.open(port)
    await client.register(nick)
    await joined(client)
    return client


async def test_a_device_on_another_node_is_one_more_device_of_the_user(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    carol = await LineClient.open(port_a)
    await carol.register("carol")
    bob = await LineClient.open(port_b)
    await bob.register("bob")
    await joined(laptop)
    await laptop.send(f"TOPIC {CHAN} :the topic")
    await laptop.read_until("TOPIC", WAIT)
    await joined(carol)
    await joined(bob)
    await laptop.read_until(lambda m: m.command == "JOIN" and from_("bob")(m), WAIT)
    await carol.read_until(lambda m: m.command == "JOIN" and from_("bob")(m), WAIT)

    phone, burst = await device(port_b, "alice@phone", caps="echo-message", until="366")
    # Welcomed as the user living on a, and shown its channel, topic and members.
    assert [m.params[0] for m in burst if m.command == n.RPL_WELCOME] == ["alice"]
    assert [m.params for m in burst if m.command == "JOIN"] == [(CHAN,)]
    assert [m.params[-1] for m in burst if m.command == n.RPL_TOPIC] == ["the topic"]
    names = [m.params[-1] for m in burst if m.command == n.RPL_NAMREPLY]
    assert sorted(names[0].split()) == ["@alice", "bob", "carol"]

    # What bob says reaches both devices, once each; carol and bob saw no second alice.
    await bob.send(f"PRIVMSG {CHAN} :hello", f"PRIVMSG {CHAN} :mark 1")
    for client in (laptop, phone):
        assert said(await upto(client, "mark 1")) == [(CHAN, "hello"), (CHAN, "mark 1")]
    seen = await upto(carol, "mark 1")
    assert not [m for m in seen if m.command in ("JOIN", "NICK", "QUIT")]

    # What the phone says: the laptop shows it as said, the phone has its echo, bob and
    # carol get it once.
    await phone.send(f"PRIVMSG {CHAN} :from my phone", "PRIVMSG bob :psst")
    await phone.send(f"PRIVMSG {CHAN} :mark 2")
    expected = [(CHAN, "from my phone"), ("bob", "psst"), (CHAN, "mark 2")]
    assert said(await upto(laptop, "mark 2")) == expected
    assert said(await upto(phone, "mark 2")) == expected
    seen = await upto(bob, "mark 2")
    assert said(seen) == expected
    assert not [m for m in seen if m.command in ("JOIN", "NICK", "QUIT")]
    assert said(await upto(carol, "mark 2")) == [(CHAN, "from my phone"), (CHAN, "mark 2")]

    # What the laptop says: the phone shows it, the laptop (no echo-message) does not.
    await laptop.send(f"PRIVMSG {CHAN} :from my laptop", "PRIVMSG bob :mark 3")
    assert said(await upto(phone, "mark 3")) == [(CHAN, "from my laptop"), ("bob", "mark 3")]
    assert said(await upto(bob, "mark 3")) == [(CHAN, "from my laptop"), ("bob", "mark 3")]
    assert not said(await laptop.sync())

    # A private message to the user reaches both devices, once each.
    await bob.send("PRIVMSG alice :to you", "PRIVMSG alice :mark 4")
    for client in (laptop, phone):
        assert said(await upto(client, "mark 4")) == [("alice", "to you"), ("alice", "mark 4")]
    for client in (laptop, phone, bob, carol):
        await client.close()


async def test_a_device_on_another_node_is_replayed_what_it_missed(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    bob = await member(port_b, "bob")
    phone, _ = await device(port_a, "alice@phone", until="366")
    await phone.send("QUIT")
    await phone.closed(WAIT)
    await phone.close()
    # When the phone left is kept in the database, where node b reads it at login.
    await kept(cluster.database, "phone")
    await bob.send(f"PRIVMSG {CHAN} :while you were out", f"PRIVMSG {CHAN} :and this")
    await upto(laptop, "and this")

    phone, burst = await device(
        port_b, "alice@phone", caps="batch server-time", until=saying("and this")
    )
    assert [m.params for m in burst if m.command == "JOIN"] == [(CHAN,)]
    assert said(burst) == [(CHAN, "while you were out"), (CHAN, "and this")]
    assert all("time" in m.tags for m in burst if m.command == "PRIVMSG")
    assert next(m.params[0] for m in burst if m.command == "BATCH").startswith("+")
    for client in (laptop, bob, phone):
        await client.close()


async def test_the_home_devices_leaving_keeps_the_user_and_the_last_device_quits_it_once(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    carol = await member(port_a, "carol")
    bob = await member(port_b, "bob")
    phone, _ = await device(port_b, "alice@phone", until="366")
    # Node a knows of the phone (a device attaching within a round trip of the home's
    # last one leaving is closed, and its client reconnects: docs/cluster.md).
    await settle(laptop)

    # The laptop leaves the node the user lives on: the user stays, on b.
    await laptop.send("QUIT :laptop off")
    left = await laptop.read_until("ERROR", WAIT)
    assert said(left, "QUIT") == [("Quit: laptop off",)]
    await laptop.close()
    await bob.send(f"PRIVMSG {CHAN} :still there?", "PRIVMSG alice :mark 1")
    assert said(await upto(phone, "mark 1")) == [(CHAN, "still there?"), ("alice", "mark 1")]
    # From b to carol on a through the log: it may come after a reply a gives at once.
    assert said(await upto(carol, "still there?")) == [(CHAN, "still there?")]
    await carol.send("WHOIS alice", f"PRIVMSG {CHAN} :mark 2")
    seen = await carol.read_until(n.RPL_ENDOFWHOIS, WAIT)
    assert [m.params[1] for m in seen if m.command == n.RPL_WHOISUSER] == ["alice"]
    assert not [m for m in seen if m.command == "QUIT"]
    assert said(await upto(phone, "mark 2")) == [(CHAN, "mark 2")]
    await phone.send(f"PRIVMSG {CHAN} :from b")
    assert said(await upto(carol, "from b")) == [(CHAN, "from b")]

    # The last device anywhere leaving is the user quitting, once, everywhere.
    await phone.send("QUIT :all gone")
    assert said(await phone.read_until("ERROR", WAIT), "QUIT") == [("Quit: all gone",)]
    for client in (bob, carol):
        quits = await client.read_until("QUIT", WAIT)
        assert from_("alice")(quits[-1])
        assert quits[-1].params == ("Quit: all gone",)
    await bob.send(f"PRIVMSG {CHAN} :mark 3")
    assert not said(await upto(carol, "mark 3"), "QUIT")
    await carol.send("WHOIS alice")
    assert (await carol.read_until(n.ERR_NOSUCHNICK, WAIT))[-1].params[1] == "alice"
    for client in (phone, bob, carol):
        await client.close()


async def test_a_device_on_another_node_leaving_keeps_the_user_at_home(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    bob = await member(port_b, "bob")
    for number in range(2):
        # Twice: a device that attached again on b is counted again.
        phone, _ = await device(port_b, "alice@phone", until="366")
        await phone.send("QUIT")
        await phone.closed(WAIT)
        await phone.close()
        await bob.send(f"PRIVMSG {CHAN} :mark {number}")
        seen = await upto(laptop, f"mark {number}")
        assert said(seen) == [(CHAN, f"mark {number}")]
    await laptop.send("QUIT :bye")
    # The first QUIT bob sees: the devices on b leaving made none.
    quits = await bob.read_until("QUIT", WAIT)
    assert from_("alice")(quits[-1])
    assert quits[-1].params == ("Quit: bye",)
    for client in (laptop, bob):
        await client.close()


async def test_the_user_moves_to_a_node_with_a_device_when_its_home_is_killed(
    cluster: Cluster,
) -> None:
    node_a, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    carol = await member(port_a, "carol")
    bob = await member(port_b, "bob")
    phone, _ = await device(port_b, "alice@phone", until="366")
    await settle(bob)

    node_a.signal(signal.SIGKILL)
    # carol, of node a only, quits with it (within node_timeout and a beat); alice,
    # with a device on b, does not.
    for client in (bob, phone):
        seen = await client.read_until("QUIT", 15)
        assert from_("carol")(seen[-1])
        assert seen[-1].params == ("Node lost",)
    await bob.send(f"PRIVMSG {CHAN} :mark 1", "PRIVMSG alice :mark 2")
    assert said(await upto(phone, "mark 2")) == [(CHAN, "mark 1"), ("alice", "mark 2")]
    await bob.send(f"NAMES {CHAN}")
    names = await bob.read_until(n.RPL_ENDOFNAMES, WAIT)
    listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
    assert sorted(listed.split()) == ["@alice", "bob"]
    # The user lives on b now: its last device leaving there quits it.
    await phone.send("QUIT :moved")
    quits = await bob.read_until("QUIT", WAIT)
    assert from_("alice")(quits[-1])
    assert quits[-1].params == ("Quit: moved",)
    for client in (laptop, carol, phone, bob):
        await client.close()


async def test_a_node_counted_lost_closes_its_devices_of_users_living_elsewhere(
    cluster: Cluster,
) -> None:
    node_a, port_a = await cluster.node("a")
    node_b, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    phone, _ = await device(port_b, "alice@phone", until="366")
    await settle(laptop)
    # b stands still past the node timeout: a counts it lost, and b hears of it once
    # it runs again. Its device of alice is not the user's any more: it is closed, with
    # a line that says why; the user stays on a.
    node_b.signal(signal.SIGSTOP)
    try:
        await node_a.wait_for_log("no word from node run", 15)
    finally:
        node_b.signal(signal.SIGCONT)
    closed = await phone.read_until("ERROR", 15)
    assert "counted lost" in closed[-1].params[-1]
    await phone.close()
    bob = await member(port_b, "bob")
    await bob.send(f"PRIVMSG {CHAN} :mark")
    assert said(await upto(laptop, "mark")) == [(CHAN, "mark")]
    # It may attach again, as a new device.
    phone, burst = await device(port_b, "alice@phone", until="366")
    assert [m.params for m in burst if m.command == "JOIN"] == [(CHAN,)]
    for client in (laptop, phone, bob):
        await client.close()


async def test_a_nick_change_from_a_device_on_another_node_holds_on_every_node(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    bob = await member(port_b, "bob")
    phone, _ = await device(port_b, "alice@phone", until="366")
    await phone.send("NICK alys")
    for client in (phone, laptop, bob):
        renamed = await client.read_until("NICK", WAIT)
        assert from_("alice")(renamed[-1])
        assert renamed[-1].params == ("alys",)
    await settle(laptop)
    for port in (port_a, port_b):
        mallory = await LineClient.open(port)
        await mallory.send("NICK alys", "USER m 0 * :M")
        assert (await mallory.read_until(n.ERR_NICKNAMEINUSE, WAIT))[-1].params[1] == "alys"
        await mallory.close()
    # Back from the home node: the nick the phone took is free again on both.
    await laptop.send("NICK alice")
    for client in (phone, laptop, bob):
        renamed = await client.read_until("NICK", WAIT)
        assert renamed[-1].params == ("alice",)
    # A join and a part from the phone are the user's, on the laptop too.
    await phone.send("JOIN #other", "PART #other")
    for client in (phone, laptop):
        seen = await client.read_until("PART", WAIT)
        assert [(m.command, m.params[0]) for m in seen if m.command in ("JOIN", "PART")] == [
            ("JOIN", "#other"),
            ("PART", "#other"),
        ]
        assert n.RPL_ENDOFNAMES in [m.command for m in seen]
    for port, there in ((port_a, laptop), (port_b, phone)):
        await settle(there)  # the nick change, and the last one's quit, applied there
        mallory = await LineClient.open(port)
        welcome = await mallory.register("alys")
        assert welcome[0].params[0] == "alys"
        await mallory.send("QUIT")
        await mallory.closed(WAIT)
        await mallory.close()
    for client in (laptop, phone, bob):
        await client.close()


async def test_a_login_that_fails_or_is_another_accounts_gets_nothing_of_the_user(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await joined(laptop)
    mallory = await account(port_b, "mallory")
    await mallory.send("QUIT")
    await mallory.closed(WAIT)
    await mallory.close()
    await settle(laptop)

    wrong, lines = await device(port_b, password="not-the-password", until=n.ERR_SASLFAIL)
    lines += await wrong.read_until(n.ERR_NICKNAMEINUSE, WAIT)
    other, more = await device(port_b, "mallory", "alice", until=n.ERR_NICKNAMEINUSE)
    for client, seen in ((wrong, lines), (other, more)):
        assert not [m for m in seen if m.command in (n.RPL_WELCOME, "JOIN", "PRIVMSG")]
        # What it may do is be someone else, in no channel of alice's.
        await client.send(f"NICK someone{len(seen)}")
        welcome = await client.read_until(n.RPL_ENDOFMOTD, WAIT)
        assert [m.params[0] for m in welcome if m.command == n.RPL_WELCOME] != ["alice"]
        assert not [m for m in welcome if m.command == "JOIN"]
    await laptop.send(f"NAMES {CHAN}")
    names = await laptop.read_until(n.RPL_ENDOFNAMES, WAIT)
    assert [m.params[-1] for m in names if m.command == n.RPL_NAMREPLY] == ["@alice"]
    for client in (laptop, wrong, other):
        await client.close()


async def test_a_read_marker_moved_on_one_node_is_sent_to_the_devices_on_the_other(
    cluster: Cluster,
) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    laptop = await account(port_a, "alice")
    await laptop.send("CAP REQ :draft/read-marker")
    await laptop.read_until(lambda m: m.command == "CAP" and m.params[1] == "ACK", WAIT)
    await joined(laptop)
    phone, _ = await device(port_b, "alice@phone", caps="draft/read-marker", until="366")
    await settle(laptop)
    stamp, later = "2026-02-03T04:05:06.789Z", "2026-02-03T05:00:00.000Z"
    await phone.send(f"MARKREAD {CHAN} timestamp={stamp}")
    assert (await phone.read_until(marker, WAIT))[-1].params[1] == f"timestamp={stamp}"
    assert (await laptop.read_until(marker, WAIT))[-1].params[1] == f"timestamp={stamp}"
    # Once each: the laptop moving it on tells the phone, and nothing else came.
    await laptop.send(f"MARKREAD {CHAN} timestamp={later}")
    assert (await laptop.read_until(marker, WAIT))[-1].params[1] == f"timestamp={later}"
    seen = await phone.read_until(marker, WAIT)
    assert [m.params for m in seen if marker(m)] == [(CHAN, f"timestamp={later}")]
    await phone.send(f"PRIVMSG {CHAN} :mark")
    assert not [m for m in await upto(laptop, "mark") if m.command == "MARKREAD"]
    for client in (laptop, phone):
        await client.close()


async def test_a_kline_set_on_one_node_closes_a_device_at_its_address_on_another(
    cluster: Cluster,
) -> None:
    # Probe 33: the node that set it closed its own devices only; another node's device
    # of the user, on the address the ban covers, kept talking as the user.
    oper = ("--oper", "admin:right-password")
    _, port_a = await cluster.node("a", *oper)
    _, port_b = await cluster.node("b", *oper)
    laptop = await account(port_a, "alice")
    await joined(laptop)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port_b, local_addr=("127.0.0.63", 0)
    )
    phone = LineClient(reader, writer)
    await phone.log_in("alice@phone", PASSWORD, "alice", until="366", seconds=WAIT)
    bob = await member(port_b, "bob")
    admin = await LineClient.open(port_a)
    await admin.register("admin")
    await admin.send("OPER admin right-password")
    await admin.read_until(n.RPL_YOUREOPER, WAIT)
    await settle(bob)

    await admin.send("KLINE 5 *@127.0.0.63 :no phones here")
    closing = await phone.read_until("ERROR", WAIT)
    assert "no phones" in " ".join(m.params[-1] for m in closing)
    assert await phone.closed(WAIT)
    # The user stays, on its laptop: nobody saw it quit.
    await bob.send(f"PRIVMSG {CHAN} :still with us?")
    assert said(await upto(laptop, "still with us?")) == [(CHAN, "still with us?")]
    await laptop.send(f"PRIVMSG {CHAN} :yes")
    seen = await upto(bob, "yes")
    assert not said(seen, "QUIT")
    for client in (laptop, bob, admin, phone):
        await client.close()
