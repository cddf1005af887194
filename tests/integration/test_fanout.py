"""A channel message's fan-out over real sockets: members grouped by what they negotiated
(:class:`~hubbub.doors.irc.audience.IrcAudience`) each get exactly their own rendering,
once; a capability changed after registration moves the member to its new group; a
member that stops reading is cut at its SendQ while the others get everything.

The property test drives random joins, parts, capability changes and messages through
three clients and checks every line each of them received against a model of the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, parse
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of

CHANNEL = "#fan"
# The capabilities that change how a channel message is rendered for its recipient (or
# whether the sender hears it back).
CAPS = ("message-tags", "server-time", "echo-message")


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


async def raw_sync(client: LineClient, token: str) -> list[bytes]:
    """The raw lines the server sent before its answer to a PING sent now."""
    await client.send(f"PING {token}")
    lines: list[bytes] = []
    async with asyncio.timeout(10):
        while True:
            raw = await client.reader.readline()
            if not raw:
                raise EOFError(f"closed; saw {lines}")
            line = raw.rstrip(b"\r\n")
            message = parse(line)
            if message.command == "PONG" and token in message.params:
                return lines
            lines.append(line)


async def set_caps(client: LineClient, wanted: frozenset[str], had: frozenset[str]) -> None:
    changes = [cap for cap in sorted(wanted - had)] + [f"-{cap}" for cap in sorted(had - wanted)]
    if not changes:
        return
    await client.send(f"CAP REQ :{' '.join(changes)}")
    (ack,) = [m for m in await client.read_until("CAP") if m.command == "CAP"]
    assert ack.params[1] == "ACK", ack


def expected_tags(caps: frozenset[str]) -> set[str]:
    tags = {"msgid"} if "message-tags" in caps else set()
    return tags | {"time"} if "server-time" in caps else tags


# -- capability changes after registration ---------------------------------------------


async def test_a_capability_taken_after_registration_changes_what_the_member_gets(
    server: Server, clients: Clients
) -> None:
    alice = await clients.connect(server, "alice", CHANNEL)
    bob = await clients.connect(server, "bob", CHANNEL)
    # Client-only tags are relayed from senders that negotiated message-tags.
    await set_caps(alice, frozenset({"message-tags"}), frozenset())
    await alice.sync()

    async def heard(text: str) -> bytes:
        await alice.send(f"PRIVMSG {CHANNEL} :{text}")
        (line,) = [
            raw for raw in await raw_sync(bob, text) if parse(raw).command in ("PRIVMSG", "TAGMSG")
        ]
        return line

    assert not (await heard("bare")).startswith(b"@")
    await set_caps(bob, frozenset({"message-tags", "server-time"}), frozenset())
    tagged = parse(await heard("tagged"))
    assert set(tagged.tags) == {"msgid", "time"}
    assert tagged.params == (CHANNEL, "tagged")
    # TAGMSG reaches only members with message-tags: bob now has it.
    await alice.send(f"@+typing=active TAGMSG {CHANNEL}")
    got = [parse(raw) for raw in await raw_sync(bob, "typing")]
    assert [(m.command, m.tags.get("+typing")) for m in got] == [("TAGMSG", "active")]
    await set_caps(bob, frozenset({"server-time"}), frozenset({"message-tags", "server-time"}))
    timed = parse(await heard("timed"))
    assert set(timed.tags) == {"time"}
    await alice.send(f"@+typing=done TAGMSG {CHANNEL}")
    assert [parse(raw).command for raw in await raw_sync(bob, "no-typing")] == []


async def test_members_of_every_variant_get_one_line_each_of_their_own_rendering(
    server: Server, clients: Clients
) -> None:
    sender = await clients.connect(server, "sender", CHANNEL)
    await set_caps(sender, frozenset({"echo-message", "message-tags"}), frozenset())
    variants = [frozenset(), frozenset({"message-tags"}), frozenset({"server-time"})]
    variants.append(frozenset({"message-tags", "server-time"}))
    members = []
    for number, caps in enumerate(variants * 2):
        member = await clients.connect(server, f"m{number}", CHANNEL)
        await set_caps(member, caps, frozenset())
        members.append((member, caps))
    await sender.sync()

    await sender.send(f"PRIVMSG {CHANNEL} :once each")
    (echo,) = [parse(raw) for raw in await raw_sync(sender, "echo")]
    msgid = echo.tags["msgid"]
    by_variant: dict[frozenset[str], set[bytes]] = {}
    for member, caps in members:
        (line,) = [raw for raw in await raw_sync(member, "got") if b" PRIVMSG " in raw]
        message = parse(line)
        assert (source_nick(message), message.command, message.params) == (
            "sender",
            "PRIVMSG",
            (CHANNEL, "once each"),
        )
        assert set(message.tags) == expected_tags(caps)
        if "message-tags" in caps:
            assert message.tags["msgid"] == msgid
        by_variant.setdefault(caps, set()).add(line)
    # Members that negotiated alike got the same bytes: rendered once for them.
    assert all(len(lines) == 1 for lines in by_variant.values())


# -- SendQ -------------------------------------------------------------------------------


async def test_a_member_that_stops_reading_is_cut_at_its_sendq_and_the_others_get_everything(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, sendq=32_768, flood_rate=0)
    async with running_server(settings) as server:
        alice = await clients.connect(server, "alice", CHANNEL)
        bob = await clients.connect(server, "bob", CHANNEL)
        hog = await clients.open_slow_reader(server)
        transport = hog.writer.transport
        assert isinstance(transport, asyncio.Transport)
        await hog.register("hog")
        await hog.send(f"JOIN {CHANNEL}")
        await hog.read_until(n.RPL_ENDOFNAMES)
        transport.pause_reading()
        await bob.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "hog")

        text = "x" * 400
        said = 0
        bob_heard: list[Message] = []
        # Past the SendQ and what the kernel buffers hold, the hog must go; the bound
        # keeps the loop finite if it does not.
        for batch in range(2000):
            await alice.send(*[f"PRIVMSG {CHANNEL} :{batch} {text}"] * 10)
            said += 10
            bob_heard += await bob.sync()
            if any(m.command == "QUIT" for m in bob_heard):
                break
        quits = [m for m in bob_heard if m.command == "QUIT"]
        assert [(source_nick(m), m.params) for m in quits] == [("hog", ("SendQ exceeded",))]
        assert sum(m.command == "PRIVMSG" for m in bob_heard) == said
        await alice.send(f"PRIVMSG {CHANNEL} :after")
        await bob.read_until(lambda m: m.command == "PRIVMSG" and m.params[-1] == "after")


async def test_a_member_that_reads_is_not_cut_when_one_pass_brings_more_than_its_sendq(
    tmp_path: Path, clients: Clients
) -> None:
    # Issue 20, seventh probe: others' lines of one loop pass, with 4,000-byte client
    # tags, passed a reading member's SendQ before anything was written, and it was cut.
    settings = make_settings(tmp_path, sendq=32_768, flood_rate=0)
    async with running_server(settings) as server:
        victim = await clients.connect(server, "victim", CHANNEL)
        await set_caps(victim, frozenset({"message-tags"}), frozenset())
        senders = []
        for number in range(5):
            sender = await clients.connect(server, f"s{number}", CHANNEL)
            await set_caps(sender, frozenset({"message-tags"}), frozenset())
            senders.append(sender)
        await victim.sync()
        tag = "@+x=" + "a" * 4000
        lines = [f"{tag} PRIVMSG {CHANNEL} :{number}" for number in range(10)]
        # Each sender's ten lines in one write: read in one pass, about 200 KB for the
        # victim in all, six times its SendQ.
        await asyncio.gather(*(sender.send(*lines) for sender in senders))
        said: list[Message] = []

        def all_said(message: Message) -> bool:
            if message.command == "PRIVMSG":
                said.append(message)
            return len(said) == 50

        # A victim cut off would see ERROR and the end of the stream here.
        heard = await victim.read_until(all_said, seconds=10)
        assert {m.command for m in heard} == {"PRIVMSG"}
        assert all(m.tags["+x"] == "a" * 4000 for m in said)


# -- the property --------------------------------------------------------------------------


@dataclass
class Member:
    client: LineClient
    nick: str
    caps: frozenset[str] = frozenset()
    joined: bool = False
    heard: list[bytes] = field(default_factory=list)


OPERATIONS = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 2)),
    st.tuples(st.just("part"), st.integers(0, 2)),
    st.tuples(st.just("caps"), st.integers(0, 2), st.frozensets(st.sampled_from(CAPS))),
    st.tuples(st.just("say"), st.integers(0, 2), st.sampled_from(["hi", "a b", "ünï", ":)"])),
)


async def play(tmp_path: Path, operations: list[tuple[object, ...]]) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        members = []
        for number in range(3):
            client = await LineClient.open(port_of(server))
            await client.register(f"u{number}")
            members.append(Member(client, f"u{number}"))
        try:
            for step, operation in enumerate(operations):
                await check(members, step, operation)
        finally:
            for member in members:
                with contextlib.suppress(ConnectionError):
                    await member.client.close()


async def check(members: list[Member], step: int, operation: tuple[object, ...]) -> None:
    kind, index = operation[0], operation[1]
    assert isinstance(index, int)
    who = members[index]
    client = who.client
    if kind == "caps":
        wanted = operation[2]
        assert isinstance(wanted, frozenset)
        await set_caps(client, wanted, who.caps)
        who.caps = wanted
    elif kind == "join" and not who.joined:
        await client.send(f"JOIN {CHANNEL}")
        await client.read_until(n.RPL_ENDOFNAMES)
        who.joined = True
    elif kind == "part" and who.joined:
        await client.send(f"PART {CHANNEL}")
        await client.read_until(lambda m: m.command == "PART" and source_nick(m) == who.nick)
        who.joined = False
    elif kind == "say":
        await client.send(f"PRIVMSG {CHANNEL} :{operation[2]}")
    heard = {m.nick: await raw_sync(m.client, f"s{step}") for m in members}
    said = [parse(raw) for raws in heard.values() for raw in raws]
    if kind != "say":
        # Joins, parts and acks were read above; what is left is others' JOIN and PART.
        assert {m.command for m in said} <= {"JOIN", "PART"}, said
        return
    text = operation[2]
    msgids = set()
    for member in members:
        got = [parse(raw) for raw in heard[member.nick] if parse(raw).command != "JOIN"]
        if member is who:
            if not who.joined:
                # No such channel when it is empty, or not a member of it.
                assert [m.command for m in got] in (
                    [n.ERR_NOSUCHCHANNEL],
                    [n.ERR_CANNOTSENDTOCHAN],
                ), got
                continue
            hears = "echo-message" in who.caps
        else:
            hears = who.joined and member.joined
        if not hears:
            assert got == [], (member.nick, got)
            continue
        (line,) = got
        assert (source_nick(line), line.command, line.params) == (
            who.nick,
            "PRIVMSG",
            (CHANNEL, text),
        )
        assert set(line.tags) == expected_tags(member.caps), (member.nick, member.caps, line)
        if "msgid" in line.tags:
            msgids.add(line.tags["msgid"])
    assert len(msgids) <= 1, msgids


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=20))
def test_every_member_gets_exactly_its_rendering_of_every_message_whatever_came_before(
    tmp_path: Path, operations: list[tuple[object, ...]]
) -> None:
    asyncio.run(play(tmp_path, operations))
