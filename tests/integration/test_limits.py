"""Hostile clients against the real server: each limit's documented reaction, and two
bystanders (alice and bob) who keep chatting through it and lose nothing.

Limits under test (``Limits`` in settings.py): flood control (``flood_burst``,
``flood_rate``; operators exempt), ``connections_per_ip`` (trusted networks exempt),
the line length (417), ``sendq``, ``registration_timeout``, and UTF8ONLY.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, parse
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of

CHANNEL = "#room"


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


def is_text(nick: str, text: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and source_nick(m) == nick and m.params[-1] == text


def is_pong(token: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PONG" and m.params[-1] == token


async def exchange(
    alice: LineClient, bob: LineClient, rounds: int, label: str
) -> tuple[list[Message], list[Message]]:
    """alice and bob trade ``rounds`` private messages each; every one arrives, in order.

    The first PRIVMSG each reads must be the one just sent: a lost message fails here.

    Returns:
        the other lines alice and bob read on the way (a QUIT, for instance).
    """
    others: tuple[list[Message], list[Message]] = ([], [])
    for index in range(rounds):
        for sender, receiver, heard, name, to in (
            (alice, bob, others[1], "alice", "bob"),
            (bob, alice, others[0], "bob", "alice"),
        ):
            text = f"{label} {index} from {name}"
            await sender.send(f"PRIVMSG {to} :{text}")
            *before, got = await receiver.read_until("PRIVMSG")
            assert (source_nick(got), got.params) == (name, (to, text))
            heard.extend(before)
    return others


async def bystanders(server: Server, clients: Clients) -> tuple[LineClient, LineClient]:
    alice = await clients.connect(server, "alice", CHANNEL)
    bob = await clients.connect(server, "bob", CHANNEL)
    await alice.sync()
    return alice, bob


def abort(client: LineClient) -> None:
    """Drop a connection at once, with whatever it still had to send."""
    transport = client.writer.transport
    assert isinstance(transport, asyncio.Transport)
    transport.abort()


# -- flood control ---------------------------------------------------------------------


async def test_flood_of_100000_lines_is_slowed_down_while_others_chat_at_full_speed(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        limits = server.settings.limits
        alice, bob = await bystanders(server, clients)
        flooder = await clients.connect(server, "flooder")
        loop = asyncio.get_running_loop()

        # Written without waiting: once its burst is spent the server stops reading it.
        flooder.writer.write(b"".join(b"PING f%06d\r\n" % i for i in range(100_000)))
        started = loop.time()
        await exchange(alice, bob, 20, "during the flood")
        chatted = loop.time() - started

        # 60 lines need at least (60 - burst) / rate seconds at the flood rate.
        lines = await flooder.read_until(is_pong("f000059"), seconds=10)
        flooded = loop.time() - started
        pongs = [m.params[-1] for m in lines if m.command == "PONG"]
        assert pongs == [f"f{i:06d}" for i in range(60)]
        minimum = (60 - limits.flood_burst) / limits.flood_rate
        assert flooded >= minimum - 0.3, f"60 flood lines answered in {flooded:.2f}s"
        # alice and bob sent 40 lines meanwhile, faster than the flood rate allows.
        assert chatted < minimum, f"bystanders took {chatted:.2f}s"

        # The flooder was slowed, not disconnected; the others still chat.
        more = await flooder.read_until(is_pong("f000060"))
        assert [m.command for m in more] == ["PONG"]
        abort(flooder)
        await exchange(alice, bob, 3, "after the flood")


async def test_operator_is_exempt_from_flood_control(tmp_path: Path, clients: Clients) -> None:
    settings = make_settings(tmp_path, flood_burst=10, flood_rate=2).replace(
        opers=(Oper("oper", "operpass"),)
    )
    async with running_server(settings) as server:
        alice, bob = await bystanders(server, clients)
        boss = await clients.connect(server, "boss")
        pleb = await clients.connect(server, "pleb")
        loop = asyncio.get_running_loop()

        started = loop.time()
        await boss.send("OPER oper operpass", *(f"PING o{i:03d}" for i in range(500)))
        lines = await boss.read_until(is_pong("o499"), seconds=5)
        assert n.RPL_YOUREOPER in [m.command for m in lines]
        assert [m.params[-1] for m in lines if m.command == "PONG"] == [
            f"o{i:03d}" for i in range(500)
        ]
        # At 2 lines a second, 500 lines would have taken minutes.
        assert loop.time() - started < 5
        await exchange(alice, bob, 2, "beside the operator")

        # The same burst from a user who is not an operator is slowed down.
        started = loop.time()
        await pleb.send(*(f"PING p{i:03d}" for i in range(30)))
        await pleb.read_until(is_pong("p014"), seconds=10)
        assert loop.time() - started >= (15 - 10) / 2 - 0.3


# -- connections per address -----------------------------------------------------------


def raise_file_limit(needed: int) -> None:
    """Raise the soft limit on open files to ``needed``, or skip the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def expect_refused(client: LineClient) -> None:
    """The server's refusal: ``ERROR :Too many connections...``, then the end of stream."""
    line = await client.read()
    assert line is not None
    assert line.command == "ERROR"
    assert line.params[-1].startswith("Too many connections")
    assert await client.closed()


async def test_connection_over_the_per_ip_limit_gets_error_and_is_closed(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path, connections_per_ip=20)) as server:
        alice, bob = await bystanders(server, clients)
        extra = [await clients.open(server) for _ in range(18)]
        for client in extra:
            assert await client.sync() == []
        twenty_first = await clients.open(server)
        await expect_refused(twenty_first)
        await exchange(alice, bob, 3, "at the limit")

        # A slot freed by a departure is open again.
        await extra[0].send("QUIT")
        await extra[0].read_until("ERROR")
        assert await extra[0].closed()
        again = await clients.open(server)
        welcome = await again.register("again")
        assert welcome[0].command == n.RPL_WELCOME


async def test_2000_connections_from_one_address_are_refused_past_the_limit(
    tmp_path: Path, clients: Clients
) -> None:
    raise_file_limit(4096)
    async with running_server(make_settings(tmp_path, connections_per_ip=20)) as server:
        alice, bob = await bystanders(server, clients)
        admitted: list[LineClient] = []
        refused = 0
        async with asyncio.timeout(30):
            for index in range(2000):
                client = await clients.open(server)
                if index < 18:
                    admitted.append(client)
                    continue
                await expect_refused(client)
                await client.close()
                refused += 1
                if index % 500 == 0:
                    await exchange(alice, bob, 1, f"after {index} connections")
        assert refused == 1982
        for client in admitted:
            assert await client.sync() == []
        await exchange(alice, bob, 3, "after the storm")


async def test_trusted_network_is_exempt_from_the_per_ip_limit_for_2000_connections(
    tmp_path: Path, clients: Clients
) -> None:
    raise_file_limit(8192)
    settings = make_settings(tmp_path, connections_per_ip=20).replace(trusted=("127.0.0.0/8",))
    async with running_server(settings) as server:
        alice, bob = await bystanders(server, clients)
        async with asyncio.timeout(30):
            opened = [await clients.open(server) for _ in range(2000)]
            for index, client in enumerate(opened):
                await client.send(f"PING t{index}")
            for index, client in enumerate(opened):
                pong = await client.read()
                assert pong is not None
                assert (pong.command, pong.params[-1]) == ("PONG", f"t{index}")
        await exchange(alice, bob, 3, "among 2000 connections")


# -- long lines ------------------------------------------------------------------------


async def test_megabyte_without_newline_gets_one_417_when_it_ends_and_others_chat_meanwhile(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        alice, bob = await bystanders(server, clients)
        vandal = await clients.connect(server, "vandal", CHANNEL)
        await alice.sync()
        await bob.sync()
        # The megabyte goes out with no terminator at all; the server holds none of it.
        vandal.writer.write(b"PRIVMSG #room :" + b"y" * 1_048_576)
        async with asyncio.timeout(10):
            await vandal.writer.drain()
        await exchange(alice, bob, 5, "during the megabyte")
        await vandal.send(b"", b"PING after")
        lines = await vandal.read_until(is_pong("after"))
        assert [(m.command, m.params) for m in lines] == [
            (n.ERR_INPUTTOOLONG, ("vandal", "Input line was too long")),
            ("PONG", ("irc.test", "after")),
        ]
        # Nothing of it reached the channel, and the vandal's connection still works.
        assert await alice.sync() == []
        assert await bob.sync() == []
        await vandal.send("PRIVMSG #room :short and fine")
        await alice.read_until(is_text("vandal", "short and fine"))


# -- SendQ -----------------------------------------------------------------------------


async def test_client_that_never_reads_is_cut_off_at_its_sendq_and_others_lose_nothing(
    tmp_path: Path, clients: Clients
) -> None:
    # Flood control is off so the reader-less client can ask for output quickly. Each
    # round of requests (20 VERSION, about 12 KB) stays well under the SendQ: the cut-off
    # comes from output piling up (past what the kernel buffers hold), not one burst.
    settings = make_settings(tmp_path, sendq=65_536, flood_rate=0)
    async with running_server(settings) as server:
        alice, bob = await bystanders(server, clients)
        hog = await clients.open_slow_reader(server)
        transport = hog.writer.transport
        assert isinstance(transport, asyncio.Transport)
        # It never reads a byte, not even its welcome.
        transport.pause_reading()
        await hog.send("NICK hog", "USER hog 0 * :Hog", f"JOIN {CHANNEL}")
        for bystander in (alice, bob):
            await bystander.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "hog")

        alice_heard: list[Message] = []
        bob_heard: list[Message] = []
        for batch in range(1000):
            with contextlib.suppress(ConnectionError):
                await hog.send(*(["VERSION"] * 20))
            heard = await exchange(alice, bob, 1, f"batch {batch}")
            alice_heard += [*heard[0], *await alice.sync()]
            bob_heard += heard[1]
            if any(m.command == "QUIT" for m in alice_heard):
                break
        bob_heard += await bob.sync()
        for heard_by in (alice_heard, bob_heard):
            # The hog's departure is the only thing either of them heard besides the chat.
            assert [(source_nick(m), m.command, m.params) for m in heard_by] == [
                ("hog", "QUIT", ("SendQ exceeded",))
            ], "the client that never reads was never cut off"
        await exchange(alice, bob, 3, "after the cut-off")
        await bob.send(f"NAMES {CHANNEL}")
        names = [m for m in await bob.read_until(n.RPL_ENDOFNAMES) if m.command == n.RPL_NAMREPLY]
        assert sorted(names[0].params[-1].replace("@", "").split()) == ["alice", "bob"]


# -- slowloris -------------------------------------------------------------------------


async def drip(client: LineClient, data: bytes, pause: float) -> int:
    """Send ``data`` one byte at a time, ``pause`` seconds apart; the bytes sent."""
    sent = 0
    for byte in data:
        try:
            client.writer.write(bytes([byte]))
            await client.writer.drain()
        except ConnectionError:
            break
        sent += 1
        # Pacing the attack itself, not waiting for the server.
        await asyncio.sleep(pause)
    return sent


async def test_one_byte_per_second_client_is_closed_by_the_registration_timeout(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, registration_timeout=2.5)
    async with running_server(settings) as server:
        alice, bob = await bystanders(server, clients)
        loris = await clients.open(server)
        loop = asyncio.get_running_loop()
        started = loop.time()
        registration = b"NICK slowloris\r\nUSER loris 0 * :Slow Loris\r\n"
        async with asyncio.TaskGroup() as group:
            dripping = group.create_task(drip(loris, registration, 1.0))
            await exchange(alice, bob, 3, "while it drips")
            lines = await loris.read_until("ERROR", seconds=8)
            closed_after = loop.time() - started
            assert await loris.closed()
            dripping.cancel()
        assert lines[-1].params[0].endswith("[Registration timeout]")
        assert [m.command for m in lines] == ["ERROR"]
        # Closed by the deadline, though a byte arrived every second until then.
        assert 2.0 <= closed_after < 6.0
        await exchange(alice, bob, 3, "after the timeout")
        assert await alice.sync() == []


# -- invalid UTF-8 ---------------------------------------------------------------------


async def test_invalid_utf8_gets_fail_invalid_utf8_and_nothing_is_relayed(
    server: Server, clients: Clients
) -> None:
    alice, bob = await bystanders(server, clients)
    for line in (
        b"PRIVMSG #room :caf\xe9 au lait",
        b"PRIVMSG bob :\xff\xfe",
        b"@+example.org/x=\xc3 PRIVMSG #room :tagged",
    ):
        await alice.send(line)
        lines = await alice.sync()
        assert lines == [
            Message(
                "FAIL",
                (
                    "PRIVMSG",
                    "INVALID_UTF8",
                    "Message rejected, your message contained invalid UTF-8",
                ),
                "irc.test",
            )
        ]
        assert await bob.sync() == []
    await exchange(alice, bob, 3, "valid UTF-8 ✓")


# -- the socket level ------------------------------------------------------------------


async def test_server_still_accepts_after_a_client_resets_mid_line(
    server: Server, clients: Clients
) -> None:
    alice, bob = await bystanders(server, clients)
    sock = socket.create_connection(("127.0.0.1", port_of(server)))
    try:
        sock.sendall(b"NICK resetter\r\nUSER r 0 * :R\r\nPRIVMSG #room :half a li")
        # SO_LINGER 0: close with a reset, as a crashing client would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
    await exchange(alice, bob, 3, "after a reset")
    newcomer = await clients.connect(server, "newcomer")
    assert await newcomer.sync() == []


@pytest.mark.parametrize("line_length", [512, 2048])
async def test_relayed_text_is_cut_to_the_servers_line_length_not_to_512(
    tmp_path: Path, clients: Clients, line_length: int
) -> None:
    async with running_server(make_settings(tmp_path, line_length=line_length)) as server:
        alice = await clients.connect(server, "alice", "#long")
        bob = await clients.connect(server, "bob", "#long")
        text = "x" * (line_length - len("PRIVMSG #long :\r\n"))
        await alice.send(f"PRIVMSG #long :{text}")
        said = [m for m in await bob.read_until("PRIVMSG") if m.command == "PRIVMSG"]
        assert len(said) == 1
        relayed = said[0].params[-1]
        line = f":{said[0].source} PRIVMSG #long :{relayed}\r\n"
        # The sender's prefix made the line longer than allowed: cut to fit exactly.
        assert len(line.encode()) == line_length
        assert text.startswith(relayed)
        assert len(relayed) > 512 or line_length == 512


async def raw_lines_until_pong(client: LineClient) -> list[bytes]:
    """Every line the server sends ``client`` (CRLF included, as sent) before the PONG
    to a PING sent now."""
    await client.send("PING rawsync")
    lines: list[bytes] = []
    async with asyncio.timeout(5):
        while (line := await client.reader.readline()) and b" PONG " not in line:
            lines.append(line)
    return lines


async def test_relayed_reasons_topics_and_away_texts_are_cut_to_512_bytes(
    server: Server, clients: Clients
) -> None:
    # The longest nick and channel name, in two-byte letters: the sender's mask and the
    # channel add about 230 bytes to lines that each filled 510 bytes when sent.
    nick, channel = "ж" * 30, "#" + "ж" * 63
    actor = await clients.open(server)
    await actor.send(f"NICK {nick}", f"USER {'u' * 18} 0 * :Real")
    await actor.read_until(n.RPL_ENDOFMOTD)
    await actor.send(f"JOIN {channel}")
    await actor.read_until(n.RPL_ENDOFNAMES)
    watcher = await clients.open(server)
    await watcher.send("CAP REQ :away-notify", "CAP END")
    await watcher.register("watcher")
    await watcher.send(f"JOIN {channel}")
    await watcher.read_until(n.RPL_ENDOFNAMES)
    await clients.connect(server, "victim", channel)
    await watcher.sync()

    def filled(command: str) -> str:
        return command + "ж" * ((510 - len(command.encode())) // 2)

    sent = [
        filled(f"TOPIC {channel} :"),
        filled(f"KICK {channel} victim :"),
        filled("AWAY :"),
        filled(f"PART {channel} :"),
        f"JOIN {channel}",
        filled("QUIT :"),
    ]
    await actor.send(*sent)
    lines = await raw_lines_until_pong(watcher)

    relayed = {parse(line.rstrip(b"\r\n")).command: line for line in lines}
    assert {"TOPIC", "PART", "AWAY", "KICK", "QUIT"} <= set(relayed)
    for command, line in relayed.items():
        assert len(line) <= 512, (command, len(line))
        text = parse(line.rstrip(b"\r\n")).params[-1].removeprefix("Quit: ")
        if command != "JOIN":
            # Cut, on a character boundary, from what was sent.
            assert 100 < len(text) < 250, command
            assert set(text) == {"ж"}, command


async def test_topic_and_away_replies_are_cut_to_512_bytes(
    server: Server, clients: Clients
) -> None:
    # A topic and an away text as long as the line that sets them allows, asked for by
    # a user with a long nick in two-byte letters: the replies carry more around them.
    channel = "#" + "ж" * 20

    def filled(command: str) -> str:
        return command + "ж" * ((510 - len(command.encode())) // 2)

    setter = await clients.connect(server, "setter", channel)
    await setter.send(filled(f"TOPIC {channel} :"), filled("AWAY :"))
    await setter.sync()
    asker = await clients.open(server)
    await asker.send(f"NICK {'ж' * 30}", "USER asker 0 * :Asker")
    await asker.read_until(n.RPL_ENDOFMOTD)
    await asker.send(f"TOPIC {channel}", "PRIVMSG setter :hello")
    lines = await raw_lines_until_pong(asker)
    replies = {parse(line.rstrip(b"\r\n")).command: line for line in lines}
    for code in (n.RPL_TOPIC, n.RPL_AWAY):
        line = replies[code]
        assert len(line) <= 512, (code, len(line))
        text = parse(line.rstrip(b"\r\n")).params[-1]
        # Cut, on a character boundary, from what was set.
        assert set(text) == {"ж"}, code
        assert len(text) > 150, code


async def test_a_line_with_long_tags_counts_once_per_512_bytes_for_flood_control(
    tmp_path: Path, clients: Clients
) -> None:
    # Issue 20, seventh probe: lines of 4,000-byte client tags cost flood control what a
    # short line does, and each was relayed at that size to every member.
    settings = make_settings(tmp_path, flood_burst=10, flood_rate=20)
    async with running_server(settings) as server:
        alice, bob = await bystanders(server, clients)
        await alice.send("CAP REQ :message-tags")
        await alice.read_until("CAP")
        loop = asyncio.get_running_loop()
        tagged = f"@+x={'a' * 4000} PRIVMSG {CHANNEL} :tagged"
        started = loop.time()
        # Six lines of about 4 KB: 48 of the burst's 10, so (48 - 10) / 20 s at least.
        await alice.send(*[tagged] * 6, "PING :after")
        await alice.read_until(is_pong("after"), seconds=10)
        slowed = loop.time() - started
        assert slowed >= (48 - 10) / 20 - 0.3, f"six 4 KB lines answered in {slowed:.2f}s"
        heard = [m for m in await bob.sync() if m.command == "PRIVMSG"]
        assert [m.params[-1] for m in heard] == ["tagged"] * 6


async def test_a_list_far_over_the_sendq_goes_out_as_the_client_reads_it(
    tmp_path: Path, clients: Clients
) -> None:
    # SAFELIST: 800 channels with 400-byte topics make a LIST of about 350 KB for a
    # client whose SendQ is 64 KB. It goes out 200 lines at a time, each once the client
    # has read the last (all at once, what the kernel could not take counted against the
    # SendQ, and one LIST kept the server from everyone else for its whole length). The
    # client's next line waits for the end of its LIST, in order.
    settings = make_settings(tmp_path, sendq=65_536, flood_rate=0)
    async with running_server(settings) as server:
        makers = [await clients.connect(server, f"maker{k}") for k in range(16)]
        for k, maker in enumerate(makers):
            names = [f"#c{k}x{c}" for c in range(50)]
            await maker.send(*(f"JOIN {name}" for name in names))
            await maker.send(*(f"TOPIC {name} :{'t' * 400}" for name in names))
            await maker.sync()
        lister = await clients.open_slow_reader(server)
        transport = lister.writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        await lister.send("NICK lister", "USER lister 0 * :Lister")
        await lister.send("LIST", "PRIVMSG maker0 :listed")
        # Others are served while the LIST waits for its reader.
        await makers[1].send("PRIVMSG maker0 :meanwhile")
        heard = await makers[0].read_until(lambda m: m.command == "PRIVMSG")
        assert [(source_nick(m), m.params[-1]) for m in heard if m.command == "PRIVMSG"] == [
            ("maker1", "meanwhile")
        ]
        transport.resume_reading()
        listed = await lister.read_until(n.RPL_LISTEND, seconds=30)
        assert len([m for m in listed if m.command == n.RPL_LIST]) == 800
        after = await makers[0].read_until(lambda m: m.command == "PRIVMSG")
        assert [(source_nick(m), m.params[-1]) for m in after] == [("lister", "listed")]
