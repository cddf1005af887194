"""Security issue 20, eighth probe, the rest: what one ordinary client's request may
cost the server or take from everyone.

- A CHATHISTORY page counts lines, not only messages: a page of 32-line messages was 32
  times the limit. It keeps the messages nearest its reference, always at least one.
- An account registers at most ``channels_per_account`` channels with ChanServ.
- WHO and LIST masks are at most 200 bytes, LIST takes at most 8 conditions and shows a
  channel named twice once, and a search of many users or channels costs flood control
  more than a line.
- MONITOR keeps only names that could be nicks.

Ninth probe: WHOWAS answers at most 10 entries; passwords checked or set (NickServ
PASSWORD and IDENTIFY, SASL) are at most HASHES_PER_ADDRESS a minute from one address;
a CHATHISTORY page counts long client-only tags as lines; at most MODES unknown mode
letters are answered; CHATHISTORY TARGETS finds conversations through the index (see
tests/storage/test_sqlite.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings

PASSWORD = "correct-horse-battery"
LINES = 32  # the default multiline_max_lines
HISTORY_CAPS = ("message-tags", "server-time", "batch", "draft/chathistory")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A server without flood control that stores each message before delivering it,
    so that CHATHISTORY right after a message finds it."""
    settings = make_settings(tmp_path, flood_rate=0.0, channels_per_account=2)
    async with running_server(settings.replace(history_sync=True)) as server:
        yield server


async def connect(clients: Clients, server: Server, nick: str, *caps: str) -> LineClient:
    client = await clients.open(server)
    if caps:
        await client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        ack = await client.read_until(lambda m: m.command == "CAP" and m.params[1] != "LS")
        assert ack[-1].params[1] == "ACK", ack[-1]
        await client.send("CAP END")
    await client.register(nick)
    return client


def texts(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "PRIVMSG"]


def multiline(reference: str, name: str) -> list[str]:
    return [
        f"BATCH +{reference} draft/multiline #t",
        *(f"@batch={reference} PRIVMSG #t :{name} {k}" for k in range(LINES)),
        f"BATCH -{reference}",
    ]


async def test_a_chathistory_page_of_multiline_messages_holds_at_most_limit_lines(
    server: Server, clients: Clients
) -> None:
    sender = await connect(clients, server, "sender", "batch", "draft/multiline")
    await sender.send("JOIN #t")
    await sender.read_until(n.RPL_ENDOFNAMES)
    # Four messages of 32 lines, then one of one: 129 lines in five messages.
    for index in range(4):
        await sender.send(*multiline(f"r{index}", f"m{index}"))
    await sender.send("PRIVMSG #t :last")
    await sender.sync()

    reader = await connect(clients, server, "reader", *HISTORY_CAPS)
    await reader.send("JOIN #t")
    await reader.read_until(n.RPL_ENDOFNAMES)

    # LATEST keeps the latest messages that fit in 100 lines: m1 to m3 and "last".
    await reader.send("CHATHISTORY LATEST #t * 100")
    latest = texts(await reader.sync())
    assert len(latest) == 3 * LINES + 1
    assert latest[0] == "m1 0"
    assert latest[-1] == "last"

    # AFTER keeps the earliest: m0 to m2 (the fourth would make 128).
    await reader.send("CHATHISTORY AFTER #t timestamp=2000-01-01T00:00:00.000Z 100")
    earliest = texts(await reader.sync())
    assert earliest == [f"m{i} {k}" for i in range(3) for k in range(LINES)]

    # A page always holds the message nearest its reference, whole, even over the limit.
    await reader.send("CHATHISTORY AFTER #t timestamp=2000-01-01T00:00:00.000Z 1")
    assert texts(await reader.sync()) == [f"m0 {k}" for k in range(LINES)]
    await reader.send("CHATHISTORY LATEST #t * 5")
    assert texts(await reader.sync()) == ["last"]


async def test_an_account_registers_at_most_channels_per_account_channels(
    server: Server, clients: Clients
) -> None:
    owner = await connect(clients, server, "owner")
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    for name in ("#one", "#two", "#three"):
        await owner.send(f"JOIN {name}")
        await owner.read_until(n.RPL_ENDOFNAMES)
    await owner.send("CS REGISTER #one", "CS REGISTER #two", "CS REGISTER #three")
    said = [m.params[-1] for m in await owner.sync() if m.command == "NOTICE"]
    assert said[:2] == ["#one is registered to owner.", "#two is registered to owner."]
    assert "too many channels" in said[2]
    assert "at most 2" in said[2]
    await owner.send("CS INFO #three")
    assert [m.params[-1] for m in await owner.sync()] == ["#three is not registered."]

    # Dropping one makes room again; another account has its own allowance.
    await owner.send("CS DROP #one", "CS REGISTER #three")
    said = [m.params[-1] for m in await owner.sync() if m.command == "NOTICE"]
    assert said == ["#one is no longer registered.", "#three is registered to owner."]
    other = await connect(clients, server, "other")
    await other.send(f"NS REGISTER {PASSWORD}", "JOIN #four")
    await other.read_until(n.RPL_ENDOFNAMES)
    await other.send("CS REGISTER #four")
    assert [m.params[-1] for m in await other.sync()] == ["#four is registered to other."]


async def test_who_and_list_masks_over_200_bytes_are_refused_and_200_are_searched(
    server: Server, clients: Clients
) -> None:
    asker = await connect(clients, server, "asker")
    bystander = await connect(clients, server, "bystander")
    await bystander.send("JOIN #room")
    await bystander.read_until(n.RPL_ENDOFNAMES)

    long_mask = "*" + "?" * 199 + "b"
    await asker.send(f"WHO {long_mask}", f"LIST {long_mask}")
    refused = await asker.sync()
    assert [(m.command, m.params[1:]) for m in refused if m.command == n.ERR_UNKNOWNERROR] == [
        ("400", ("WHO", "Mask too long (at most 200 bytes)")),
        ("400", ("LIST", "Mask too long (at most 200 bytes)")),
    ]
    assert [m.command for m in refused if m.command in (n.RPL_ENDOFWHO, n.RPL_LISTEND)] == [
        n.RPL_ENDOFWHO,
        n.RPL_LISTEND,
    ]
    assert not any(m.command in (n.RPL_WHOREPLY, n.RPL_LIST) for m in refused)

    fitting = "*" + "?" * 198 + "*"
    await asker.send(f"WHO {'b' + '*' * 199}", f"LIST {fitting}", f"LIST #{'r' * 10}*")
    searched = await asker.sync()
    assert [m.params[5] for m in searched if m.command == n.RPL_WHOREPLY] == ["bystander"]
    assert not any(m.command == n.ERR_UNKNOWNERROR for m in searched)

    # Nine conditions are more than a person writes; a channel named thrice shows once.
    nine = ",".join(f">{k}" for k in range(9))
    await asker.send(f"LIST {nine}", "LIST #room,#room,#room")
    answers = await asker.sync()
    assert [m.params[1:] for m in answers if m.command == n.ERR_UNKNOWNERROR] == [
        ("LIST", "Too many conditions (at most 8)")
    ]
    assert [m.params[1] for m in answers if m.command == n.RPL_LIST] == ["#room"]
    await bystander.sync()


async def test_monitor_keeps_only_names_that_could_be_nicks(
    server: Server, clients: Clients
) -> None:
    watcher = await connect(clients, server, "watcher")
    await watcher.send("MONITOR + #chan,bad*name,ok,,9digit,also!bad,friend")
    reported = await watcher.sync()
    offline = [m.params[-1] for m in reported if m.command == n.RPL_MONOFFLINE]
    assert offline == ["ok,friend"]
    await watcher.send("MONITOR L")
    listed = [m.params[-1] for m in await watcher.sync() if m.command == n.RPL_MONLIST]
    assert sorted(",".join(listed).split(",")) == ["friend", "ok"]


async def test_a_who_of_every_user_costs_flood_control_a_line_per_100_users(
    tmp_path: Path, clients: Clients
) -> None:
    # 250 users: WHO * costs its own line and 2 more. Registering took 2 lines of the
    # burst of 3, so with a line a second the PING after it waits about 3 s (1 s when a
    # search cost one line, as it did).
    settings = make_settings(tmp_path, flood_burst=3, flood_rate=1.0, connections_per_ip=0)
    async with running_server(settings) as server:
        crowd = [await clients.open(server) for _ in range(249)]
        for index, member in enumerate(crowd):
            await member.send(f"NICK u{index}", f"USER u{index} 0 * :U")
        for member in crowd:
            await member.read_until(n.RPL_ENDOFMOTD, seconds=20)
        asker = await clients.open(server)
        await asker.register("asker")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asker.send("WHO *", "PING :after")
        found = await asker.read_until("PONG", seconds=10)
        assert len([m for m in found if m.command == n.RPL_WHOREPLY]) == 250
        waited = loop.time() - started
        assert waited >= 2.0, f"the PING after WHO * was answered in {waited:.2f}s"
        # The others were not slowed down.
        await crowd[0].sync()


async def test_whowas_answers_at_most_ten_entries(server: Server, clients: Clients) -> None:
    for _ in range(15):
        former = await connect(clients, server, "vic")
        await former.send("QUIT :again")
        assert await former.closed()
    asker = await connect(clients, server, "asker")
    await asker.send("WHOWAS vic", "WHOWAS vic 3", "WHOWAS vic 1000")
    replies = await asker.sync()
    counts, count = [], 0
    for message in replies:
        if message.command == n.RPL_WHOWASUSER:
            count += 1
        elif message.command == n.RPL_ENDOFWHOWAS:
            counts.append(count)
            count = 0
    assert counts == [10, 3, 10]


async def test_password_checks_from_one_address_are_throttled(
    server: Server, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = server.irc.accounts
    assert accounts is not None
    monkeypatch.setattr(accounts.hashing, "per_address", 3)
    owner = await connect(clients, server, "owner")
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    for index in range(3):
        await owner.send(f"NS PASSWORD {PASSWORD}{index}")
    await owner.send(f"NS PASSWORD {PASSWORD}x", f"NS IDENTIFY owner {PASSWORD}2")
    said = [m.params[-1] for m in await owner.sync() if m.command == "NOTICE"]
    assert said[:3] == ["Password changed."] * 3
    assert len(said) == 5
    for refusal in said[3:]:
        assert "Too many password checks from your address" in refusal, said


async def test_a_chathistory_page_counts_long_tags_as_lines(
    server: Server, clients: Clients
) -> None:
    sender = await connect(clients, server, "sender", "message-tags")
    await sender.send("JOIN #t")
    await sender.read_until(n.RPL_ENDOFNAMES)
    big = "a" * 4000
    await sender.send(*(f"@+x={big} PRIVMSG #t :tagged {k}" for k in range(30)))
    await sender.sync()
    reader = await connect(clients, server, "reader", *HISTORY_CAPS)
    await reader.send("JOIN #t")
    await reader.read_until(n.RPL_ENDOFNAMES)
    await reader.send("CHATHISTORY LATEST #t * 100")
    # Each costs 1 + 7 lines (4,000 bytes of tags): 12 fit in 100.
    assert texts(await reader.sync()) == [f"tagged {k}" for k in range(18, 30)]


async def test_at_most_modes_unknown_mode_letters_are_answered(
    server: Server, clients: Clients
) -> None:
    member = await connect(clients, server, "member")
    await member.send("JOIN #m")
    await member.read_until(n.RPL_ENDOFNAMES)
    letters = "".join(chr(0x4E00 + k) for k in range(160))
    await member.send(f"MODE #m +{letters}")
    unknown = [m.params[1] for m in await member.sync() if m.command == n.ERR_UNKNOWNMODE]
    assert unknown == list(letters[:20])


async def test_chathistory_targets_costs_flood_control_more_than_a_line(
    tmp_path: Path, clients: Clients
) -> None:
    # Issue 20, tenth probe: each TARGETS is up to a couple of thousand lookups on the
    # store; it costs 5 lines more (and runs one at a time on the store).
    settings = make_settings(tmp_path, flood_burst=3, flood_rate=5.0)
    async with running_server(settings) as server:
        reader = await connect(clients, server, "reader", *HISTORY_CAPS)
        loop = asyncio.get_running_loop()
        started = loop.time()
        window = "timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z"
        await reader.send(f"CHATHISTORY TARGETS {window} 10", "PING :after")
        await reader.read_until("PONG", seconds=10)
        # The burst of 3, less what registering took, then 5 a second: at least a second.
        waited = loop.time() - started
        assert waited >= 0.8, f"answered in {waited:.2f}s"
