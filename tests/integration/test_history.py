"""Message history end to end: CHATHISTORY against the IRCv3 draft/chathistory spec, the
plain door's recent lines, restarts, hard kills and a damaged database.

The in-process tests set the hub's clock so that message times are exact (whole
seconds plus a quarter) and every reference in a request is unambiguous; the tests of
timestamp rounding and of hard kills use real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Settings
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.conftest import ServeProcess, ServeProcesses
from tests.helpers import Clock, LineClient, running_server
from tests.integration.conftest import Clients, make_settings

CHAN = "#hist"
FULL_CAPS = (
    "batch",
    "draft/chathistory",
    "echo-message",
    "labeled-response",
    "message-tags",
    "server-time",
)
TIME_TAG = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BEFORE_ALL = "timestamp=2020-01-01T00:00:00.000Z"
AFTER_ALL = "timestamp=2262-01-01T00:00:00.000Z"
WAIT = 5.0


def settings_for(tmp_path: Path, **limits: float) -> Settings:
    """A server on port 0 keeping history in ``tmp_path``, without flood control."""
    return make_settings(tmp_path, flood_rate=0.0, **limits)


# -- clients ---------------------------------------------------------------------------


async def connect(
    clients: Clients,
    server: Server,
    nick: str,
    *channels: str,
    caps: Sequence[str] = FULL_CAPS,
) -> LineClient:
    """A registered client with ``caps`` that joined ``channels``, everything so far read."""
    client = await clients.open(server)
    if caps:
        await client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        ack = await client.read_until(
            lambda m: m.command == "CAP" and m.params[1] in ("ACK", "NAK")
        )
        assert ack[-1].params[1] == "ACK", ack[-1]
        await client.send("CAP END")
    await client.register(nick)
    for channel in channels:
        await client.send(f"JOIN {channel}")
        await client.read_until(n.RPL_ENDOFNAMES)
    await client.sync()
    return client


async def request(client: LineClient, line: str) -> list[Message]:
    """Everything the server answered to ``line``: what came before it (messages from
    others) is read and set aside first, and a PING barrier marks the end."""
    await client.sync()
    await client.send(line)
    return await client.sync()


async def say(
    client: LineClient, target: str, *texts: str, clock: Clock | None = None
) -> list[Message]:
    """Send messages one by one, each handled before the clock moves a second on; return
    their echoes (echo-message), which carry the msgid and time the server gave them."""
    echoes = []
    for text in texts:
        await client.send(f"PRIVMSG {target} :{text}")
        lines = await client.sync()
        echoes += [m for m in lines if m.command == "PRIVMSG" and m.params[-1] == text]
        if clock is not None:
            clock.now += 1.0
    assert len(echoes) == len(texts), echoes
    return echoes


@dataclass(frozen=True, slots=True)
class Batch:
    """A ``chathistory`` batch: its opening line and the messages in it."""

    start: Message
    messages: list[Message]

    @property
    def texts(self) -> list[str]:
        return [m.params[-1] for m in self.messages]

    @property
    def msgids(self) -> list[str]:
        return [m.tags["msgid"] for m in self.messages]


def chathistory_batch(lines: list[Message], target: str) -> Batch:
    """Check a reply is one ``chathistory`` batch for ``target`` (spec: "the batch MUST
    have type chathistory and take a single additional parameter") and unpack it."""
    assert len(lines) >= 2, lines
    start, *inner, end = lines
    assert start.command == "BATCH", lines
    assert start.params[0].startswith("+"), start
    assert start.params[1:] == ("chathistory", target), start
    reference = start.params[0][1:]
    assert end.command == "BATCH", lines
    assert end.params == (f"-{reference}",), end
    for message in inner:
        assert message.command in ("PRIVMSG", "NOTICE"), message
        assert message.tags.get("batch") == reference, message
        assert TIME_TAG.match(message.tags.get("time", "")), message
        assert message.tags.get("msgid"), message
    return Batch(start, inner)


async def history(client: LineClient, line: str, target: str = CHAN) -> Batch:
    return chathistory_batch(await request(client, line), target)


def fail_of(lines: list[Message]) -> Message:
    """The one FAIL CHATHISTORY reply among ``lines``."""
    fails = [m for m in lines if m.command == "FAIL"]
    assert len(fails) == 1, lines
    assert fails[0].params[0] == "CHATHISTORY", fails[0]
    assert not any(m.command == "BATCH" for m in lines), lines
    return fails[0]


async def wait_stored(client: LineClient, target: str, count: int) -> None:
    """Until the write-behind writer has stored ``count`` messages of ``target``."""
    async with asyncio.timeout(WAIT):
        for _ in range(10_000):
            found = await history(client, f"CHATHISTORY LATEST {target} * 100", target)
            if len(found.messages) >= count:
                return
    raise AssertionError(f"{target}: fewer than {count} messages stored")


def texts(echoes: Sequence[Message]) -> list[str]:
    return [m.params[-1] for m in echoes]


def msgids(echoes: Sequence[Message]) -> list[str]:
    return [m.tags["msgid"] for m in echoes]


# -- fixtures --------------------------------------------------------------------------


@dataclass
class Chat:
    """A running server with a settable clock; alice and bob in #hist, alice has said
    ``message 0`` … ``message 9``, one second apart."""

    server: Server
    clock: Clock
    alice: LineClient
    bob: LineClient
    echoes: list[Message]

    def time_of(self, number: int) -> str:
        return self.echoes[number].tags["time"]

    def msgid_of(self, number: int) -> str:
        return self.echoes[number].tags["msgid"]


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Server, Clock]]:
    async with running_server(settings_for(tmp_path)) as server:
        clock = Clock(float(int(time.time()) - 3600) + 0.25)
        server.hub.clock = clock
        yield server, clock


@pytest.fixture
async def chat(clocked: tuple[Server, Clock], clients: Clients) -> Chat:
    server, clock = clocked
    alice = await connect(clients, server, "alice", CHAN)
    bob = await connect(clients, server, "bob", CHAN)
    echoes = await say(alice, CHAN, *(f"message {k}" for k in range(10)), clock=clock)
    await wait_stored(alice, CHAN, 10)
    return Chat(server, clock, alice, bob, echoes)


def numbered(*numbers: int) -> list[str]:
    return [f"message {k}" for k in numbers]


# -- capability and ISUPPORT -----------------------------------------------------------


async def test_draft_chathistory_cap_and_isupport_tokens_are_offered(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path, chathistory=42)) as server:
        client = await clients.open(server)
        await client.send("CAP LS 302")
        (ls,) = await client.read_until("CAP")
        assert "draft/chathistory" in ls.params[-1].split()
        await client.send("CAP END")
        welcome = await client.register("capper")
        tokens = " ".join(" ".join(m.params[1:-1]) for m in welcome if m.command == n.RPL_ISUPPORT)
        # "CHATHISTORY MUST be sent ... the maximum number of messages"; MSGREFTYPES SHOULD.
        assert "CHATHISTORY=42" in tokens.split()
        (reftypes,) = [t for t in tokens.split() if t.startswith("MSGREFTYPES=")]
        assert set(reftypes.removeprefix("MSGREFTYPES=").split(",")) == {"timestamp", "msgid"}


async def test_without_history_nothing_is_offered_and_chathistory_fails(
    tmp_path: Path, clients: Clients
) -> None:
    settings = settings_for(tmp_path).replace(history=False)
    async with running_server(settings) as server:
        client = await clients.open(server)
        await client.send("CAP LS 302")
        (ls,) = await client.read_until("CAP")
        assert "draft/chathistory" not in ls.params[-1].split()
        await client.send("CAP END")
        welcome = await client.register("nohist")
        tokens = " ".join(" ".join(m.params) for m in welcome if m.command == n.RPL_ISUPPORT)
        assert "CHATHISTORY=" not in tokens
        assert "MSGREFTYPES=" not in tokens
        await client.send(f"JOIN {CHAN}")
        await client.read_until(n.RPL_ENDOFNAMES)
        fail = fail_of(await request(client, f"CHATHISTORY LATEST {CHAN} * 10"))
        assert fail.params[1:3] == ("MESSAGE_ERROR", "LATEST")
    assert not (tmp_path / "hubbub.sqlite3").exists()


# -- LATEST, BEFORE, AFTER, AROUND, BETWEEN --------------------------------------------


async def test_latest_star_returns_the_newest_messages_oldest_first_as_they_were_sent(
    chat: Chat,
) -> None:
    got = await history(chat.bob, f"CHATHISTORY LATEST {CHAN} * 100")

    assert got.texts == numbered(*range(10))
    # "The msgid tag ... MUST be the msgid tag as originally sent by the IRC server."
    assert got.msgids == msgids(chat.echoes)
    for replayed, echo in zip(got.messages, chat.echoes, strict=True):
        assert replayed.command == "PRIVMSG"
        assert replayed.source == echo.source
        assert replayed.params == (CHAN, echo.params[-1])
        assert replayed.tags["time"] == echo.tags["time"]


async def test_latest_star_with_a_limit_returns_the_last_messages(chat: Chat) -> None:
    assert (await history(chat.alice, f"CHATHISTORY LATEST {CHAN} * 3")).texts == numbered(7, 8, 9)
    assert (await history(chat.alice, f"CHATHISTORY LATEST {CHAN} * 1")).texts == numbered(9)


async def test_latest_with_a_reference_returns_only_later_messages(chat: Chat) -> None:
    by_msgid = await history(chat.bob, f"CHATHISTORY LATEST {CHAN} msgid={chat.msgid_of(4)} 100")
    assert by_msgid.texts == numbered(5, 6, 7, 8, 9)
    by_time = await history(chat.bob, f"CHATHISTORY LATEST {CHAN} timestamp={chat.time_of(4)} 100")
    assert by_time.texts == numbered(5, 6, 7, 8, 9)
    # Up to limit of the most recent, still after the reference.
    limited = await history(chat.bob, f"CHATHISTORY LATEST {CHAN} msgid={chat.msgid_of(4)} 2")
    assert limited.texts == numbered(8, 9)
    assert (
        await history(chat.bob, f"CHATHISTORY LATEST {CHAN} msgid={chat.msgid_of(9)} 10")
    ).messages == []


async def test_before_excludes_the_reference_and_returns_the_closest_messages(
    chat: Chat,
) -> None:
    for reference in (f"msgid={chat.msgid_of(6)}", f"timestamp={chat.time_of(6)}"):
        got = await history(chat.bob, f"CHATHISTORY BEFORE {CHAN} {reference} 100")
        assert got.texts == numbered(*range(6)), reference
        got = await history(chat.bob, f"CHATHISTORY BEFORE {CHAN} {reference} 2")
        assert got.texts == numbered(4, 5), reference
    got = await history(chat.bob, f"CHATHISTORY BEFORE {CHAN} msgid={chat.msgid_of(0)} 10")
    assert got.messages == []


async def test_after_excludes_the_reference_and_returns_the_closest_messages(
    chat: Chat,
) -> None:
    for reference in (f"msgid={chat.msgid_of(3)}", f"timestamp={chat.time_of(3)}"):
        got = await history(chat.bob, f"CHATHISTORY AFTER {CHAN} {reference} 100")
        assert got.texts == numbered(*range(4, 10)), reference
        got = await history(chat.bob, f"CHATHISTORY AFTER {CHAN} {reference} 3")
        assert got.texts == numbered(4, 5, 6), reference
    got = await history(chat.bob, f"CHATHISTORY AFTER {CHAN} {AFTER_ALL} 10")
    assert got.messages == []


async def test_around_a_msgid_centres_on_it_within_the_limit(chat: Chat) -> None:
    reference = f"msgid={chat.msgid_of(7)}"
    three = await history(chat.bob, f"CHATHISTORY AROUND {CHAN} {reference} 3")
    assert three.texts == numbered(6, 7, 8)
    many = await history(chat.bob, f"CHATHISTORY AROUND {CHAN} {reference} 5")
    assert len(many.texts) <= 5
    assert "message 7" in many.texts
    assert many.texts == sorted(many.texts)


async def test_around_a_msgid_with_limit_1_returns_that_message(chat: Chat) -> None:
    # irctest _validate_chathistory_AROUND: AROUND msgid=X 1 is exactly [X].
    got = await history(chat.bob, f"CHATHISTORY AROUND {CHAN} msgid={chat.msgid_of(7)} 1")
    assert got.texts == numbered(7)


async def test_around_a_timestamp_includes_the_message_at_it(chat: Chat) -> None:
    got = await history(chat.bob, f"CHATHISTORY AROUND {CHAN} timestamp={chat.time_of(7)} 3")
    assert "message 7" in got.texts
    assert len(got.texts) <= 3


async def test_between_excludes_both_ends_and_counts_from_the_first(chat: Chat) -> None:
    references = [
        (f"msgid={chat.msgid_of(0)}", f"msgid={chat.msgid_of(9)}"),
        (f"timestamp={chat.time_of(0)}", f"timestamp={chat.time_of(9)}"),
    ]
    for first, last in references:
        forwards = await history(chat.bob, f"CHATHISTORY BETWEEN {CHAN} {first} {last} 100")
        assert forwards.texts == numbered(*range(1, 9)), first
        backwards = await history(chat.bob, f"CHATHISTORY BETWEEN {CHAN} {last} {first} 100")
        assert backwards.texts == numbered(*range(1, 9)), first
        # "counted starting from and excluding the first message selector"
        forwards = await history(chat.bob, f"CHATHISTORY BETWEEN {CHAN} {first} {last} 3")
        assert forwards.texts == numbered(1, 2, 3), first
        backwards = await history(chat.bob, f"CHATHISTORY BETWEEN {CHAN} {last} {first} 3")
        assert backwards.texts == numbered(6, 7, 8), first


async def test_a_limit_above_the_isupport_maximum_is_capped(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path, chathistory=4)) as server:
        alice = await connect(clients, server, "alice", CHAN)
        await say(alice, CHAN, *numbered(*range(6)))
        await wait_stored(alice, CHAN, 4)
        await wait_stored_exactly(alice, CHAN, "message 5")
        got = await history(alice, f"CHATHISTORY LATEST {CHAN} * 1000")
        assert got.texts == numbered(2, 3, 4, 5)
        huge = await history(alice, f"CHATHISTORY LATEST {CHAN} * {10**30}")
        assert huge.texts == numbered(2, 3, 4, 5)


async def wait_stored_exactly(client: LineClient, target: str, last_text: str) -> None:
    """Until the latest stored message of ``target`` is ``last_text``."""
    async with asyncio.timeout(WAIT):
        for _ in range(10_000):
            found = await history(client, f"CHATHISTORY LATEST {target} * 1", target)
            if found.texts == [last_text]:
                return
    raise AssertionError(f"{last_text!r} never stored")


async def test_an_empty_history_is_an_empty_batch(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, _ = clocked
    alice = await connect(clients, server, "alice", "#quiet")
    for line in (
        "CHATHISTORY LATEST #quiet * 10",
        f"CHATHISTORY BEFORE #quiet {AFTER_ALL} 10",
        f"CHATHISTORY AFTER #quiet {BEFORE_ALL} 10",
        f"CHATHISTORY BETWEEN #quiet {BEFORE_ALL} {AFTER_ALL} 10",
        f"CHATHISTORY AROUND #quiet {AFTER_ALL} 10",
    ):
        assert (await history(alice, line, "#quiet")).messages == [], line


async def test_notices_actions_and_client_tags_are_replayed_tagmsg_and_statusmsg_are_not(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, _ = clocked
    alice = await connect(clients, server, "alice", CHAN)
    await alice.send(
        f"NOTICE {CHAN} :a notice",
        f"PRIVMSG {CHAN} :\x01ACTION waves\x01",
        f"@+example.org/colour=red TAGMSG {CHAN}",
        f"@+example.org/colour=blue;+draft/reply=abc PRIVMSG {CHAN} :tagged",
        f"PRIVMSG @{CHAN} :for operators only",
        f"PRIVMSG {CHAN} :last",
    )
    await alice.sync()
    await wait_stored_exactly(alice, CHAN, "last")

    got = await history(alice, f"CHATHISTORY LATEST {CHAN} * 100")

    assert [(m.command, m.params[-1]) for m in got.messages] == [
        ("NOTICE", "a notice"),
        ("PRIVMSG", "\x01ACTION waves\x01"),
        ("PRIVMSG", "tagged"),
        ("PRIVMSG", "last"),
    ]
    tagged = got.messages[2]
    assert tagged.tags["+example.org/colour"] == "blue"
    assert tagged.tags["+draft/reply"] == "abc"


# -- timestamps as the client sees them ------------------------------------------------


@pytest.mark.parametrize("fraction", [0.0004, 0.9996], ids=["rounded-down", "rounded-up"])
async def test_a_timestamp_taken_from_a_time_tag_excludes_that_message(
    clocked: tuple[Server, Clock], clients: Clients, fraction: float
) -> None:
    # Real clocks are finer than server-time's milliseconds: the time tag a client sees
    # is rounded. "BEFORE/AFTER ... excluding the given timestamp" must hold for the
    # timestamp the client was given (irctest _validate_chathistory_AFTER and BEFORE).
    server, clock = clocked
    clock.now = float(int(clock.now)) + fraction
    alice = await connect(clients, server, "alice", CHAN)
    echoes = await say(alice, CHAN, *numbered(*range(6)), clock=clock)
    await wait_stored(alice, CHAN, 6)
    at = [m.tags["time"] for m in echoes]
    assert len(set(at)) == 6

    after = await history(alice, f"CHATHISTORY AFTER {CHAN} timestamp={at[2]} 100")
    before = await history(alice, f"CHATHISTORY BEFORE {CHAN} timestamp={at[3]} 100")
    latest = await history(alice, f"CHATHISTORY LATEST {CHAN} timestamp={at[2]} 100")
    between = await history(
        alice, f"CHATHISTORY BETWEEN {CHAN} timestamp={at[1]} timestamp={at[4]} 100"
    )

    assert after.texts == numbered(3, 4, 5)
    assert before.texts == numbered(0, 1, 2)
    assert latest.texts == numbered(3, 4, 5)
    assert between.texts == numbered(2, 3)


async def test_msgid_pagination_does_not_skip_messages_that_share_a_timestamp(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    # "Servers SHOULD provide clients with a consistent message order ... which
    # determinately orders any two messages (even if they share a timestamp); this will
    # allow BEFORE, AFTER, and BETWEEN queries that use msgids for pagination to function."
    server, _ = clocked  # the clock stands still: every message has the same time
    alice = await connect(clients, server, "alice", CHAN)
    echoes = await say(alice, CHAN, *numbered(*range(6)))
    await wait_stored(alice, CHAN, 6)

    latest = await history(alice, f"CHATHISTORY LATEST {CHAN} * 2")
    assert latest.texts == numbered(4, 5)
    page = await history(alice, f"CHATHISTORY BEFORE {CHAN} msgid={latest.msgids[0]} 2")
    assert page.texts == numbered(2, 3)
    after = await history(alice, f"CHATHISTORY AFTER {CHAN} msgid={echoes[1].tags['msgid']} 10")
    assert after.texts == numbered(2, 3, 4, 5)


# -- private conversations -------------------------------------------------------------


async def test_a_private_conversation_is_seen_by_both_sides_and_nobody_else(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, clock = clocked
    alice = await connect(clients, server, "alice")
    bob = await connect(clients, server, "bob")
    carol = await connect(clients, server, "carol")
    sent = [
        *await say(alice, "bob", "hi bob", clock=clock),
        *await say(bob, "alice", "hi alice", clock=clock),
        *await say(alice, "BOB", "how are you?", clock=clock),
    ]
    await say(carol, "alice", "carol to alice", clock=clock)
    await say(alice, "carol", "alice to carol", clock=clock)
    await wait_stored(alice, "bob", 3)

    for client, other in ((alice, "bob"), (bob, "alice"), (bob, "ALICE")):
        got = await history(client, f"CHATHISTORY LATEST {other} * 100", other)
        assert got.texts == ["hi bob", "hi alice", "how are you?"], other
        assert got.msgids == msgids(sent)
        assert [m.source for m in got.messages] == [m.source for m in sent]

    with_carol = await history(alice, "CHATHISTORY LATEST carol * 100", "carol")
    assert with_carol.texts == ["carol to alice", "alice to carol"]
    # carol has no conversation with bob, and cannot read alice and bob's.
    assert (await history(carol, "CHATHISTORY LATEST bob * 100", "bob")).messages == []
    got = await history(carol, "CHATHISTORY LATEST alice * 100", "alice")
    assert got.texts == ["carol to alice", "alice to carol"]


async def test_a_private_conversation_pages_with_msgids_from_either_side(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, clock = clocked
    alice = await connect(clients, server, "alice")
    bob = await connect(clients, server, "bob")
    for k in range(3):
        await say(alice, "bob", f"a{k}", clock=clock)
        await say(bob, "alice", f"b{k}", clock=clock)
    await wait_stored(alice, "bob", 6)

    latest = await history(bob, "CHATHISTORY LATEST alice * 2", "alice")
    assert latest.texts == ["a2", "b2"]
    older = await history(alice, f"CHATHISTORY BEFORE bob msgid={latest.msgids[0]} 10", "bob")
    assert older.texts == ["a0", "b0", "a1", "b1"]


# -- refusals --------------------------------------------------------------------------


async def test_a_non_member_gets_invalid_target_and_sees_nothing(
    chat: Chat, clients: Clients
) -> None:
    carol = await connect(clients, chat.server, "carol")
    for line in (
        f"CHATHISTORY LATEST {CHAN} * 10",
        f"CHATHISTORY BEFORE {CHAN} {AFTER_ALL} 10",
        f"CHATHISTORY AFTER {CHAN} msgid={chat.msgid_of(1)} 10",
        f"CHATHISTORY AROUND {CHAN} msgid={chat.msgid_of(1)} 10",
        f"CHATHISTORY BETWEEN {CHAN} {BEFORE_ALL} {AFTER_ALL} 10",
        "CHATHISTORY LATEST #nonexistent * 10",
    ):
        lines = await request(carol, line)
        assert fail_of(lines).params[1] == "INVALID_TARGET", line
        assert not any(m.command == "PRIVMSG" for m in lines), line

    # Once out of the channel, alice cannot read it either; bob still can.
    await chat.alice.send(f"PART {CHAN}")
    await chat.alice.read_until("PART")
    lines = await request(chat.alice, f"CHATHISTORY LATEST {CHAN} * 10")
    assert fail_of(lines).params[1] == "INVALID_TARGET"
    assert len((await history(chat.bob, f"CHATHISTORY LATEST {CHAN} * 100")).messages) == 10


async def test_fail_replies_name_the_subcommand_as_the_spec_shows(
    chat: Chat, clients: Clients
) -> None:
    # "FAIL CHATHISTORY INVALID_TARGET the_given_command the_given_target :..." and
    # "FAIL CHATHISTORY INVALID_PARAMS the_given_command [the_given_timestamp] :..."
    # (irctest testInvalidTargets expects params CHATHISTORY INVALID_TARGET LATEST ...).
    carol = await connect(clients, chat.server, "carol")
    fail = fail_of(await request(carol, f"CHATHISTORY LATEST {CHAN} * 10"))
    assert fail.params[1:4] == ("INVALID_TARGET", "LATEST", CHAN)

    fail = fail_of(await request(chat.alice, f"CHATHISTORY BEFORE {CHAN} timestamp=soon 10"))
    assert fail.params[1:3] == ("INVALID_PARAMS", "BEFORE")

    fail = fail_of(await request(chat.alice, f"CHATHISTORY LATEST {CHAN} * 0"))
    assert fail.params[1:3] == ("INVALID_PARAMS", "LATEST")

    fail = fail_of(await request(chat.alice, f"CHATHISTORY SIDEWAYS {CHAN} * 10"))
    assert fail.params[1:3] == ("INVALID_PARAMS", "SIDEWAYS")


BAD_LIMITS = ["0", "-1", "abc", "1.5", "1e3", "0x10", "+5", "²", "٣", "10 ", "*"]


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=[f"limit{k}" for k in range(len(BAD_LIMITS))])
async def test_a_bad_limit_gets_fail_invalid_params_and_the_client_goes_on(
    chat: Chat, limit: str
) -> None:
    lines = await request(chat.alice, f"CHATHISTORY LATEST {CHAN} * :{limit}")

    assert fail_of(lines).params[1] == "INVALID_PARAMS", lines
    assert (await history(chat.alice, f"CHATHISTORY LATEST {CHAN} * 1")).texts == numbered(9)


BAD_REFERENCES = [
    "timestamp=yesterday",
    "timestamp=",
    "timestamp=2024-13-45T99:99:99.000Z",
    "timestamp=2024-01-01T00:00:00.000",
    "timestamp=2024-01-01 00:00:00.000Z",
    "timestamp=2024-01-01T00:00:00.000Z;x",
    "timestamp=0000-01-01T00:00:00.000Z",
    "timestamp=２０２４-01-01T00:00:00.000Z",
    "msgid=",
    "2024-01-01T00:00:00.000Z",
    "nothing",
    "=",
    "*",
]


@pytest.mark.parametrize("subcommand", ["BEFORE", "AFTER", "AROUND"])
@pytest.mark.parametrize(
    "reference", BAD_REFERENCES, ids=[f"ref{k}" for k in range(len(BAD_REFERENCES))]
)
async def test_a_bad_reference_gets_fail_invalid_params(
    chat: Chat, subcommand: str, reference: str
) -> None:
    lines = await request(chat.alice, f"CHATHISTORY {subcommand} {CHAN} {reference} 10")

    assert fail_of(lines).params[1] == "INVALID_PARAMS", lines


@pytest.mark.parametrize("reference", ["timestamp=soon", "msgid=", "bogus"])
async def test_a_bad_reference_in_latest_or_between_gets_fail_invalid_params(
    chat: Chat, reference: str
) -> None:
    for line in (
        f"CHATHISTORY LATEST {CHAN} {reference} 10",
        f"CHATHISTORY BETWEEN {CHAN} {reference} {AFTER_ALL} 10",
        f"CHATHISTORY BETWEEN {CHAN} {BEFORE_ALL} {reference} 10",
        f"CHATHISTORY TARGETS {reference} {AFTER_ALL} 10",
    ):
        assert fail_of(await request(chat.alice, line)).params[1] == "INVALID_PARAMS", line


async def test_an_unsupported_reference_type_gets_invalid_params_or_invalid_msgreftype(
    chat: Chat,
) -> None:
    lines = await request(chat.alice, f"CHATHISTORY BEFORE {CHAN} seq=5 10")
    assert fail_of(lines).params[1] in ("INVALID_PARAMS", "INVALID_MSGREFTYPE")


async def test_an_unknown_msgid_is_not_called_an_unsupported_reference_type(
    chat: Chat,
) -> None:
    # INVALID_MSGREFTYPE means "a reference type the server does not support"; msgid is
    # supported (MSGREFTYPES), the id is just unknown (expired, or another conversation's).
    lines = await request(chat.alice, f"CHATHISTORY BEFORE {CHAN} msgid=no-such-id 10")
    fails = [m for m in lines if m.command == "FAIL"]
    assert not any(m.params[1] == "INVALID_MSGREFTYPE" for m in fails), lines


async def test_a_msgid_of_another_conversation_reveals_nothing(
    chat: Chat, clients: Clients
) -> None:
    carol = await connect(clients, chat.server, "carol", "#other")
    for line in (
        f"CHATHISTORY AROUND #other msgid={chat.msgid_of(5)} 10",
        f"CHATHISTORY AFTER #other msgid={chat.msgid_of(5)} 10",
    ):
        lines = await request(carol, line)
        assert not any(m.command == "PRIVMSG" for m in lines), lines


@pytest.mark.parametrize(
    "line",
    [
        "CHATHISTORY",
        "CHATHISTORY LATEST",
        f"CHATHISTORY LATEST {CHAN}",
        f"CHATHISTORY LATEST {CHAN} *",
        f"CHATHISTORY BETWEEN {CHAN} {BEFORE_ALL} 10",
        f"CHATHISTORY TARGETS {BEFORE_ALL} 10",
    ],
)
async def test_missing_parameters_are_refused(chat: Chat, line: str) -> None:
    lines = await request(chat.alice, line)

    # INVALID_PARAMS "SHOULD be returned"; "an existing error numeric such as
    # ERR_NEEDMOREPARAMS ... MAY be used instead".
    refusals = [
        m
        for m in lines
        if m.command == n.ERR_NEEDMOREPARAMS
        or (m.command == "FAIL" and m.params[1] in ("INVALID_PARAMS", "NEED_MORE_PARAMS"))
    ]
    assert len(refusals) == 1, lines
    assert not any(m.command == "BATCH" for m in lines), lines


@pytest.mark.parametrize(
    "line",
    [
        f"CHATHISTORY BEFORE {CHAN} {AFTER_ALL} {AFTER_ALL} 10",
        f"CHATHISTORY LATEST {CHAN} * * 10",
    ],
)
async def test_excess_parameters_get_fail_invalid_params(chat: Chat, line: str) -> None:
    # "e.g., an unknown subcommand, missing parameters, excess parameters ...
    # the INVALID_PARAMS error code SHOULD be returned"
    assert fail_of(await request(chat.alice, line)).params[1] == "INVALID_PARAMS"


async def test_hostile_targets_are_refused_and_the_server_goes_on(
    chat: Chat, clients: Clients
) -> None:
    mallory = await connect(clients, chat.server, "mallory")
    for target in (
        "#hist' OR '1'='1",
        "#%",
        "#_",
        "alice bob",
        "#" + "x" * 300,
        "'; DROP TABLE messages; --",
        "*",
    ):
        lines = await request(mallory, f"CHATHISTORY LATEST :{target} * 10")
        assert not any(m.command == "PRIVMSG" for m in lines), (target, lines)
    # alice and bob's history is intact, and everyone is still served.
    assert len((await history(chat.bob, f"CHATHISTORY LATEST {CHAN} * 100")).messages) == 10
    await chat.alice.send(f"PRIVMSG {CHAN} :still here")
    await chat.bob.read_until(lambda m: m.command == "PRIVMSG" and m.params[-1] == "still here")


async def test_hostile_texts_are_replayed_exactly(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, _ = clocked
    alice = await connect(clients, server, "alice", CHAN)
    hostile = [
        'it\'s "quoted"',
        "'); DROP TABLE messages; --",
        '" OR "1"="1',
        "100% _wild_ \\back\\slash",
        "Привет 👩‍👩‍👧‍👦 e\u0301 \u200b",
        "\x02bold\x02 \x0304red\x03 \x1b[2J",
        '["json"]',
        "x" * 400,
    ]
    await say(alice, CHAN, *hostile)
    await wait_stored_exactly(alice, CHAN, hostile[-1])

    assert (await history(alice, f"CHATHISTORY LATEST {CHAN} * 100")).texts == hostile


async def test_a_redacted_message_leaves_the_history(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    server, clock = clocked
    alice = await connect(
        clients, server, "alice", CHAN, caps=(*FULL_CAPS, "draft/message-redaction")
    )
    echoes = await say(alice, CHAN, *numbered(0, 1, 2), clock=clock)
    await wait_stored(alice, CHAN, 3)

    await alice.send(f"REDACT {CHAN} {echoes[1].tags['msgid']} :oops")
    await alice.read_until("REDACT")

    # A read right after the redaction no longer finds the message.
    got = await history(alice, f"CHATHISTORY LATEST {CHAN} * 100")
    assert got.texts == numbered(0, 2)


# -- TARGETS ---------------------------------------------------------------------------


def targets_of(lines: list[Message]) -> list[tuple[str, str]]:
    """The ``draft/chathistory-targets`` batch of a reply, as (name, time) pairs."""
    assert len(lines) >= 2, lines
    start, *inner, end = lines
    assert start.command == "BATCH", lines
    assert start.params[1:] == ("draft/chathistory-targets",), start
    reference = start.params[0].removeprefix("+")
    assert end.params == (f"-{reference}",), end
    found = []
    for message in inner:
        assert message.command == "CHATHISTORY", message
        assert message.params[0] == "TARGETS", message
        assert message.tags.get("batch") == reference, message
        # The time format is checked on its own below; here only its value counts.
        found.append((message.params[1], message.params[2].removeprefix("timestamp=")))
    return found


async def test_targets_lines_carry_a_bare_timestamp(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    # "CHATHISTORY TARGETS <nickname | channel name> <YYYY-MM-DDThh:mm:ss.sssZ>"
    server, clock = clocked
    alice = await connect(clients, server, "alice", "#one")
    (echo,) = await say(alice, "#one", "hello", clock=clock)
    await wait_stored(alice, "#one", 1)

    lines = await request(alice, f"CHATHISTORY TARGETS {BEFORE_ALL} {AFTER_ALL} 10")

    (line,) = [m for m in lines if m.command == "CHATHISTORY"]
    assert line.params == ("TARGETS", "#one", echo.tags["time"])


async def test_targets_lists_channels_and_private_chats_by_latest_message(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    # After irctest testChathistoryTargets.
    server, clock = clocked
    alice = await connect(clients, server, "alice", "#one", "#two")
    bob = await connect(clients, server, "bob", "#one")
    carol = await connect(clients, server, "carol", "#two")
    (one,) = await say(alice, "#one", "hello #one", clock=clock)
    (to_bob,) = await say(alice, "bob", "hello bob", clock=clock)
    (two,) = await say(alice, "#two", "hello #two", clock=clock)
    (from_carol,) = await say(carol, "alice", "hello alice", clock=clock)
    await wait_stored(alice, "carol", 1)
    at = {
        name: m.tags["time"]
        for name, m in zip(
            ("#one", "bob", "#two", "carol"), (one, to_bob, two, from_carol), strict=True
        )
    }

    everything = targets_of(
        await request(alice, f"CHATHISTORY TARGETS {BEFORE_ALL} {AFTER_ALL} 100")
    )
    assert everything == [(name, at[name]) for name in ("#one", "bob", "#two", "carol")]
    backwards = targets_of(
        await request(alice, f"CHATHISTORY TARGETS {AFTER_ALL} {BEFORE_ALL} 100")
    )
    assert backwards == everything
    limited = targets_of(await request(alice, f"CHATHISTORY TARGETS {BEFORE_ALL} {AFTER_ALL} 2"))
    assert [name for name, _ in limited] == ["#one", "bob"]
    window = targets_of(
        await request(
            alice, f"CHATHISTORY TARGETS timestamp={at['#one']} timestamp={at['carol']} 100"
        )
    )
    assert [name for name, _ in window] == ["bob", "#two"]
    # bob sees his channel and alice, not alice's other conversations.
    assert [
        name
        for name, _ in targets_of(
            await request(bob, f"CHATHISTORY TARGETS {BEFORE_ALL} {AFTER_ALL} 100")
        )
    ] == ["#one", "alice"]


async def test_targets_skips_a_target_whose_latest_message_is_outside_the_window(
    clocked: tuple[Server, Clock], clients: Clients
) -> None:
    # "a target is not returned if its latest message is outside of the selection
    # parameters, even if it has other messages inside them" (irctest
    # testChathistoryTargetsExcludesUpdatedTargets).
    server, clock = clocked
    alice = await connect(clients, server, "alice", "#one")
    echoes = await say(alice, "#one", "first", "second", "third", clock=clock)
    await wait_stored(alice, "#one", 3)

    everything = targets_of(
        await request(alice, f"CHATHISTORY TARGETS {BEFORE_ALL} {AFTER_ALL} 100")
    )
    assert everything == [("#one", echoes[2].tags["time"])]
    early = targets_of(
        await request(
            alice, f"CHATHISTORY TARGETS {BEFORE_ALL} timestamp={echoes[1].tags['time']} 100"
        )
    )
    assert early == []


# -- labels and clients without the capabilities ---------------------------------------


def without_label_batch(lines: list[Message], label: str) -> list[Message]:
    """The reply to a labeled command, with its labeled-response batch (if any) removed:
    either the chathistory batch carries the label on its BATCH + line, or a
    labeled-response batch wraps it."""
    first = lines[0]
    assert first.tags.get("label") == label, lines
    if first.command == "BATCH" and first.params[1:] == ("labeled-response",):
        reference = first.params[0].removeprefix("+")
        assert lines[-1].command == "BATCH", lines
        assert lines[-1].params == (f"-{reference}",), lines
        inner = lines[1:-1]
        # Each line of the reply is in the labeled batch or in a batch nested in it.
        assert inner[0].tags.get("batch") == reference, inner[0]
        assert inner[-1].tags.get("batch") == reference, inner[-1]
        return inner
    assert not any(m.tags.get("label") for m in lines[1:]), lines
    return lines


async def test_a_labeled_chathistory_returns_its_batch_labeled(chat: Chat) -> None:
    lines = await request(chat.alice, f"@label=h1 CHATHISTORY LATEST {CHAN} * 3")

    got = chathistory_batch(without_label_batch(lines, "h1"), CHAN)
    assert got.texts == numbered(7, 8, 9)


async def test_no_line_of_a_labeled_chathistory_repeats_a_tag(chat: Chat) -> None:
    # Each message belongs to one batch: the chathistory batch nested in the labeled
    # one (IRCv3 batch: the nested batch's BATCH lines carry the outer reference).
    await chat.alice.sync()
    await chat.alice.send(f"@label=h4 CHATHISTORY LATEST {CHAN} * 3", "PING raw")
    raw: list[bytes] = []
    async with asyncio.timeout(WAIT):
        while not (line := await chat.alice.reader.readline()).startswith(b":irc.test PONG"):
            assert line, raw
            raw.append(line)

    assert len(raw) >= 5, raw
    for line in raw:
        if line.startswith(b"@"):
            keys = [tag.split(b"=", 1)[0] for tag in line[1:].split(b" ", 1)[0].split(b";")]
            assert len(keys) == len(set(keys)), line


async def test_a_labeled_chathistory_with_an_empty_result_is_still_labeled(
    chat: Chat,
) -> None:
    lines = await request(chat.alice, f"@label=h2 CHATHISTORY AFTER {CHAN} {AFTER_ALL} 3")

    got = chathistory_batch(without_label_batch(lines, "h2"), CHAN)
    assert got.messages == []


async def test_a_labeled_refusal_carries_the_label(chat: Chat) -> None:
    lines = await request(chat.alice, "@label=h3 CHATHISTORY LATEST #elsewhere * 3")

    assert len(lines) == 1, lines
    assert lines[0].tags.get("label") == "h3"
    assert fail_of(lines).params[1] == "INVALID_TARGET"


async def test_a_client_without_tags_or_batch_gets_plain_messages(
    chat: Chat, clients: Clients
) -> None:
    # chathistory: "limited functionality is available to clients without support for
    # these CAPs", the batch is used "if the batch capability was negotiated"; tags are
    # "enabled via capability negotiation" (message-tags), and server-time's time tag
    # "MUST NOT" be sent "before acknowledging the client capability using CAP ACK".
    plain = await connect(clients, chat.server, "plainuser", CHAN, caps=())

    lines = await request(plain, f"CHATHISTORY LATEST {CHAN} * 3")

    assert [m.command for m in lines] == ["PRIVMSG"] * 3, lines
    assert [m.params for m in lines] == [(CHAN, t) for t in numbered(7, 8, 9)]
    assert all(not m.tags for m in lines), lines


# -- restarts --------------------------------------------------------------------------


async def test_history_survives_a_restart_on_the_same_data_folder(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with running_server(settings) as server:
        first = Clients()
        try:
            alice = await connect(first, server, "alice", CHAN)
            bob = await connect(first, server, "bob")
            echoes = await say(alice, CHAN, *numbered(*range(5)))
            private = await say(alice, "bob", "a secret")
            await say(bob, "alice", "kept")
            await wait_stored_exactly(alice, CHAN, "message 4")
        finally:
            await first.close_all()

    async with running_server(settings) as server:
        second = Clients()
        try:
            alice = await connect(second, server, "alice", CHAN)
            got = await history(alice, f"CHATHISTORY LATEST {CHAN} * 100")
            assert got.texts == numbered(*range(5))
            assert got.msgids == msgids(echoes)
            assert [m.tags["time"] for m in got.messages] == [m.tags["time"] for m in echoes]
            # Private history belongs to an account, or else to one session: whoever
            # holds the nick "alice" now, without logging in, cannot read it.
            chat = await history(alice, "CHATHISTORY LATEST bob * 100", "bob")
            assert chat.texts == []
            assert private[0].tags["msgid"] not in chat.msgids
            # And new messages join the old ones.
            await say(alice, CHAN, "after the restart")
            await wait_stored_exactly(alice, CHAN, "after the restart")
            got = await history(alice, f"CHATHISTORY LATEST {CHAN} * 100")
            assert got.texts == [*numbered(*range(5)), "after the restart"]
        finally:
            await second.close_all()


async def test_a_graceful_stop_stores_every_message_already_relayed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    relayed: list[str] = []
    async with running_server(settings) as server:
        first = Clients()
        try:
            alice = await connect(first, server, "alice", CHAN, caps=())
            bob = await connect(first, server, "bob", CHAN, caps=())
            await alice.send(*(f"PRIVMSG {CHAN} :burst {k}" for k in range(2000)))
            lines = await bob.read_until(
                lambda m: m.command == "PRIVMSG" and m.params[-1] == "burst 1999"
            )
            relayed = [m.params[-1] for m in lines if m.command == "PRIVMSG"]
        finally:
            await first.close_all()
    # Stopped at once: nothing waited for the writer.

    async with running_server(settings) as server:
        second = Clients()
        try:
            reader = await connect(second, server, "reader", CHAN)
            stored = await all_history(reader, CHAN, page=100)
        finally:
            await second.close_all()
    assert [m.params[-1] for m in stored] == relayed


async def all_history(client: LineClient, target: str, page: int) -> list[Message]:
    """Every stored message of ``target``, oldest first, paging back with msgids."""
    found = (await history(client, f"CHATHISTORY LATEST {target} * {page}", target)).messages
    older = found
    for _ in range(100_000 // page):
        if not older:
            return found
        oldest = found[0].tags["msgid"]
        line = f"CHATHISTORY BEFORE {target} msgid={oldest} {page}"
        older = (await history(client, line, target)).messages
        found = older + found
    raise AssertionError("history did not end")


# -- the plain door --------------------------------------------------------------------


class PlainReader:
    """A raw plain-door client, as ``nc`` would be."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, text: str) -> None:
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()

    async def read_until(self, match: Callable[[str], bool]) -> list[str]:
        seen: list[str] = []
        async with asyncio.timeout(WAIT):
            while True:
                raw = await self.reader.readline()
                if not raw:
                    raise EOFError(f"closed; saw {seen}")
                seen.append(raw.decode().rstrip("\n"))
                if match(seen[-1]):
                    return seen

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def plain_client(server: Server, name: str) -> AsyncIterator[tuple[PlainReader, list[str]]]:
    """A plain-door user called ``name``, and what it was shown up to the room listing
    (``/who``, sent right after the name: a barrier after the recent lines)."""
    host, port = server.plain_addresses[0]
    reader, writer = await asyncio.open_connection(host, port)
    peer = PlainReader(reader, writer)
    try:
        await peer.read_until(lambda line: line.startswith("Enter your name"))
        await peer.send(name)
        await peer.send("/who #lobby")
        shown = await peer.read_until(lambda line: line.startswith("In #lobby: "))
        yield peer, shown
    finally:
        await peer.close()


async def test_the_plain_door_shows_a_newcomer_the_last_lines_of_the_room(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path, plain_backlog=5)) as server:
        alice = await connect(clients, server, "alice", "#lobby")
        await say(alice, "#lobby", *(f"line {k}" for k in range(8)))
        await say(alice, "#lobby", "\x01ACTION waves\x01", "\x01VERSION\x01", "last \x1b[2Jline")
        await wait_stored_exactly(alice, "#lobby", "last \x1b[2Jline")

        async with plain_client(server, "newbie") as (_, shown):
            welcome = next(k for k, line in enumerate(shown) if line.startswith("Welcome, newbie"))
            recent = shown[welcome + 1 : -1]
        assert recent[0] == "Recently in #lobby:"
        # The last five messages; a CTCP other than ACTION is not shown.
        assert recent[1:4] == ["  alice: line 6", "  alice: line 7", "  * alice waves"]
        assert recent[4].startswith("  alice: last")
        assert "\x1b" not in recent[4]
        assert len(recent) == 5


async def test_a_line_said_while_a_newcomers_backlog_is_read_is_shown_once(
    tmp_path: Path, clients: Clients
) -> None:
    # The backlog holds what was said before the newcomer came in; what is said after
    # reaches them live. A line said while the backlog is read comes both ways: it was
    # shown twice, and before the older lines of the backlog.
    async with running_server(settings_for(tmp_path, plain_backlog=50)) as server:
        alice = await connect(clients, server, "alice", "#lobby")
        host, port = server.plain_addresses[0]
        reader, writer = await asyncio.open_connection(host, port)
        newbie = PlainReader(reader, writer)
        try:
            await newbie.read_until(lambda line: line.startswith("Enter your name"))
            await newbie.send("newbie")
            # Said as the newcomer arrives: some before its join, some after, some while
            # its backlog is read.
            for k in range(40):
                await alice.send(f"PRIVMSG #lobby :racing {k}")
            await alice.sync()
            await newbie.send("/who #lobby")
            shown = await newbie.read_until(lambda line: line.startswith("In #lobby: "))
        finally:
            await newbie.close()
        said = [line.strip() for line in shown if "racing" in line]
        assert said == [f"alice: racing {k}" for k in range(40)]


async def test_the_plain_door_shows_no_recent_lines_in_a_quiet_room(tmp_path: Path) -> None:
    async with (
        running_server(settings_for(tmp_path)) as server,
        plain_client(server, "first") as (_, shown),
    ):
        assert not any(line.startswith("Recently in") for line in shown)


async def test_the_plain_door_shows_recent_lines_after_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with running_server(settings) as server:
        first = Clients()
        try:
            alice = await connect(first, server, "alice", "#lobby")
            await say(alice, "#lobby", "before the restart")
            await wait_stored_exactly(alice, "#lobby", "before the restart")
        finally:
            await first.close_all()
    async with running_server(settings) as server, plain_client(server, "later") as (_, shown):
        assert "Recently in #lobby:" in shown
        assert "  alice: before the restart" in shown


# -- a real server process: hard kill, SIGTERM, a damaged database ---------------------


NO_UVLOOP = (
    "-c",
    "import sys; sys.modules['uvloop'] = None; from hubbub.cli import main; "
    "raise SystemExit(main(sys.argv[1:]))",
)


async def serve(
    processes: ServeProcesses,
    data: Path,
    *flags: str,
    python: Sequence[str] = ("-m", "hubbub"),
) -> ServeProcess:
    """``hubbub serve`` on 127.0.0.1, a port of its choosing, keeping its data in
    ``data``; killed after the test if still running."""
    return await processes.start(
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-plain",
        "--no-web",
        "--data-dir",
        str(data),
        "--server-name",
        "irc.proc.test",
        "--log-level",
        "info",
        "--trusted",
        "127.0.0.1",
        *flags,
        python=python,
        wait=WAIT,
    )


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "hubbub.toml"
    config.write_text("[limits]\nchathistory = 1000\n", encoding="utf-8")
    return config


async def open_client(port: int, nick: str, *caps: str) -> LineClient:
    client = await LineClient.open(port)
    if caps:
        await client.send(f"CAP REQ :{' '.join(caps)}")
        await client.read_until("CAP")
        await client.send("CAP END")
    await client.register(nick)
    await client.send("JOIN #burst")
    await client.read_until(n.RPL_ENDOFNAMES)
    await client.sync()
    return client


async def read_burst(
    watcher: LineClient, last: int, received: dict[int, float], seconds: float = WAIT
) -> None:
    """Read the burst's messages up to number ``last``, noting when each was read."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(seconds):
        while True:
            message = await watcher.read(seconds)
            if message is None:
                raise EOFError(f"closed before message {last}")
            if message.command == "PRIVMSG":
                number = int(message.params[-1])
                received[number] = loop.time()
                if number == last:
                    return


async def drain_until_closed(watcher: LineClient, received: dict[int, float]) -> None:
    """Whatever is left until the connection ends, noted as read now."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ConnectionError):
        async with asyncio.timeout(WAIT):
            while (message := await watcher.read(WAIT)) is not None:
                if message.command == "PRIVMSG":
                    received.setdefault(int(message.params[-1]), loop.time())


async def stored_burst(processes: ServeProcesses, data: Path, config: Path) -> list[int]:
    """Restart the server on ``data`` and read back #burst's history."""
    served = await serve(processes, data, "--config", str(config))
    reader = await open_client(
        await served.port(), "reader", "batch", "message-tags", "server-time"
    )
    try:
        stored = await all_history(reader, "#burst", page=1000)
    finally:
        await reader.close()
    served.process.terminate()
    assert await served.exit_code() == 0
    return [int(m.params[-1]) for m in stored]


async def burst_then_kill(
    processes: ServeProcesses, data: Path, config: Path, *flags: str
) -> tuple[dict[int, float], float, int]:
    """A steady burst into #burst, then SIGKILL with a chunk in flight: when the watcher
    read each message, when the kill came, and how many were sent."""
    loop = asyncio.get_running_loop()
    received: dict[int, float] = {}
    sent = 0
    served = await serve(processes, data, "--config", str(config), *flags)
    port = await served.port()
    sender = await open_client(port, "sender")
    watcher = await open_client(port, "watcher")
    try:
        started = loop.time()
        # Chunks of 100, each read by the watcher before the next: a steady burst.
        while loop.time() - started < 0.8 and sent < 50_000:
            await sender.send(*(f"PRIVMSG #burst :{k}" for k in range(sent, sent + 100)))
            sent += 100
            await read_burst(watcher, sent - 1, received)
        # One more chunk in flight, and the power goes out.
        await sender.send(*(f"PRIVMSG #burst :{k}" for k in range(sent, sent + 100)))
        sent += 100
        killed_at = loop.time()
        served.process.kill()
        await served.exit_code()
        await drain_until_closed(watcher, received)
    finally:
        await sender.close()
        await watcher.close()
    return received, killed_at, sent


async def test_after_sigkill_every_message_received_250ms_before_is_in_the_history(
    tmp_path: Path,
    serve_processes: ServeProcesses,
) -> None:
    data, config = tmp_path / "data", write_config(tmp_path)
    received, killed_at, sent = await burst_then_kill(serve_processes, data, config)

    stored = await stored_burst(serve_processes, data, config)

    must_have = {k for k, at in received.items() if at <= killed_at - 0.25}
    missing = sorted(must_have - set(stored))
    assert len(must_have) >= 500, f"only {len(must_have)} messages before the bound"
    assert not missing, (
        f"{len(missing)} of {len(must_have)} messages received 250 ms before the kill are "
        f"missing (first {missing[:10]}); {len(stored)} stored of {sent} sent"
    )
    # Nothing invented or repeated, and in the order it was said.
    assert stored == sorted(set(stored))
    assert set(stored) <= set(range(sent))


async def test_in_sync_mode_every_message_anyone_received_survives_sigkill(
    tmp_path: Path,
    serve_processes: ServeProcesses,
) -> None:
    data, config = tmp_path / "data", write_config(tmp_path)
    received, _, sent = await burst_then_kill(serve_processes, data, config, "--history-sync")

    stored = await stored_burst(serve_processes, data, config)

    missing = sorted(set(received) - set(stored))
    assert len(received) >= 500, f"only {len(received)} messages received"
    assert not missing, (
        f"{len(missing)} of {len(received)} messages received are missing "
        f"(first {missing[:10]}); {len(stored)} stored of {sent} sent"
    )
    assert stored == sorted(set(stored))
    assert set(stored) <= set(range(sent))


async def test_sigterm_during_a_burst_loses_nothing_that_was_relayed(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    data, config = tmp_path / "data", write_config(tmp_path)
    received: dict[int, float] = {}
    served = await serve(serve_processes, data, "--config", str(config))
    port = await served.port()
    sender = await open_client(port, "sender")
    watcher = await open_client(port, "watcher")
    try:
        await sender.send(*(f"PRIVMSG #burst :{k}" for k in range(300)))
        await read_burst(watcher, 299, received)
        await sender.send(*(f"PRIVMSG #burst :{k}" for k in range(300, 5000)))
        await read_burst(watcher, 400, received)
        served.process.terminate()
        await drain_until_closed(watcher, received)
        assert await served.exit_code() == 0
    finally:
        await sender.close()
        await watcher.close()
    assert not any("Traceback" in line for line in served.log), served.log

    stored = await stored_burst(serve_processes, data, config)

    missing = sorted(set(received) - set(stored))
    assert not missing, f"{len(missing)} of {len(received)} relayed messages lost: {missing[:10]}"
    assert stored == sorted(set(stored))


def write_garbage(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    garbage = random.Random(11).randbytes(32 * 1024)
    path.write_bytes(garbage)
    return garbage


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_a_corrupt_database_stops_the_server_with_a_clear_error(
    tmp_path: Path, serve_processes: ServeProcesses, loop: str
) -> None:
    data = tmp_path / "data"
    database = data / "hubbub.sqlite3"
    garbage = write_garbage(database)
    python = ("-m", "hubbub") if loop == "uvloop" else NO_UVLOOP

    served = await serve(serve_processes, data, python=python)
    code = await served.exit_code()

    assert code == 1, served.log
    assert not any("Traceback" in line for line in served.log), served.log
    errors = [line for line in served.log if line.startswith("hubbub: ")]
    assert len(errors) == 1, served.log
    assert "database" in errors[0]
    assert str(database) in errors[0]
    # The damaged file is left as it was, for the operator to look at.
    assert read_bytes(database) == garbage


async def test_a_database_from_a_newer_hubbub_stops_the_server_with_a_clear_error(
    tmp_path: Path,
    serve_processes: ServeProcesses,
) -> None:
    data = tmp_path / "data"
    make_newer_database(data / "hubbub.sqlite3")

    served = await serve(serve_processes, data)
    code = await served.exit_code()

    assert code == 1, served.log
    assert not any("Traceback" in line for line in served.log), served.log
    (error,) = [line for line in served.log if line.startswith("hubbub: ")]
    assert "newer" in error


def make_newer_database(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 999")
        db.commit()


async def alice_and_bob_in(server: Server, channel: str) -> tuple[LineClient, LineClient]:
    """Two plain clients, registered and in ``channel``."""
    port = server.addresses[0][1]
    alice, bob = await LineClient.open(port), await LineClient.open(port)
    for client, nick in ((alice, "alice"), (bob, "bob")):
        await client.register(nick)
        await client.send(f"JOIN {channel}")
        await client.read_until(n.RPL_ENDOFNAMES)
    return alice, bob


async def test_in_sync_mode_chat_replies_and_quits_work_as_usual(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).replace(history_sync=True)
    async with running_server(settings) as server:
        alice, bob = await alice_and_bob_in(server, "#sync")
        await alice.send("PRIVMSG #sync :stored first", "PRIVMSG bob :and this")
        got = await bob.read_until(lambda m: m.params[-1] == "and this")
        assert [m.params[-1] for m in got if m.command == "PRIVMSG"] == [
            "stored first",
            "and this",
        ]
        await alice.send("QUIT :bye")
        assert (await alice.read_until("ERROR"))[-1].command == "ERROR"
        assert await alice.read() is None
        quit_line = (await bob.read_until("QUIT"))[-1]
        assert quit_line.params == ("Quit: bye",)
        await alice.close()
        await bob.close()


async def test_chathistory_right_after_a_message_includes_it_whatever_the_flush_interval(
    tmp_path: Path, clients: Clients
) -> None:
    # With messages gathering for half a minute, only catching up can answer in time.
    async with running_server(settings_for(tmp_path, history_flush=30.0)) as server:
        alice = await connect(clients, server, "alice", CHAN)
        await say(alice, CHAN, "one", "two", "three")
        async with asyncio.timeout(WAIT):
            found = await history(alice, f"CHATHISTORY LATEST {CHAN} * 10")
        assert found.texts == ["one", "two", "three"]
        await say(alice, CHAN, "four")
        async with asyncio.timeout(WAIT):
            found = await history(alice, f"CHATHISTORY LATEST {CHAN} * 2")
        assert found.texts == ["three", "four"]


async def test_in_sync_mode_a_stuck_store_delays_output_only_so_long(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, history_sync_wait=0.3).replace(history_sync=True)
    async with running_server(settings) as server:
        alice, bob = await alice_and_bob_in(server, "#stuck")
        # Another program holds the database's write lock: commits wait for it.
        with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as lock:
            lock.execute("BEGIN EXCLUSIVE")
            with caplog.at_level(logging.ERROR, logger="hubbub.doors.output"):
                await alice.send("PRIVMSG #stuck :said while the disk is stuck")
                got = await bob.read_until("PRIVMSG", seconds=WAIT)
            assert got[-1].params[-1] == "said while the disk is stuck"
            assert "delivering them unstored" in caplog.text
            lock.execute("ROLLBACK")
        await alice.send("PRIVMSG #stuck :and after")
        assert (await bob.read_until("PRIVMSG"))[-1].params[-1] == "and after"
        await alice.close()
        await bob.close()
