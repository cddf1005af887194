"""The real server over real sockets: Unicode names, SendQ, timeouts, hostile input, shutdown."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.storage.backends import SQLITE_FILE
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of

CHANNEL = "#room"


def is_privmsg_from(nick: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and source_nick(m) == nick


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


async def read_answering_pings(
    client: LineClient, match: Callable[[Message], bool], seconds: float = 5.0
) -> Message:
    """Read until ``match``, answering the server's PINGs on the way."""
    async with asyncio.timeout(seconds):
        while True:
            message = await client.read(seconds)
            if message is None:
                raise EOFError("closed while waiting")
            if message.command == "PING":
                await client.send(f"PONG :{message.params[-1]}")
            elif match(message):
                return message


# -- Unicode ---------------------------------------------------------------------------


async def test_unicode_nick_and_ascii_user_chat_in_a_channel_both_ways(
    server: Server, clients: Clients
) -> None:
    anna = await clients.connect(server, "Анна", CHANNEL)
    bob = await clients.connect(server, "bob", CHANNEL)
    await anna.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "bob")

    await anna.send(f"PRIVMSG {CHANNEL} :привет, bob")
    got = await bob.read_until("PRIVMSG")
    assert source_nick(got[-1]) == "Анна"
    assert got[-1].params == (CHANNEL, "привет, bob")

    await bob.send(f"PRIVMSG {CHANNEL} :hi Анна 👋")
    got = await anna.read_until("PRIVMSG")
    assert source_nick(got[-1]) == "bob"
    assert got[-1].params == (CHANNEL, "hi Анна 👋")


async def test_unicode_nick_receives_private_messages_addressed_in_any_case(
    server: Server,
    clients: Clients,
) -> None:
    anna = await clients.connect(server, "Анна")
    bob = await clients.connect(server, "bob")

    await bob.send("PRIVMSG Анна :exact", "PRIVMSG анна :folded")
    got = await anna.read_until(lambda m: m.command == "PRIVMSG" and m.params[-1] == "folded")
    privmsgs = [m for m in got if m.command == "PRIVMSG"]
    assert [m.params[-1] for m in privmsgs] == ["exact", "folded"]
    assert all(source_nick(m) == "bob" for m in privmsgs)
    assert await bob.sync() == []


async def test_unicode_nick_is_listed_in_names_and_whois(server: Server, clients: Clients) -> None:
    anna = await clients.connect(server, "Анна", CHANNEL)
    bob = await clients.connect(server, "bob")
    await bob.send(f"NAMES {CHANNEL}", "WHOIS Анна")
    lines = await bob.read_until(n.RPL_ENDOFWHOIS)
    names = [m for m in lines if m.command == n.RPL_NAMREPLY]
    assert names
    assert "Анна" in names[0].params[-1].replace("@", "").split()
    whois = [m for m in lines if m.command == n.RPL_WHOISUSER]
    assert whois
    assert whois[0].params[1] == "Анна"
    await anna.close()


# -- SendQ -----------------------------------------------------------------------------


def numbered_lines(first: int, count: int) -> list[str]:
    """``count`` channel messages of about 430 bytes, numbered from ``first``."""
    return [f"PRIVMSG {CHANNEL} :{first + i:07d} {'x' * 400}" for i in range(count)]


@dataclass
class Tally:
    """Counts the numbered messages one client receives from ``sender``, in order."""

    sender: str
    received: int = 0
    quits: list[Message] = field(default_factory=list)

    async def read_up_to(self, client: LineClient, total: int) -> None:
        """Read until ``total`` messages from the sender have arrived, noting QUITs."""
        while self.received < total:
            message = await client.read()
            assert message is not None, f"disconnected after {self.received} messages"
            if message.command == "PRIVMSG":
                assert source_nick(message) == self.sender
                assert message.params[1].startswith(f"{self.received:07d} ")
                self.received += 1
            elif message.command == "QUIT":
                self.quits.append(message)
            else:
                pytest.fail(f"unexpected line: {message}")


async def test_client_that_stops_reading_is_cut_off_at_its_sendq_and_others_get_everything(
    tmp_path: Path, clients: Clients
) -> None:
    # A round of messages (about 17 KB) stays well under the SendQ: everything sent in
    # one loop pass counts against it, so a reader that keeps up is never at risk.
    # Flood control is off so that the senders are not slowed down.
    settings = make_settings(tmp_path, sendq=65_536, flood_rate=0)
    async with running_server(settings) as server:
        alice = await clients.connect(server, "alice", CHANNEL)
        bob = await clients.connect(server, "bob", CHANNEL)
        slow = await clients.open_slow_reader(server)
        await slow.register("slow")
        await slow.send(f"JOIN {CHANNEL}")
        await slow.read_until(n.RPL_ENDOFNAMES)
        await slow.sync()
        await alice.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "slow")
        await bob.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "slow")
        transport = slow.writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()

        rounds = 0
        sent = 0
        alice_got = Tally(sender="bob")
        bob_got = Tally(sender="alice")
        async with asyncio.timeout(30):
            while not (alice_got.quits and bob_got.quits):
                rounds += 1
                assert rounds < 2_000, "the slow client was never cut off"
                await alice.send(*numbered_lines(sent, 20))
                await bob.send(*numbered_lines(sent, 20))
                sent += 20
                await bob_got.read_up_to(bob, sent)
                await alice_got.read_up_to(alice, sent)

        # Nothing was lost on the way, for either of the two who kept reading.
        assert alice_got.received == bob_got.received == sent
        for tally in (alice_got, bob_got):
            assert len(tally.quits) == 1
            assert source_nick(tally.quits[0]) == "slow"
            assert "SendQ exceeded" in tally.quits[0].params[0]

        # The two readers keep chatting.
        await bob.send(f"PRIVMSG {CHANNEL} :still here")
        got = await alice.read_until(is_privmsg_from("bob"))
        assert got[-1].params == (CHANNEL, "still here")
        await alice.send(f"PRIVMSG {CHANNEL} :me too")
        got = await bob.read_until(is_privmsg_from("alice"))
        assert got[-1].params == (CHANNEL, "me too")
        await bob.send(f"NAMES {CHANNEL}")
        names = await bob.read_until(n.RPL_ENDOFNAMES)
        listed = " ".join(m.params[-1] for m in names if m.command == n.RPL_NAMREPLY)
        assert "slow" not in listed.replace("@", "").split()

        # The slow client's socket was closed: draining it ends at end of stream or reset.
        transport.resume_reading()
        try:
            ended = await slow.closed(seconds=10)
        except ConnectionResetError:
            ended = True
        assert ended


# -- timeouts --------------------------------------------------------------------------


async def test_client_that_never_registers_gets_error_and_is_closed(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, registration_timeout=0.5)
    async with running_server(settings) as server:
        idle = await clients.open(server)
        await idle.send("NICK idle")
        lines = await idle.read_until("ERROR", seconds=5)
        assert "Registration timeout" in lines[-1].params[0]
        assert await idle.closed()

        # A client that registers in time is not affected.
        quick = await clients.connect(server, "quick")
        assert await quick.sync() == []


async def test_registered_client_that_ignores_ping_gets_error_and_is_closed(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, ping_interval=0.5, ping_timeout=0.5)
    async with running_server(settings) as server:
        mute = await clients.open(server)
        await mute.register("mute")
        lines = await mute.read_until("ERROR", seconds=5)
        pings = [m for m in lines if m.command == "PING"]
        assert pings, lines
        assert "Ping timeout" in lines[-1].params[0]
        assert await mute.closed()


async def test_ping_timeout_is_announced_to_channel_members_with_its_reason(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, ping_interval=0.5, ping_timeout=0.5)
    async with running_server(settings) as server:
        watcher = await clients.connect(server, "watcher", CHANNEL)
        mute = await clients.connect(server, "mute", CHANNEL)
        quit_line = await read_answering_pings(
            watcher, lambda m: m.command == "QUIT" and source_nick(m) == "mute"
        )
        assert "Ping timeout" in quit_line.params[0]
        assert await mute.closed()


async def test_client_that_answers_pings_outlives_the_ping_timeout(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, ping_interval=0.5, ping_timeout=0.5)
    async with running_server(settings) as server:
        alive = await clients.connect(server, "alive")
        for _ in range(3):
            ping = await alive.read_until("PING", seconds=5)
            await alive.send(f"PONG :{ping[-1].params[-1]}")
        await alive.send("PING still")
        pong = await read_answering_pings(alive, lambda m: m.command == "PONG")
        assert "still" in pong.params


# -- hostile input ---------------------------------------------------------------------


async def test_one_megabyte_line_gets_417_and_the_connection_keeps_working(
    server: Server,
    clients: Clients,
) -> None:
    big = await clients.connect(server, "big", CHANNEL)
    other = await clients.connect(server, "other", CHANNEL)
    await big.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "other")

    # One megabyte with no line end, then the end, then a normal command.
    big.writer.write(f"PRIVMSG {CHANNEL} :".encode() + b"y" * (1 << 20))
    await big.writer.drain()
    await big.send(b"", f"PRIVMSG {CHANNEL} :short and fine")
    lines = await big.sync()
    assert [m.command for m in lines] == [n.ERR_INPUTTOOLONG]

    got = await other.read_until(is_privmsg_from("big"))
    assert got[-1].params == (CHANNEL, "short and fine")
    assert await other.sync() == []


async def test_one_megabyte_line_sent_in_small_pieces_gets_one_417(
    server: Server, clients: Clients
) -> None:
    big = await clients.connect(server, "big")
    chunk = b"z" * 4096
    for _ in range(256):
        big.writer.write(chunk)
    await big.writer.drain()
    await big.send(b"")
    lines = await big.sync()
    assert [m.command for m in lines] == [n.ERR_INPUTTOOLONG]


async def test_server_keeps_serving_after_garbage_bytes(
    server: Server, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await clients.connect(server, "alice", CHANNEL)
    bob = await clients.connect(server, "bob", CHANNEL)
    await alice.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "bob")

    vandal = await clients.open(server)
    garbage = [
        b"\x00\x01\x02\xff\xfe\r\n",
        b"\xc3\x28 \xa0\xa1\r\n",
        b":\r\n",
        b"@\r\n",
        b"@a=b\r\n",
        b": :\r\n",
        b"      \r\n",
        b"\r\r\r\n\n\n",
        b"PRIVMSG\r\n",
        b"NICK \x00\x7f\r\n",
        b"USER \xff \xff \xff :\xff\r\n",
        b"\x1b[2J\x07\r\n",
        bytes(range(256)) + b"\r\n",
    ]
    with caplog.at_level(logging.ERROR):
        for data in garbage:
            vandal.writer.write(data)
        await vandal.writer.drain()
        await vandal.sync()

        newcomer = await clients.connect(server, "newcomer", CHANNEL)
        await alice.send(f"PRIVMSG {CHANNEL} :after the garbage")
        got_bob = await bob.read_until(is_privmsg_from("alice"))
        got_new = await newcomer.read_until(is_privmsg_from("alice"))

    assert got_bob[-1].params == (CHANNEL, "after the garbage")
    assert got_new[-1].params == (CHANNEL, "after the garbage")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_client_sending_garbage_can_still_register_afterwards(
    server: Server, clients: Clients
) -> None:
    vandal = await clients.open(server)
    await vandal.send(b"\xff\xfe\xfd", b"\x00", b"::::")
    await vandal.sync()
    lines = await vandal.register("vandal")
    assert lines[0].command == n.RPL_WELCOME
    assert lines[0].params[0] == "vandal"


# -- flood control and admission --------------------------------------------------------


async def test_flooding_client_is_slowed_down_but_every_line_is_answered_in_order(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, flood_burst=5, flood_rate=50)
    async with running_server(settings) as server:
        flooder = await clients.connect(server, "flooder")
        await flooder.send(*(f"PING f{i:03d}" for i in range(60)))
        lines = await flooder.read_until(lambda m: m.command == "PONG" and "f059" in m.params)
        tokens = [m.params[-1] for m in lines if m.command == "PONG"]
        assert tokens == [f"f{i:03d}" for i in range(60)]
        assert await flooder.sync() == []


async def test_connections_over_the_per_ip_limit_are_refused_with_error(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path, connections_per_ip=2)) as server:
        first = await clients.connect(server, "first")
        await clients.connect(server, "second")
        third = await clients.open(server)
        lines = await third.read_until("ERROR")
        assert "Too many connections" in lines[-1].params[0]
        assert await third.closed()

        await first.send("QUIT :making room")
        await first.read_until("ERROR")
        assert await first.closed()
        fourth = await clients.open(server)
        welcome = await fourth.register("fourth")
        assert welcome[0].command == n.RPL_WELCOME


async def test_trusted_address_is_exempt_from_the_per_ip_limit(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, connections_per_ip=1).replace(trusted=("127.0.0.0/8",))
    async with running_server(settings) as server:
        one = await clients.connect(server, "one")
        two = await clients.connect(server, "two")
        await one.send("PRIVMSG two :both admitted")
        got = await two.read_until(is_privmsg_from("one"))
        assert got[-1].params == ("two", "both admitted")


# -- shutdown --------------------------------------------------------------------------


async def test_graceful_shutdown_sends_error_to_every_client_and_closes_them(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        port = port_of(server)
        alice = await clients.connect(server, "alice", CHANNEL)
        bob = await clients.connect(server, "bob")
        unregistered = await clients.open(server)
        await unregistered.send("NICK pending")
        await unregistered.sync()

        server.stop()
        for client in (alice, bob, unregistered):
            lines = await client.read_until("ERROR")
            assert "shutting down" in lines[-1].params[0].lower()
            assert await client.closed()

    # The listener is closed too.
    with pytest.raises(ConnectionRefusedError):
        await LineClient.open(port)


def nodelay_of(server: Server) -> bool:
    """Whether the server's end of its one client connection has TCP_NODELAY."""
    (connection,) = server.connections
    # The server's end of the socket, as the transport holds it.
    sock = connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


@pytest.mark.parametrize("nodelay", [False, True])
async def test_tcp_nodelay_on_client_connections_follows_the_setting(
    tmp_path: Path, nodelay: bool
) -> None:
    settings = make_settings(tmp_path).replace(tcp_nodelay=nodelay)
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.register("nagle")
        # A small write after the welcome (a large one, see the next test).
        await client.send("PING :still-chatting")
        assert (await client.read_until("PONG"))[-1].params[-1] == "still-chatting"
        assert nodelay_of(server) is nodelay
        await client.close()


async def test_without_tcp_nodelay_a_large_write_is_pushed_and_small_ones_are_joined_again(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, flood_rate=0)
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.register("pusher")
        await client.send("PING :small")
        await client.read_until("PONG")
        assert not nodelay_of(server)
        # Replies of one pass over a segment: the write's tail must not wait for an ACK.
        await client.send(*["VERSION"] * 10, "PING :large")
        await client.read_until(lambda m: m.command == "PONG" and m.params[-1] == "large")
        assert nodelay_of(server)
        await client.send("PING :small-again")
        await client.read_until(lambda m: m.command == "PONG" and m.params[-1] == "small-again")
        assert not nodelay_of(server)
        await client.close()


async def test_a_first_start_says_once_that_it_made_the_database_and_how_to_connect(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    with caplog.at_level(logging.INFO):
        async with running_server(settings) as server:
            (host, port), (_, plain) = server.addresses[0], server.plain_addresses[0]
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    made = [line for line in said if "database" in line]
    assert len(made) == 1, said
    database = re.escape(str(tmp_path / SQLITE_FILE))
    assert re.fullmatch(rf"created the database {database} \(schema \d+\)", made[0])
    assert not any("migration" in line for line in said), said
    assert (
        f"ready: connect with hubbub chat {host}:{port}, or irssi -c {host} -p {port}, "
        f"or nc {host} {plain}"
    ) in said
    caplog.clear()
    with caplog.at_level(logging.INFO):
        async with running_server(settings):
            pass
    assert not any("database" in r.getMessage() for r in caplog.records), caplog.records
